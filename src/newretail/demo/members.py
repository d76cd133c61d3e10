"""Demo members: fast bulk seeding of a realistic member base for one organisation."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.events.models import OutboxMessage
from newretail.members.identifiers import identifier_hash, member_settings
from newretail.members.models import (
    ConsentChange,
    EarnRule,
    LedgerKind,
    LotState,
    Member,
    MemberConsent,
    MemberIdentifier,
    MemberSpend,
    MemberTier,
    PointsLedgerEntry,
    PointsLot,
)
from newretail.members.points.settings import expiry_for
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Brand, Store

CITIES = [("Shanghai", 0.35), ("Beijing", 0.3), ("Hangzhou", 0.2), ("Shenzhen", 0.15)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉兰萍红梅琳晨宇欣怡子涵浩然"
TIERS = [("Member", Decimal("0")), ("Silver", Decimal("2000")), ("Gold", Decimal("8000"))]
CHUNK = 5000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany in chunks (rows of one table must share their keys)."""
    keys = set().union(*(row.keys() for row in rows)) if rows else set()
    rows = [{key: row.get(key) for key in keys} for row in rows]
    for chunk in _chunks(rows):
        session.execute(model.__table__.insert(), chunk)


def _ensure_tiers_and_rules(session: Session, organization_id: uuid.UUID) -> list[MemberTier]:
    existing = {t.name: t for t in session.scalars(select(MemberTier))}
    for name, spend in TIERS:
        if name not in existing:
            tier = MemberTier(organization_id=organization_id, name=name, min_spend=spend)
            session.add(tier)
            existing[name] = tier
    ruled = set(session.scalars(select(EarnRule.brand_id)))
    for brand in session.scalars(select(Brand).order_by(Brand.code)):
        if brand.id not in ruled:
            session.add(
                EarnRule(
                    organization_id=organization_id,
                    brand_id=brand.id,
                    points_per_unit=Decimal(1),
                    product_multipliers={},
                    category_multipliers={"skincare": "2", "tea": "1.5"},
                    active=True,
                )
            )
    session.flush()
    return [existing[name] for name, _ in TIERS]


