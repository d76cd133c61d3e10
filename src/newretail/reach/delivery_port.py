"""The server's delivery port (`decisions.Deliver`) for a batch's treated decisions, each by
its rule's channel, with the names of its campaign, stage, offer and store (read once per
batch), in the caller's transaction (nothing is committed here; a rollback takes every row
back):

- `sms` · `push`: the webhooks of that purpose (`offer_delivery.deliver_by_webhook`: one
  delivery to each enabled endpoint, the store's and those of no store);
- `inbox`: a message in the member's inbox;
- `store_screen`: a message for the store's counter screen (kept in the member's inbox too)
  and the webhooks of the store systems; the store's screen feeds in this process are woken
  after the commit (other processes' feeds find it by polling).

Consent was checked by the engine (`no_consent`), so it is not checked again here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import partial

from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found
from newretail.core.domain_events import after_commit
from newretail.marketing.models import Campaign, Coupon, Offer
from newretail.reach import inbox, reads, screen_feed
from newretail.reach.decide import Channel
from newretail.reach.models import ReachDecision
from newretail.reach.offer_delivery import deliver_by_webhook

KEPT_IN_INBOX = frozenset({Channel.INBOX, Channel.STORE_SCREEN})


def offer_facts(session: Session, decision: ReachDecision, coupon: Coupon) -> inbox.OfferFacts:
    """The names a treated decision's offer is delivered with."""
    campaign = get_or_not_found(session, Campaign, decision.campaign_id, "campaign", field="id")
    stage = next(s for s in campaign.stages if s.position == decision.stage_position)
    offer = get_or_not_found(session, Offer, coupon.offer_id, "offer", field="offer_id")
    stores = reads.store_names(session, [decision.store_id])
    return inbox.OfferFacts(
        campaign_name=campaign.name,
        stage_name=stage.name,
        offer_code=offer.code,
        offer_name=offer.name,
        store_name=stores.get(decision.store_id) if decision.store_id else None,
    )


class ChannelDelivery:
    """`decisions.Deliver` by each rule's channel; the screen feeds it wakes are this
    process's (`screen_feed.BROADCASTER` unless given)."""

    def __init__(self, broadcaster: screen_feed.Broadcaster = screen_feed.BROADCASTER) -> None:
        self.broadcaster = broadcaster

    def __call__(self, session: Session, offers: Sequence[tuple[Coupon, ReachDecision]]) -> None:
        if not offers:
            return
        named: dict[tuple[object, ...], inbox.OfferFacts] = {}
        facts = []
        for coupon, decision in offers:
            key = (
                decision.campaign_id,
                decision.stage_position,
                coupon.offer_id,
                decision.store_id,
            )
            if key not in named:
                named[key] = offer_facts(session, decision, coupon)
            facts.append((coupon, decision, named[key]))
        deliver_by_webhook(session, facts)
        screens: set[uuid.UUID] = set()
        for coupon, decision, offer in facts:
            channel = Channel(decision.channel)
            if channel in KEPT_IN_INBOX:
                inbox.add_message(session, decision, coupon, offer)
            if channel is Channel.STORE_SCREEN and decision.store_id is not None:
                screens.add(decision.store_id)
        session.flush()
        organization_id = offers[0][1].organization_id
        for store_id in screens:
            # a wake-up only: the feeds read committed rows, so a savepoint rolled back after
            # this call leaves nothing to read and the wake-up finds nothing
            after_commit(session, partial(self.broadcaster.notify, organization_id, store_id))
