"""The delivery port of the decision engine wired to the webhooks queue: a treated decision's
offer goes, in the decision's transaction, to every enabled endpoint of the channel's purpose
(the store's and those of no store) as an `offer.delivered` message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newretail.marketing.models import Coupon
from newretail.reach import deliveries
from newretail.reach.decide import Channel
from newretail.reach.models import EndpointPurpose, ReachDecision

OFFER_DELIVERED = "offer.delivered"
# which endpoints a channel's offers go to; the inbox has none (the member reads the coupon
# from their account)
PURPOSES = {
    Channel.SMS: EndpointPurpose.SMS,
    Channel.PUSH: EndpointPurpose.PUSH,
    Channel.STORE_SCREEN: EndpointPurpose.STORE_SYSTEM,
}


def offer_payload(coupon: Coupon, decision: ReachDecision) -> dict[str, str | int | None]:
    """What a receiver needs to show or send the offer: who, which coupon until when, where,
    and the decision and event it answers."""
    return {
        "decision_id": str(decision.id),
        "event_id": decision.event_id,
        "member_id": str(decision.member_id),
        "coupon_id": str(coupon.id),
        "offer_id": str(coupon.offer_id),
        "valid_until": coupon.valid_until.isoformat(),
        "campaign_id": str(decision.campaign_id),
        "stage_position": decision.stage_position,
        "channel": decision.channel,
        "store_id": None if decision.store_id is None else str(decision.store_id),
    }


def deliver_by_webhook(session: Session, coupon: Coupon, decision: ReachDecision) -> None:
    """Queue the treated decision's offer to the channel's endpoints (none for the inbox)."""
    purpose = PURPOSES.get(Channel(decision.channel))
    if purpose is None:
        return
    deliveries.enqueue(
        session,
        decision.organization_id,
        OFFER_DELIVERED,
        offer_payload(coupon, decision),
        purpose,
        store_id=decision.store_id,
    )