def seed_members(
    session: Session, organization_id: uuid.UUID, count: int, rng: random.Random
) -> int:
    """Bulk-create `count` members (phones, cities, consent, tiers, some points); returns count.

    Does nothing when the organisation already has members. Writes `member_join`,
    `consent_changed` and `points_changed` outbox events like the services do.
    """
    if session.scalar(select(func.count()).select_from(Member)) or count <= 0:
        return 0
    settings = member_settings(session, organization_id)
    time_zone = tenancy_service.organisation_zone(session, organization_id)
    default_tier, silver, gold = _ensure_tiers_and_rules(session, organization_id)
    stores = [s for s in session.scalars(select(Store).order_by(Store.code))]
    stores = [s for s in stores if s.channel_type != "warehouse"] or stores
    now = utcnow()
    phones: set[str] = set()
    while len(phones) < count:
        phones.add(f"+861{rng.randint(30, 39)}{rng.randint(0, 99_999_999):08d}")
    cities = [c for c, _ in CITIES]
    weights = [w for _, w in CITIES]
    members: list[dict[str, Any]] = []
    identifiers: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    spends: list[dict[str, Any]] = []
    lots: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for phone in sorted(phones):
        member_id = uuid.uuid4()
        joined_at = now - timedelta(days=rng.randint(1, 900), seconds=rng.randint(0, 86399))
        store = rng.choice(stores) if stores else None
        city = rng.choices(cities, weights)[0]
        roll = rng.random()
        tier = gold if roll < 0.05 else silver if roll < 0.25 else default_tier
        available = rng.choice([0, 0, 0, 100, 200, 500, 1200]) if roll < 0.6 else 0
        members.append(
            {
                "id": member_id,
                "organization_id": organization_id,
                "created_at": joined_at,
                "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2]))),
                "gender": rng.choice(["female", "female", "female", "male", None]),
                "birth_year": rng.randint(1965, 2005),
                "city": city,
                "phone": phone,
                "email": None,
                "status": "active",
                "joined_at": joined_at,
                "join_store_id": store.id if store else None,
                "join_channel": store.channel_type if store else "online",
                "join_brand_id": store.brand_id if store else None,
                "tier_id": tier.id,
                "tier_review_at": now + timedelta(days=rng.randint(1, 365)),
                "points_available": available,
                "points_locked": 0,
            }
        )
        identifiers.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "created_at": joined_at,
                "member_id": member_id,
                "identifier_type": "phone",
                "value_hash": identifier_hash(settings.identifier_secret, "phone", phone),
            }
        )
        events.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "created_at": now,
                "event_type": "member_join",
                "occurred_at": joined_at,
                "brand_id": store.brand_id if store else None,
                "store_id": store.id if store else None,
                "channel": store.channel_type if store else "online",
                "member_id": member_id,
                "properties": {},
            }
        )
        if tier is not default_tier:
            low = tier.min_spend
            spends.append(
                {
                    "id": uuid.uuid4(),
                    "organization_id": organization_id,
                    "created_at": now,
                    "member_id": member_id,
                    "reference": f"demo:{member_id}",
                    "amount": low + Decimal(rng.randint(0, 3000)),
                    "occurred_at": now - timedelta(days=rng.randint(1, 300)),
                }
            )
        if rng.random() < 0.4:
            changed_at = joined_at + timedelta(minutes=1)
            for channel in ("sms", "wechat"):
                row = {
                    "organization_id": organization_id,
                    "member_id": member_id,
                    "purpose": "marketing",
                    "channel": channel,
                    "granted": True,
                    "source": "pos" if store and store.channel_type != "online" else "api",
                }
                consents.append(
                    {**row, "id": uuid.uuid4(), "created_at": now, "updated_at": changed_at}
                )
                changes.append(
                    {
                        **row,
                        "id": uuid.uuid4(),
                        "created_at": now,
                        "actor": "demo",
                        "changed_at": changed_at,
                    }
                )
        if available:
            earned_at = now - timedelta(days=rng.randint(8, 60))
            lot_id = uuid.uuid4()
            lots.append(
                {
                    "id": lot_id,
                    "organization_id": organization_id,
                    "created_at": now,
                    "member_id": member_id,
                    "order_id": None,
                    "points": available,
                    "remaining": available,
                    "state": LotState.AVAILABLE,
                    "earned_at": earned_at,
                    "unlock_at": None,
                    "expires_at": max(expiry_for(settings, earned_at, time_zone), now),
                }
            )
            entries.append(
                {
                    "id": uuid.uuid4(),
                    "organization_id": organization_id,
                    "created_at": now,
                    "member_id": member_id,
                    "kind": LedgerKind.ADJUST,
                    "available_delta": available,
                    "locked_delta": 0,
                    "available_after": available,
                    "locked_after": 0,
                    "occurred_at": earned_at,
                    "lot_id": lot_id,
                    "reason": "demo welcome points",
                    "actor": "demo",
                }
            )
            events.append(
                {
                    "id": uuid.uuid4(),
                    "organization_id": organization_id,
                    "created_at": now,
                    "event_type": "points_changed",
                    "occurred_at": earned_at,
                    "member_id": member_id,
                    "properties": {"kind": "adjust", "available_delta": available},
                }
            )
    for change in changes:
        events.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "created_at": now,
                "event_type": "consent_changed",
                "occurred_at": change["changed_at"],
                "member_id": change["member_id"],
                "properties": {
                    "purpose": "marketing",
                    "channel": change["channel"],
                    "granted": True,
                    "source": change["source"],
                },
            }
        )
    _bulk(session, Member, members)
    _bulk(session, MemberIdentifier, identifiers)
    _bulk(session, MemberConsent, consents)
    _bulk(session, ConsentChange, changes)
    _bulk(session, MemberSpend, spends)
    _bulk(session, PointsLot, lots)
    _bulk(session, PointsLedgerEntry, entries)
    _bulk(session, OutboxMessage, events)
    session.flush()
    return len(members)


__all__ = ["seed_members"]
