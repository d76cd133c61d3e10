"""Coupons follow OneID: a merge moves the merged member's coupons to the survivor, an undo
gives back exactly those (through the real merge API)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing.models import Coupon, CouponLedgerEntry
from tests.conftest import Org
from tests.marketing.ledger_helpers import a_coupon


def test_a_merge_moves_coupons_and_an_undo_gives_them_back(
    client: TestClient, container: Container, org: Org
) -> None:
    ids = []
    for body in ({"name": "Older", "phone": "13800138001"}, {"name": "Newer", "email": "n@x.cn"}):
        created = client.post("/api/v1/members", headers=org.auth(), json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    survivor, merged = ids
    with session_scope(container.sessions, org.id) as session:
        a_coupon(session, org.id, "survivor-1", member_id=uuid.UUID(survivor))
        for n in range(2):
            a_coupon(session, org.id, f"merged-{n}", member_id=uuid.UUID(merged))
    merge = client.post(
        "/api/v1/identity/merges",
        headers=org.auth(),
        json={"member_id": merged, "other_member_id": survivor},
    )
    assert merge.status_code == 201, merge.text
    survivor = merge.json()["survivor_id"]
    assert set(held(container, org).values()) == {survivor}  # all three coupons
    undo = client.post(f"/api/v1/identity/merges/{merge.json()['id']}/undo", headers=org.auth())
    assert undo.status_code == 200, undo.text
    assert held(container, org) == {"survivor-1": ids[0], "merged-0": ids[1], "merged-1": ids[1]}
    with session_scope(container.sessions, org.id) as session:
        moves = session.scalars(
            select(CouponLedgerEntry.change).where(CouponLedgerEntry.change == "moved")
        ).all()
    assert len(moves) == 4  # two coupons there and back


def held(container: Container, org: Org) -> dict[str, str]:
    with session_scope(container.sessions, org.id) as session:
        return {
            key: str(member)
            for key, member in session.execute(select(Coupon.issue_key, Coupon.member_id)).all()
        }
