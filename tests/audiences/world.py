"""Members in the operational store and their events in the warehouse, for the API tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.members import consent as member_consent
from newretail.members import schemas as member_schemas
from newretail.members import service as member_service
from newretail.members.models import ConsentSource, Member, MemberTier
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org
from tests.databank.history import event, load


def owner(org: Org) -> Principal:
    return Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")


@dataclass
class World:
    ids: list[str]  # member ids in creation order
    carted: list[str]  # added to cart in the last 30 days and did not buy


def make_members(
    container: Container,
    org: Org,
    count: int,
    *,
    consent_every: int = 2,
    city_of: Any = None,
) -> list[str]:
    """`count` members with a phone and a card; every `consent_every`-th grants marketing."""
    ids: list[str] = []
    with session_scope(container.sessions, org.id) as session:
        gold = MemberTier(organization_id=org.id, name="Gold", min_spend=Decimal("1000"))
        session.add(gold)
        session.flush()
        for index in range(count):
            member = member_service.create_member(
                session,
                owner(org),
                member_schemas.MemberCreate(
                    name=f"Member {index}",
                    phone=f"+86139{index:08d}",
                    member_card=f"CARD{index:05d}",
                    city=city_of(index) if city_of else ("Shanghai" if index % 2 else "Beijing"),
                    gender="female" if index % 3 else "male",
                    birth_year=1990 + index % 20,
                ),
            )
            if index % 4 == 0:
                session.get(Member, member.id).tier_id = gold.id  # type: ignore[union-attr]
            if index % consent_every == 0:
                member_consent.apply_consent(
                    session,
                    member,
                    member_consent.marketing_everywhere(True),
                    source=ConsentSource.API,
                    actor="test",
                )
            ids.append(str(member.id))
    return ids


def load_events(container: Container, rows: list[dict[str, Any]]) -> None:
    con = container.warehouse.connection()
    with container.warehouse.lock:
        load(con, rows)


def cart_history(org: Org, members: list[str], on: date, buyers: set[str]) -> list[dict[str, Any]]:
    """Every member adds to cart on `on`; `buyers` also buy that day."""
    brand = str(org.brand_id)
    rows = [event(str(org.id), "add_to_cart", on, m, brand, channel="online") for m in members]
    rows += [event(str(org.id), "purchase", on, m, brand, channel="store") for m in buyers]
    return rows


def new_id() -> str:
    return str(uuid.uuid4())
