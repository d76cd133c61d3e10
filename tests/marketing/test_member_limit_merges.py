"""The per-member limit at a OneID merge (through the real merge and undo API): the merged
member's coupons follow the survivor after its own; those above the limit and unused are
withdrawn with the reason `member_limit`, their issue budget given back."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.marketing import bulk_issue
from newretail.marketing.models import Budget, Coupon, CouponLedgerEntry
from tests.conftest import Org
from tests.marketing.bulk_helpers import a_campaign
from tests.marketing.ledger_helpers import check_invariants


def test_a_merge_withdraws_the_coupons_above_the_limit_and_an_undo_returns_them(
    client: TestClient, container: Container, org: Org
) -> None:
    ids = []
    for body in ({"name": "Older", "phone": "13800138011"}, {"name": "Newer", "email": "m@x.cn"}):
        created = client.post("/api/v1/members", headers=org.auth(), json=body)
        assert created.status_code == 201, created.text
        ids.append(uuid.UUID(created.json()["id"]))
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, stages=3, issue_limit=100, per_member_limit=2)
        # the older member holds coupons of stages 1 and 2, the newer of stages 2 and 3
        for position, holders in ((1, ids[:1]), (2, ids), (3, ids[1:])):
            report = bulk_issue.issue_batch(session, made.stage(session, position), holders)
            assert report.issued == len(holders)
    merge = client.post(
        "/api/v1/identity/merges",
        headers=org.auth(),
        json={"member_id": str(ids[1]), "other_member_id": str(ids[0])},
    )
    assert merge.status_code == 201, merge.text
    survivor = uuid.UUID(merge.json()["survivor_id"])
    merged = ids[1] if survivor == ids[0] else ids[0]

    def coupons_by_stage() -> list[tuple[str, str, str, int | None]]:
        with session_scope(container.sessions, org.id) as session:
            rows = session.execute(
                select(Coupon.stage_key, Coupon.member_id, Coupon.state, Coupon.member_slot)
            ).all()
        names = {str(m): n for m, n in ((survivor, "survivor"), (merged, "merged"))}
        return sorted((k.split(":")[1], names[str(m)], s, slot) for k, m, s, slot in rows)

    # the survivor keeps its two; the merged member's two follow in slots 3 and 4, withdrawn
    survivor_stages = {"1", "2"} if survivor == ids[0] else {"2", "3"}
    merged_stages = [*sorted({"1", "2", "3"} - survivor_stages), "2"]
    after = coupons_by_stage()
    assert [(m, s) for _, m, s, _ in after].count(("survivor", "issued")) == 2
    assert [(m, s) for _, m, s, _ in after].count(("survivor", "voided")) == 2
    assert sorted(slot for *_, slot in after) == [1, 2, 3, 4]
    assert sorted(k for k, _, s, slot in after if s == "voided") == sorted(merged_stages)
    assert all((slot or 0) <= 2 for _, _, s, slot in after if s == "issued")  # the survivor's own
    with session_scope(container.sessions, org.id) as session:
        voids = session.execute(
            select(
                CouponLedgerEntry.change, CouponLedgerEntry.actor, CouponLedgerEntry.reason
            ).where(CouponLedgerEntry.change == "voided")
        ).all()
        assert voids == [("voided", "oneid", "member_limit")] * 2
        facts = session.scalars(
            select(OutboxMessage.properties).where(OutboxMessage.event_type == "coupon_voided")
        ).all()
        assert [f["reason"] for f in facts] == ["member_limit", "member_limit"]
        spent = dict(session.execute(select(Budget.stage_key, Budget.issued)).all())
        stage_of = {key.split(":")[1]: n for key, n in spent.items()}
        expected = {"1": 1, "2": 2, "3": 1}
        for stage in merged_stages:
            expected[stage] -= 1  # the withdrawn coupons' issue budget is given back
        assert stage_of == expected
        check_invariants(session)

    undo = client.post(f"/api/v1/identity/merges/{merge.json()['id']}/undo", headers=org.auth())
    assert undo.status_code == 200, undo.text
    restored = coupons_by_stage()
    assert sorted((k, m, s) for k, m, s, _ in restored) == sorted(
        [(k, "survivor", "issued") for k in survivor_stages]
        + [(k, "merged", "voided") for k in merged_stages]
    )
    # back with their member, in slots 1 and 2 again
    assert sorted(slot for _, m, _, slot in restored if m == "merged") == [1, 2]
