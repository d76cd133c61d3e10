"""Bulk issue of coupons to an audience on PostgreSQL: seconds for N coupons to N members
(1,000,000; `--quick` 100,000) through `marketing.bulk_issue` (batches of 20,000 members, one
transaction each: coupons, ledger rows, `coupon_issued` facts in the outbox, the budget spent
by a guarded UPDATE), the stage's budget exactly N. Beside it, in the same run: a plain
`INSERT … SELECT` of the same coupon rows into a scratch table without indexes or constraints
(`baseline_insert_s`), a second bulk issue of the same members (it must issue nothing:
`rerun_issued` 0, `rerun_s`), the CPU seconds the bulk issue cost the PostgreSQL backend and
this process (`bulk_issue_backend_cpu_s`, `bulk_issue_client_cpu_s`: on a busy machine the
wall time is longer than their sum, on an idle one close to it), and the same bulk issue at a
tenth of the size on SQLite, the embedded store (`sqlite_bulk_issue_s`). The members are real
member rows, each with marketing consent on one channel, so the bulk issue's consent read (one
query per batch, `members.consent.consenting`) is part of the timed work.

Runs alone: `python bench/marketing_bulk.py [--quick]` (PYTHONPATH=src). It creates a
throw-away PostgreSQL database (NEWRETAIL_BENCH_POSTGRES_URL, default
postgres@127.0.0.1:5432) and drops it afterwards. `run(quick)` returns the figures (used by
bench/marketing.py); the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.scratch_db import bench_owner, throwaway_database
from newretail import handlers
from newretail.core import migrate
from newretail.core.database import (
    create_db_engine,
    make_session_factory,
    session_scope,
    utcnow,
)
from newretail.events.models import OutboxMessage
from newretail.marketing import bulk_issue, campaigns, offer_library, schemas, stage_coupons
from newretail.marketing.models import Budget, Coupon, CouponLedgerEntry
from newretail.marketing.offer_specs import OfferSpec
from newretail.members.models import ConsentChannel, ConsentPurpose, Member, MemberConsent

handlers.install()  # the members' consent rule the bulk issue asks (marketing.consent_port)

FULL = 1_000_000
QUICK = 100_000


def setup(sessions: sessionmaker[Session], size: int) -> bulk_issue.BulkPlan:
    """An organisation, an offer, an approved campaign whose stage may issue `size` coupons."""
    with session_scope(sessions) as session:
        owner = bench_owner(session)
        offer = offer_library.create_offer(
            session,
            owner,
            OfferSpec.model_validate(
                {
                    "code": "D11",
                    "name": "Double 11: spend 300 save 40",
                    "benefit": {"kind": "threshold", "spend": "300", "save": "40"},
                    "combination_class": "order",
                }
            ),
        )
        start = date.today() + timedelta(days=30)
        stage = schemas.StageIn(
            name="Main day",
            first_day=start,
            last_day=start,
            offer_codes=[offer.code],
            budget=schemas.BudgetLimits(issue_limit=size),
        )
        campaign = campaigns.create_campaign(
            session, owner, schemas.CampaignIn(name="Double 11", stages=[stage])
        )
        campaigns.change_state(session, owner, campaign.id, schemas.CampaignChange.APPROVED)
        return stage_coupons.stage_plan(
            session, owner, campaign.id, campaign.stages[0].id, offer.code
        )


def consenting_members(
    sessions: sessionmaker[Session], organization_id: uuid.UUID, count: int
) -> list[uuid.UUID]:
    """`count` members, each with marketing consent on WeChat (the bulk issue reads it): the
    rows go in by executemany, outside the timed part."""
    ids = [uuid.uuid4() for _ in range(count)]
    now = utcnow()
    with session_scope(sessions, organization_id) as session:
        for start in range(0, count, 20_000):
            chunk = ids[start : start + 20_000]
            session.execute(
                insert(Member),
                [{"id": m, "organization_id": organization_id, "joined_at": now} for m in chunk],
            )
            session.execute(
                insert(MemberConsent),
                [
                    {
                        "organization_id": organization_id,
                        "member_id": m,
                        "purpose": ConsentPurpose.MARKETING.value,
                        "channel": ConsentChannel.WECHAT.value,
                        "granted": True,
                        "source": "import",
                        "updated_at": now,
                    }
                    for m in chunk
                ],
            )
    return ids


def issue_all(
    sessions: sessionmaker[Session], plan: bulk_issue.BulkPlan, members: list[uuid.UUID]
) -> tuple[float, bulk_issue.BulkReport]:
    started = time.perf_counter()
    report = bulk_issue.BulkReport()
    for progress in bulk_issue.in_batches(
        lambda: session_scope(sessions, plan.organization_id), plan, members
    ):
        report = progress.report
    return time.perf_counter() - started, report


def backend_cpu_s(engine: Engine) -> tuple[int, float]:
    """The PostgreSQL backend behind the engine's (one) pooled connection and the CPU seconds
    it has used (user + system, from /proc: the database runs on this machine)."""
    with engine.connect() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def baseline_insert(engine: Engine, plan: bulk_issue.BulkPlan, members: list[uuid.UUID]) -> float:
    """The same coupon rows by a plain INSERT … SELECT from the same arrays, in the same
    batches, into a table without indexes or constraints."""
    batch = bulk_issue.BATCH_SIZE
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_coupon (LIKE coupon INCLUDING DEFAULTS)"))
    statement = text(
        "INSERT INTO bench_coupon (id, created_at, organization_id, offer_id, stage_key,"
        " member_id, issue_key, state, valid_from, valid_until, updated_at)"
        " SELECT gen_random_uuid(), now(), :org, :offer, :stage, m.id, :prefix || m.id::text,"
        " 'issued', :vf, :vu, now() FROM unnest(CAST(:ids AS uuid[])) AS m(id)"
    )
    started = time.perf_counter()
    for start in range(0, len(members), batch):
        with engine.begin() as connection:
            connection.execute(
                statement,
                {
                    "org": plan.organization_id,
                    "offer": plan.offer_id,
                    "stage": plan.stage_key,
                    "prefix": plan.key_prefix,
                    "vf": plan.valid_from,
                    "vu": plan.valid_until,
                    "ids": members[start : start + batch],
                },
            )
    return time.perf_counter() - started


def run(quick: bool) -> dict[str, Any]:
    """Bulk issue N coupons to N members on a fresh PostgreSQL database, with the baseline
    and an idempotent rerun; the figures as a dict."""
    size = QUICK if quick else FULL
    result: dict[str, Any] = {
        "bulk_issue_members": size,
        "bulk_issue_batch": bulk_issue.BATCH_SIZE,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with throwaway_database() as url:
        engine = create_db_engine(url, pool_size=1)
        try:
            migrate.upgrade(engine)
            sessions = make_session_factory(engine)
            plan = setup(sessions, size)
            members = consenting_members(sessions, plan.organization_id, size)
            result["baseline_insert_s"] = round(baseline_insert(engine, plan, members), 2)
            pid, backend_before = backend_cpu_s(engine)
            client_before = time.process_time()
            seconds, report = issue_all(sessions, plan, members)
            client_cpu = time.process_time() - client_before
            same_pid, backend_after = backend_cpu_s(engine)
            result["bulk_issue_s"] = round(seconds, 2)
            if same_pid == pid:  # one connection did every batch
                result["bulk_issue_backend_cpu_s"] = round(backend_after - backend_before, 2)
                result["bulk_issue_client_cpu_s"] = round(client_cpu, 2)
            result["bulk_issue_coupons"] = report.issued
            result["bulk_issue_to_baseline_ratio"] = round(
                seconds / max(result["baseline_insert_s"], 0.01), 2
            )
            seconds, again = issue_all(sessions, plan, members)
            result["rerun_s"], result["rerun_issued"] = round(seconds, 2), again.issued
            with session_scope(sessions, plan.organization_id) as session:
                result["coupons_in_ledger"] = session.scalar(select(func.count(Coupon.id)))
                result["ledger_rows"] = session.scalar(select(func.count(CouponLedgerEntry.id)))
                result["coupon_issued_facts"] = session.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.event_type == "coupon_issued"
                    )
                )
                result["budget_issued"] = session.scalar(select(Budget.issued))
        finally:
            engine.dispose()
    result.update(on_sqlite(size // 10))
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def on_sqlite(size: int) -> dict[str, Any]:
    """The same bulk issue on the embedded store (SQLite, a temporary file), at a tenth of
    the size."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        try:
            migrate.upgrade(engine)
            sessions = make_session_factory(engine)
            plan = setup(sessions, size)
            members = consenting_members(sessions, plan.organization_id, size)
            seconds, report = issue_all(sessions, plan, members)
        finally:
            engine.dispose()
    return {
        "sqlite_bulk_issue_members": size,
        "sqlite_bulk_issue_s": round(seconds, 2),
        "sqlite_bulk_issue_coupons": report.issued,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} members (under 60 s)")
    args = parser.parse_args()
    print(json.dumps(run(args.quick)))


if __name__ == "__main__":
    main()
