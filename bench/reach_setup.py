"""The reach benchmark's organisation (bench/reach.py), set up before the timed run: its
counter stores open all day in Shanghai, an audience of `size` members stored as a refresh
stores it, marketing consent, 20 running campaigns with a 10 % holdout, each with an offer, a
large stage budget and a `counter_approach` trigger rule on one store and one beacon, and an
SMS webhook endpoint.

The audience is written by the refresh's own writer (`refreshing.store_version`: one
INSERT … SELECT of the members into the warehouse's `audience_member` table, the version then
named by the audience's row in the operational store, with its size history), from a member
list instead of compiled rules: compiling rules over 1M members would need those members'
events and attributes, which the decision does not read. The people who send events during
the run (`anon-N`) are resolved to their OneID members beforehand by the product's resolver
(`IdentityResolver.resolve_batch`, what the collector's loader calls for a new identifier);
the rest of the audience are member ids that send nothing during the run.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

import ibis
import pyarrow as pa
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench import harness
from newretail.audiences import refreshing
from newretail.audiences.models import Audience, AudienceSize
from newretail.audiences.tables import open_warehouse
from newretail.bootstrap import Container, bootstrap
from newretail.core.database import session_scope, utcnow
from newretail.core.localtime import local_day_bounds, today
from newretail.core.settings import Settings
from newretail.marketing import campaigns, offer_library
from newretail.marketing import schemas as marketing_schemas
from newretail.marketing.offer_specs import OfferSpec
from newretail.members.models import MemberConsent
from newretail.reach import endpoints, trigger_schemas, triggers
from newretail.reach import schemas as reach_schemas
from newretail.reach.secret_box import SecretBox
from newretail.tenancy.models import Role, Store
from newretail.tenancy.permissions import Principal, PrincipalKind

SHANGHAI = "Asia/Shanghai"
ALWAYS_OPEN = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CAMPAIGNS = 20
BEACONS = 5  # rule i listens to store i % 4 and beacon b{i // 4}: each event matches at most one
HOLDOUT_PERCENT = 10
IN_AUDIENCE = 0.9  # of the people who send events
WITH_CONSENT = 0.95
STAGE_ISSUE_LIMIT = 10_000_000
DAILY_CAP = 3
REENTRY_MINUTES = 5


@dataclass(frozen=True)
class Reach:
    """What the analysis needs to know of the set-up."""

    audience_size: int
    stage_campaign: dict[str, uuid.UUID]  # stage key -> campaign


def _owner(organization_id: uuid.UUID) -> Principal:
    return Principal.for_role(PrincipalKind.USER, organization_id, Role.OWNER, actor="bench")


def resolve_people(container: Container, organization_id: str, people: int) -> list[str]:
    """The OneID member of each person `anon-N` (created as the collector creates them)."""
    org, at, members = uuid.UUID(organization_id), utcnow(), []
    for start in range(0, people, 1000):
        lists = [[("anonymous_id", f"anon-{p}")] for p in range(start, min(people, start + 1000))]
        resolved = container.identity.resolve_batch(org, lists, at)
        members += [str(r.member_id) for r in resolved if r is not None]
    return members


def set_up(
    target: harness.Target, baseline: harness.Target, people: int, size: int, seed: int = 14
) -> Reach:
    """Everything the run decides with, on the target's stores (the server stopped); the
    baseline organisation's people resolved too (it has no rules)."""
    rng = random.Random(seed)
    settings = Settings(data_dir=target.data_dir, secret_key=harness.SECRET)
    container = bootstrap(settings)
    org = uuid.UUID(target.organization_id)
    resolve_people(container, baseline.organization_id, people)
    members = resolve_people(container, target.organization_id, people)
    owner = _owner(org)
    audience_id, version, now = uuid.uuid4(), uuid.uuid4().hex, utcnow()
    in_audience = [p for p in members if rng.random() < IN_AUDIENCE]
    listed = in_audience + [str(uuid.uuid4()) for _ in range(size - len(in_audience))]
    try:
        with open_warehouse(container.warehouse) as con:
            table = ibis.memtable(pa.table({"member_id": pa.array(listed, pa.string())}))
            stored, _ = refreshing.store_version(
                con, table, str(org), str(audience_id), None, version, now
            )
        with session_scope(container.sessions, org) as session:
            for store in session.scalars(select(Store)):
                store.opening_hours, store.time_zone = ALWAYS_OPEN, SHANGHAI
            day = today(SHANGHAI)
            session.add(
                Audience(
                    id=audience_id,
                    organization_id=org,
                    name="Browsed online, did not buy",
                    rules={},
                    version=version,
                    size=stored,
                    refreshed_at=now,
                    as_of=day,
                    created_by="bench",
                )
            )
            session.flush()
            session.add(
                AudienceSize(
                    organization_id=org,
                    audience_id=audience_id,
                    version=version,
                    size=stored,
                    joined=stored,
                    left=0,
                    as_of=day,
                    refreshed_at=now,
                    trigger="bench",
                )
            )
            _consent(session, org, [p for p in members if rng.random() < WITH_CONSENT])
            stage_campaign = _campaigns(session, owner, audience_id, target.store_ids)
            box = SecretBox.from_settings(settings)
            endpoints.create_endpoint(
                session,
                owner,
                box,
                reach_schemas.EndpointCreate(
                    name="SMS gateway", url="http://127.0.0.1:9/sms", purpose="sms"
                ),
            )
    finally:
        container.close()
    return Reach(stored, stage_campaign)


