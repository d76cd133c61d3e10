"""The delivery port of the decision engine wired to the webhooks queue: a treated decision's
offer goes, in the decision's transaction, to every enabled endpoint of the channel's purpose
(the store's and those of no store) as an `offer.delivered` message."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from newretail.marketing.models import Coupon
from newretail.reach import deliveries
from newretail.reach.decide import Channel
from newretail.reach.inbox import OfferFacts
from newretail.reach.models import EndpointPurpose, ReachDecision

OFFER_DELIVERED = "offer.delivered"
# which endpoints a channel's offers go to; the inbox has none (the member reads the coupon
# from their account)
PURPOSES = {
    Channel.SMS: EndpointPurpose.SMS,
    Channel.PUSH: EndpointPurpose.PUSH,
    Channel.STORE_SCREEN: EndpointPurpose.STORE_SYSTEM,
}


def offer_payload(
    coupon: Coupon, decision: ReachDecision, facts: OfferFacts
) -> dict[str, str | int | None]:
    """What a receiver needs to show or send the offer, by name and by id: who, which offer
    and coupon until when, where, and the campaign, decision and event it answers."""
    return {
        "decision_id": str(decision.id),
        "event_id": decision.event_id,
        "member_id": str(decision.member_id),
        "coupon_id": str(coupon.id),
        "offer_id": str(coupon.offer_id),
        "offer_code": facts.offer_code,
        "offer_name": facts.offer_name,
        "valid_until": coupon.valid_until.isoformat(),
        "campaign_id": str(decision.campaign_id),
        "campaign_name": facts.campaign_name,
        "stage_position": decision.stage_position,
        "stage_name": facts.stage_name,
        "channel": decision.channel,
        "store_id": None if decision.store_id is None else str(decision.store_id),
        "store_name": facts.store_name,
    }


def deliver_by_webhook(
    session: Session, offers: Sequence[tuple[Coupon, ReachDecision, OfferFacts]]
) -> None:
    """Queue the treated decisions' offers to their channels' endpoints (none for the inbox)."""
    messages = [
        deliveries.Outgoing(offer_payload(coupon, decision, facts), purpose, decision.store_id)
        for coupon, decision, facts in offers
        if (purpose := PURPOSES.get(Channel(decision.channel))) is not None
    ]
    if messages:
        organization_id = offers[0][1].organization_id
        deliveries.enqueue_many(session, organization_id, OFFER_DELIVERED, messages)
