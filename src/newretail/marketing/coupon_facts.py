"""What a coupon's fact (`coupon_<change>` in the outbox) says, in one place for the three
writers: `coupons.record` (one coupon), `new_coupons.issue_new` (bulk rows) and
`bulk_issue` (SQL, where the database makes the coupon ids)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from sqlalchemy.orm import Session

from newretail.marketing.models import Campaign, Offer

_ID_MARK = "coupon id"  # where SQL writes the coupon id into the properties' JSON text


def names_of(session: Session, offer_id: uuid.UUID, stage_key: str | None) -> dict[str, str]:
    """What a coupon fact says besides the coupon: the offer, campaign and stage, by id and by
    the names people read (the session keeps the rows, so a batch reads them once)."""
    properties = {"offer_id": str(offer_id)}
    offer = session.get(Offer, offer_id)
    if offer is not None:
        properties["offer"] = offer.name
    if stage_key is not None:
        campaign_id, position = stage_key.split(":", 1)
        properties["campaign_id"], properties["stage_position"] = campaign_id, position
        campaign = session.get(Campaign, uuid.UUID(campaign_id))
        if campaign is not None:
            properties["campaign"] = campaign.name
            stage = next((s for s in campaign.stages if str(s.position) == position), None)
            if stage is not None:
                properties["stage"] = stage.name
    return properties


def properties(
    coupon_id: str,
    names: Mapping[str, str],
    *,
    order_ref: str | None = None,
    reason: str | None = None,
) -> dict[str, str]:
    """A coupon fact's properties: the coupon first, then its `names`, then the order and the
    reason where the change has them."""
    said = {"coupon_id": coupon_id, **names}
    if order_ref is not None:
        said["order_ref"] = order_ref
    if reason is not None:
        said["reason"] = reason
    return said


def properties_json_around_id(names: Mapping[str, str]) -> tuple[str, str]:
    """`properties` as JSON text for SQL to finish: the text before the coupon id and after it
    (the id goes in as a JSON string's content)."""
    text = json.dumps(properties(_ID_MARK, names), ensure_ascii=False)
    before, after = text.split(_ID_MARK, 1)  # the coupon id is the first value
    return before, after