def _consent(session: Session, org: uuid.UUID, people: list[str]) -> None:
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "organization_id": org,
            "member_id": uuid.UUID(p),
            "purpose": "marketing",
            "channel": "sms",
            "granted": True,
            "source": "import",
            "updated_at": now,
        }
        for p in people
    ]
    for start in range(0, len(rows), 2000):
        session.execute(insert(MemberConsent), rows[start : start + 2000])


def _campaigns(
    session: Session, owner: Principal, audience_id: uuid.UUID, store_ids: list[str]
) -> dict[str, uuid.UUID]:
    """20 approved campaigns running today (Shanghai), one stage each, with their rules."""
    day = today(SHANGHAI)
    approved_at = local_day_bounds(day, SHANGHAI)[0] - timedelta(days=1)
    stage_campaign: dict[str, uuid.UUID] = {}
    for i in range(CAMPAIGNS):
        offer = offer_library.create_offer(
            session,
            owner,
            OfferSpec.model_validate(
                {
                    "code": f"COUNTER{i:02d}",
                    "name": f"Counter {i}: 50 off 300",
                    "benefit": {"kind": "threshold", "spend": "300.00", "save": "50.00"},
                    "combination_class": "order",
                }
            ),
        )
        campaign = campaigns.create_campaign(
            session,
            owner,
            marketing_schemas.CampaignIn(
                name=f"Counter reach {i}",
                holdout_percent=HOLDOUT_PERCENT,
                stages=[
                    marketing_schemas.StageIn(
                        name="Counter days",
                        first_day=day,
                        last_day=day + timedelta(days=1),
                        audience_ids=[audience_id],
                        offer_codes=[offer.code],
                        budget=marketing_schemas.BudgetLimits(issue_limit=STAGE_ISSUE_LIMIT),
                    )
                ],
            ),
        )
        campaigns.change_state(
            session,
            owner,
            campaign.id,
            marketing_schemas.CampaignChange.APPROVED,
            now=approved_at,
        )
        rule = {
            "name": f"Approach {i}",
            "campaign_id": campaign.id,
            "stage_position": 1,
            "event_types": ["counter_approach"],
            "store_ids": [store_ids[i % len(store_ids)]],
            "property_filters": [
                {"property": "beacon_id", "op": "equals", "value": f"b{i // len(store_ids)}"}
            ],
            "channel": "sms",
            "offer_code": offer.code,
            "reentry_minutes": REENTRY_MINUTES,
            "daily_cap": DAILY_CAP,
        }
        triggers.create_rule(
            session,
            owner,
            trigger_schemas.TriggerRuleIn.model_validate(rule),
        )
        stage_campaign[campaign.stages[0].stage_key] = campaign.id
    return stage_campaign
