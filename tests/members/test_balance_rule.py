"""One points balance: the till's lookup, the points endpoint, the member endpoint, the console
page and the ledger view give the same figures, before and after the unlock/expiry jobs; and
the rule's Python and SQL forms agree."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.members import points, schemas, service
from newretail.members.models import LotState, Member, PointsLot
from tests.conftest import Org, console_login
from tests.members.conftest import org_session, owner_of

PHONE = "13800138000"


def _seed_member(container: Container, org: Org) -> uuid.UUID:
    """Stored (written) balance 763 available / 1,540 locked; as of now 1,200 / 1,003.

    - 100 granted 40 days ago, expired 10 days ago (a pending expiry);
    - 537 earned 10 days ago, return window ended 3 days ago (a pending unlock), expires in 20 days;
    - 1,003 earned yesterday, locked for 6 more days;
    - 663 granted 5 days ago, expiring in 25 days.
    """
    owner = owner_of(org)
    now = datetime.now(UTC)
    with org_session(container, org) as session:
        points.update_settings(
            session,
            owner,
            schemas.SettingsUpdate(return_window_days=7, expiry_mode="days", expiry_days=30),
        )
        points.create_earn_rule(
            session, owner, schemas.EarnRuleCreate(brand_id=org.brand_id, points_per_unit=1)
        )
        member = service.create_member(
            session, owner, schemas.MemberCreate(name="林霞", phone=PHONE)
        )
        points.grant_points(
            session, org.id, member.id, points=100, actor="tester", now=now - timedelta(days=40)
        )
        for days, amount in ((10, "537"), (1, "1003")):
            points.award_order_points(
                session,
                org.id,
                member.id,
                order_id=uuid.uuid4(),
                brand_id=org.brand_id,
                paid_at=now - timedelta(days=days),
                lines=[schemas.OrderLine(line_id="1", amount=Decimal(amount))],
            )
        points.grant_points(
            session, org.id, member.id, points=663, actor="tester", now=now - timedelta(days=5)
        )
        assert (member.points_available, member.points_locked) == (763, 1540)
        return member.id


def _figures(client: TestClient, org: Org, member_id: uuid.UUID) -> dict[str, Any]:
    auth = org.auth()
    lookup = client.get(
        "/api/v1/members/lookup", headers=auth, params={"type": "phone", "value": PHONE}
    ).json()
    member = client.get(f"/api/v1/members/{member_id}", headers=auth).json()
    balance = client.get(f"/api/v1/members/{member_id}/points", headers=auth).json()
    ledger = client.get(f"/api/v1/members/{member_id}/points/ledger", headers=auth).json()
    last = ledger["items"][-1]
    page = client.get(f"/console/members/{member_id}").text
    ledger_page = client.get(f"/console/members/{member_id}/ledger").text
    return {
        "lookup": (lookup["points_available"], lookup["points_locked"]),
        "member": (member["points_available"], member["points_locked"]),
        "points": (balance["available"], balance["locked"]),
        "ledger": (last["available_after"], last["locked_after"]),
        "console": (_dd(page, "points-available"), _dd(page, "points-locked")),
        "console ledger": _newest_balance(page),
        "ledger page": _newest_balance(ledger_page),
        "expiring": balance["next_expiry_points"],
        "ledger rows": [
            (e["id"], e["kind"], e["available_delta"], e["locked_delta"], e["occurred_at"])
            for e in ledger["items"]
        ],
        "pending": [e["kind"] for e in ledger["items"] if e["pending"]],
    }


def _dd(html: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">([0-9,]+)<', html)
    assert found, element_id
    return int(found.group(1).replace(",", ""))


def _newest_balance(html: str) -> tuple[int, int]:
    found = re.search(r'class="ledger-balance">([0-9,]+) / ([0-9,]+)<', html)
    assert found, "no ledger balance"
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


def test_every_reader_shows_one_balance_before_and_after_the_jobs(
    client: TestClient, container: Container, org: Org
) -> None:
    member_id = _seed_member(container, org)
    console_login(client, org.owner_email)
    one = (1200, 1003)

    before = _figures(client, org, member_id)
    for reader in ("lookup", "member", "points", "ledger", "console", "console ledger"):
        assert before[reader] == one, reader
    assert before["ledger page"] == one
    assert before["expiring"] == 537  # the locked 1,003 are not "expiring"
    assert before["pending"] == ["unlock", "expire"]

    with org_session(container, org) as session:  # this organisation's due lots only
        assert points.release_locked_points(session) == 1
        assert points.expire_points(session) == 1

    after = _figures(client, org, member_id)
    for reader in ("lookup", "member", "points", "ledger", "console", "console ledger"):
        assert after[reader] == one, reader
    assert after["ledger page"] == one
    assert after["expiring"] == 537
    assert after["pending"] == []
    assert after["ledger rows"] == before["ledger rows"]  # the jobs wrote what was pending
    with org_session(container, org) as session:
        assert points.check_invariants(session, member_id) == []
        redeemed = points.redeem_points(session, org.id, member_id, points=1200)
        assert (redeemed.available_after, redeemed.locked_after) == (0, 1003)


def test_next_expiry_never_counts_locked_points() -> None:
    now = datetime(2026, 11, 11, 12, tzinfo=UTC)
    lots = [
        _lot(LotState.LOCKED, 50, unlock_at=now + timedelta(days=3), expires_at=now + timedelta(1)),
        _lot(LotState.AVAILABLE, 20, unlock_at=None, expires_at=now + timedelta(days=9)),
        _lot(LotState.LOCKED, 30, unlock_at=now, expires_at=now + timedelta(days=9)),
    ]
    assert points.balance_of_lots(lots, now) == points.Balance(50, 50, now + timedelta(9), 50)


def _lot(
    state: LotState,
    remaining: int,
    *,
    unlock_at: datetime | None,
    expires_at: datetime,
    member_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> PointsLot:
    return PointsLot(
        id=uuid.uuid4(),
        organization_id=organization_id,
        member_id=member_id,
        points=remaining + 5,
        remaining=remaining,
        state=state,
        earned_at=expires_at - timedelta(days=400),
        unlock_at=unlock_at,
        expires_at=expires_at,
    )


def test_python_and_sql_forms_of_the_rule_agree(container: Container, org: Org) -> None:
    """Random lots of 12 members around one instant: both forms give the same balance."""
    rng = random.Random(11)
    now = datetime(2026, 11, 11, 0, 30, tzinfo=UTC)
    around = [now + timedelta(hours=h) for h in (-48, -1, 0, 1, 48)]
    owner = owner_of(org)
    with org_session(container, org) as session:
        members = [
            service.create_member(session, owner, schemas.MemberCreate(name=f"m{i}")).id
            for i in range(12)
        ]
        lots: dict[uuid.UUID, list[PointsLot]] = {m: [] for m in members}
        for _ in range(240):
            member_id = rng.choice(members)
            lot = _lot(
                rng.choice(list(LotState)),
                rng.choice([0, 1, 7, 40]),
                unlock_at=rng.choice([None, *around]),
                expires_at=rng.choice(around),
                member_id=member_id,
                organization_id=org.id,
            )
            lots[member_id].append(lot)
            session.add(lot)
        session.flush()
        in_sql = points.balances(session, members, now)
        in_python = {m: points.balance_of_lots(lots[m], now) for m in members}
        assert in_sql == in_python
        column = points.available_points_column(now)
        rows = session.execute(select(Member.id, column).where(Member.id.in_(members)))
        per_member = {member_id: available for member_id, available in rows}
        assert per_member == {m: in_python[m].available for m in members}
        assert sum(b.available + b.locked for b in in_sql.values()) > 0
        assert any(b.next_expiry_points for b in in_sql.values())


def test_a_merged_member_shows_one_balance_everywhere(
    client: TestClient, container: Container, org: Org
) -> None:
    """After a OneID merge the survivor's figures are the sum of both sides' by the one rule,
    in every reader, before and after the jobs (the merged side's ledger adds up too)."""
    survivor = _seed_member(container, org)  # 1,200 available / 1,003 locked as of now
    now = datetime.now(UTC)
    with org_session(container, org) as session:
        other = service.create_member(
            session, owner_of(org), schemas.MemberCreate(name="Lin", member_card="card-9")
        )
        points.award_order_points(  # 70 past its window (pending unlock), expiring in 22 days
            session,
            org.id,
            other.id,
            order_id=uuid.uuid4(),
            brand_id=org.brand_id,
            paid_at=now - timedelta(days=8),
            lines=[schemas.OrderLine(line_id="1", amount=Decimal("70"))],
        )
        points.grant_points(session, org.id, other.id, points=30, actor="tester", now=now)
        other_id = other.id
    merged = client.post(
        "/api/v1/identity/merges",
        headers=org.auth(),
        json={"member_id": str(other_id), "other_member_id": str(survivor)},
    )
    assert merged.status_code == 201, merged.text
    assert merged.json()["survivor_id"] == str(survivor)
    console_login(client, org.owner_email)
    one = (1300, 1003)

    before = _figures(client, org, survivor)
    for reader in ("lookup", "member", "points", "ledger", "console", "console ledger"):
        assert before[reader] == one, reader
    assert before["expiring"] == 537  # the soonest available lot (the 70 expire two days later)
    with org_session(container, org) as session:  # this organisation's due lots only
        assert points.release_locked_points(session) == 2
        assert points.expire_points(session) == 1
    after = _figures(client, org, survivor)
    for reader in ("lookup", "member", "points", "ledger", "console", "console ledger"):
        assert after[reader] == one, reader
    with org_session(container, org) as session:
        assert points.check_invariants(session, survivor) == []
