"""A single coupon issue that PostgreSQL chooses as a deadlock's victim: its transaction runs
again (`core.retry.retried`) and the coupon takes the member's next slot; raced with
real parallel connections."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from newretail.core import retry
from newretail.core.database import session_scope
from newretail.marketing import bulk_issue, coupons
from newretail.marketing.models import Budget, Coupon
from tests.conftest import Org
from tests.marketing.bulk_helpers import a_campaign
from tests.marketing.ledger_helpers import check_invariants
from tests.marketing.races import database_url, pg_org, postgres_sessions

pytestmark = pytest.mark.postgres
__all__ = ["database_url", "pg_org", "postgres_sessions"]


def _request(plan: bulk_issue.BulkPlan, key: str, member: uuid.UUID) -> coupons.Issue:
    return coupons.Issue(
        offer_id=plan.offer_id,
        issue_key=key,
        valid_from=plan.valid_from,
        valid_until=plan.valid_until,
        member_id=member,
        stage_key=plan.stage_key,
    )


def _waiting_for_a_lock(sessions: sessionmaker[Session], pid: object) -> None:
    """Until the single issue's session (by its pid, or any other of this database) waits
    for a lock."""
    for _ in range(300):
        with sessions() as session:
            found = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database() AND pid <> pg_backend_pid()"
                    " AND (CAST(:pid AS integer) IS NULL OR pid = :pid)"
                ),
                {"pid": pid},
            )
        if found:
            return
        time.sleep(0.02)
    raise AssertionError("the single issue never waited")


def _in_savepoints(session: Session, request: coupons.Issue, org_id: uuid.UUID) -> int | None:
    """The issue run again in its savepoint when chosen as a deadlock's victim (twice)."""
    for attempt in range(2):
        try:
            with session.begin_nested():
                return coupons.issue(session, org_id, request, "t").member_slot
        except DBAPIError as error:
            if attempt == 1 or retry.sqlstate(error) != "40P01":
                raise
    raise AssertionError("unreachable")


def run_deadlock(
    pg_org: Org,
    sessions: sessionmaker[Session],
    savepoints: bool = False,
    through: TestClient | None = None,
) -> dict[str, object]:
    """Another transaction issues the member a coupon of day 2 (slot 1, not committed yet);
    the single issue of the main day takes the main day's budget row and waits for that slot;
    the other transaction then issues on the main day too and waits for the budget row: a
    cycle, which the single issue (waiting longest) detects and is the victim of. `through`:
    the single issue is a request to the API (`POST …/stages/{stage_id}/coupons`)."""
    with session_scope(sessions, pg_org.id) as session:
        made = a_campaign(session, pg_org.id, stages=2, issue_limit=1000, per_member_limit=3)
        main, day_2 = made.stage(session, 1), made.stage(session, 2)
    member, someone = uuid.uuid4(), uuid.uuid4()
    outcome: dict[str, object] = {}
    started = threading.Event()

    def single() -> None:
        try:
            if through is not None:
                started.set()
                answer = through.post(
                    f"/api/v1/marketing/campaigns/{made.campaign.id}"
                    f"/stages/{made.campaign.stages[0].id}/coupons",
                    headers=pg_org.auth(),
                    json={"offer_code": made.offer.code, "member_ids": [str(member)]},
                )
                found = answer.json()
                outcome["answer"] = (answer.status_code, found.get("issued", found.get("code")))
                return

            def work(session: Session) -> int | None:
                outcome.setdefault("pid", session.scalar(text("SELECT pg_backend_pid()")))
                started.set()
                request = _request(main, "single", member)
                if savepoints:
                    return _in_savepoints(session, request, pg_org.id)
                return coupons.issue(session, pg_org.id, request, "t").member_slot

            outcome["slot"] = retry.retried(lambda: session_scope(sessions, pg_org.id), work)
        except Exception as error:  # the outcome the test compares
            outcome["error"] = type(error).__name__
            started.set()

    try:
        with session_scope(sessions, pg_org.id) as other:
            coupons.issue(other, pg_org.id, _request(day_2, "day-2", member), "t")
            thread = threading.Thread(target=single)
            thread.start()
            assert started.wait(30)
            _waiting_for_a_lock(sessions, outcome.get("pid"))
            coupons.issue(other, pg_org.id, _request(main, "main", someone), "t")
    except DBAPIError as error:  # the other side chosen as the victim
        outcome["other"] = type(error).__name__
    thread.join(60)
    outcome.pop("pid", None)
    with session_scope(sessions, pg_org.id) as session:
        slots = session.execute(
            select(Coupon.issue_key, Coupon.member_slot).order_by(Coupon.issue_key)
        ).all()
        # the API's issue key ends with the member's id: shown as the single issue's
        named = [("single" if key.endswith(str(member)) else key, n) for key, n in slots]
        outcome["coupons"] = sorted(named)
        outcome["issued"] = sorted(session.scalars(select(Budget.issued)).all())
        check_invariants(session)
    return outcome


def test_a_single_issue_chosen_as_a_deadlocks_victim_runs_again_in_a_new_transaction(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    assert run_deadlock(pg_org, postgres_sessions) == {
        "slot": 2,
        "coupons": [("day-2", 1), ("main", 1), ("single", 2)],
        "issued": [1, 2],
    }


def test_without_the_rerun_the_victim_fails(
    pg_org: Org, postgres_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race with one try only: the deadlock reaches the caller."""
    monkeypatch.setattr(retry, "ATTEMPTS", 1)
    assert run_deadlock(pg_org, postgres_sessions) == {
        "error": "OperationalError",
        "coupons": [("day-2", 1), ("main", 1)],
        "issued": [1, 1],
    }


def test_run_again_in_its_savepoint_the_victim_meets_the_same_deadlock(
    pg_org: Org, postgres_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the caller's transaction is what runs again: the other side waits for the single
    issue's whole transaction (the budget row was changed in a released savepoint), so a
    rollback to the issue's savepoint frees nothing and the rerun is chosen again."""
    monkeypatch.setattr(retry, "ATTEMPTS", 1)
    outcome = run_deadlock(pg_org, postgres_sessions, savepoints=True)
    # the rerun closes the same cycle: whichever side detects it is its victim and fails
    assert outcome in (
        {"error": "OperationalError", "coupons": [("day-2", 1), ("main", 1)], "issued": [1, 1]},
        {"other": "OperationalError", "slot": 1, "coupons": [("single", 1)], "issued": [0, 1]},
    )


def test_an_issue_request_chosen_as_a_deadlocks_victim_is_answered_after_its_rerun(
    pg_org: Org, postgres_sessions: sessionmaker[Session], client: TestClient
) -> None:
    """The API's request runs in its own transaction; the server runs it again
    (`core.retry.RerunOnConflict`) and answers as if nothing happened."""
    assert run_deadlock(pg_org, postgres_sessions, through=client) == {
        "answer": (200, 1),
        "coupons": [("day-2", 1), ("main", 1), ("single", 2)],
        "issued": [1, 2],
    }


def test_without_the_rerun_the_request_fails(
    pg_org: Org,
    postgres_sessions: sessionmaker[Session],
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same race with one try only: the deadlock reaches the client, as a 503
    `unavailable` (nothing was kept; the client sends it again), not a 500."""
    monkeypatch.setattr(retry, "ATTEMPTS", 1)
    assert run_deadlock(pg_org, postgres_sessions, through=client) == {
        "answer": (503, "unavailable"),
        "coupons": [("day-2", 1), ("main", 1)],
        "issued": [1, 1],
    }
