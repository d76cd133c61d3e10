"""Marketing throughput: POS sales with a coupon per second on PostgreSQL with 16 clients, and
in the same run POS sales without one (the ratio's target is >= 0.6), then the double
redemptions left behind (coupons with more than one redemption in their ledger, or two
coupons on one order: must be 0).

Runs alone: `python bench/marketing.py [--quick] [--processes N]`. It creates a throw-away
PostgreSQL database (NEWRETAIL_BENCH_POSTGRES_URL, default postgres@127.0.0.1:5432) and
drives the clients of `bench/commerce.py` (16 threads over N OS processes calling
`orders.pos.pos_sale` directly, one transaction per sale, as the API does). Each coupon sale
is the commerce bench's sale (one SKU at 9.90 at the client's own shop) naming one coupon of
its own by id, of a saved offer (1.00 off the order): the sale runs the whole path (its
prices and coupons read in one round trip, the offer engine, the sale statement, the guarded
redemption with its ledger row and `coupon_redeemed` fact in one statement). Two runs:
- `coupon_pos_sales_per_s_postgres`: coupons of a stage without a budget;
- `coupon_with_stage_budget_pos_sales_per_s_postgres`: every coupon spends one stage budget
  shared by the 16 tills (a limited budget is one row that each redemption updates in the
  statement that checks the limit, so those sales take turns on it until they commit).
The coupons are inserted for the run in one statement beforehand (their issue is not what
is measured).

When `bench/marketing_bulk.py` is present its `run(quick)` follows, and its figures
(`bulk_issue_s` ...) join the result. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench import commerce
from bench.scratch_db import throwaway_database
from newretail.core import migrate
from newretail.core.database import create_db_engine, make_session_factory, session_scope
from newretail.marketing import budgets, offer_library
from newretail.marketing.models import Coupon, CouponLedgerEntry
from newretail.marketing.offer_specs import OfferSpec
from newretail.orders import pos
from newretail.orders.models import OrderLine
from newretail.tenancy.permissions import Principal

STAGE = f"{uuid.uuid4()}:1"  # the campaign stage whose budget the coupons spend
WARM_UP = commerce.WARM_UP


class CouponPosJob(commerce.PosJob):
    """The commerce bench's POS sale, naming the next of the client's own coupons."""

    def __init__(
        self,
        principal: Principal,
        stores: list[uuid.UUID],
        skus: list[uuid.UUID],
        coupons: list[list[str]],
    ) -> None:
        super().__init__(principal, stores, skus)
        self.coupons = coupons

    def __call__(self, session, index: int, n: int) -> None:  # type: ignore[no-untyped-def]
        own = self.coupons[index]
        if n + WARM_UP >= len(own):
            raise RuntimeError(f"client {index} used its {len(own)} coupons; issue more")
        pos.pos_sale(session, self.principal, self.sale(index, n, (own[n + WARM_UP],)))


def issue_for_bench(
    url: str, principal: Principal, per_client: int, *, budgeted: bool
) -> list[list[str]]:
    """A saved offer (1.00 off) and `per_client` coupons of it for each client, inserted in
    one statement (`budgeted`: of a stage with a budget of 10,000,000 redemptions); their
    ids per client."""
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    org_id = principal.organization_id
    stage = STAGE if budgeted else None
    with session_scope(sessions, org_id) as session:
        code = "BENCH-1-OFF-STAGE" if budgeted else "BENCH-1-OFF"
        offer = offer_library.create_offer(
            session,
            principal,
            OfferSpec.model_validate(
                {
                    "code": code,
                    "name": "1.00 off",
                    "benefit": {"kind": "amount_off", "amount": "1.00"},
                    "combination_class": "order",
                }
            ),
        )
        if budgeted:
            budgets.create_budget(
                session, org_id, name="bench stage", stage_key=STAGE, redeem_limit=10_000_000
            )
        offer_id = offer.id
    total = per_client * commerce.CLIENTS
    with engine.begin() as connection:
        ids = connection.execute(
            text(
                "INSERT INTO coupon (id, organization_id, created_at, offer_id, stage_key,"
                " member_id, issue_key, code_hash, state, valid_from, valid_until, updated_at)"
                " SELECT gen_random_uuid(), :org, now(), :offer, :stage, NULL,"
                " :prefix || n, NULL, 'issued', now() - interval '1 day',"
                " now() + interval '30 days', now()"
                " FROM generate_series(1, :total) AS n RETURNING id"
            ),
            {"org": org_id, "offer": offer_id, "stage": stage, "total": total, "prefix": code},
        ).scalars()
        flat = [str(coupon_id) for coupon_id in ids]
    engine.dispose()
    return [flat[i * per_client : (i + 1) * per_client] for i in range(commerce.CLIENTS)]


def double_redemptions(url: str, org_id: uuid.UUID) -> dict[str, int]:
    """Coupons with more than one redemption row in their ledger, and the redeemed coupons
    against the orders that carry a discount (they must be equal)."""
    engine = create_db_engine(url)
    with session_scope(make_session_factory(engine), org_id) as session:
        per_coupon = (
            select(CouponLedgerEntry.coupon_id)
            .where(CouponLedgerEntry.change == "redeemed")
            .group_by(CouponLedgerEntry.coupon_id)
            .having(func.count() > 1)
            .subquery()
        )
        doubled = session.scalar(select(func.count()).select_from(per_coupon)) or 0
        redeemed = (
            session.scalar(
                select(func.count()).select_from(Coupon).where(Coupon.state == "redeemed")
            )
            or 0
        )
        shared = (
            session.scalar(
                select(func.count() - func.count(func.distinct(Coupon.order_ref))).where(
                    Coupon.state == "redeemed"
                )
            )
            or 0
        )
        discounted = (
            session.scalar(
                select(func.count(func.distinct(OrderLine.order_id))).where(
                    OrderLine.amount < OrderLine.unit_price * OrderLine.quantity
                )
            )
            or 0
        )
    engine.dispose()
    return {
        "double_redemptions": int(doubled) + int(shared),
        "redeemed_coupons": int(redeemed),
        "orders_with_a_coupon": int(discounted),
    }


def bulk_figures(quick: bool) -> dict[str, Any]:
    """`bench/marketing_bulk.py`'s figures when it is there."""
    if importlib.util.find_spec("bench.marketing_bulk") is None:
        return {"bulk_issue_s": None, "bulk_issue": "bench/marketing_bulk.py is not present"}
    marketing_bulk = importlib.import_module("bench.marketing_bulk")
    figures: dict[str, Any] = marketing_bulk.run(quick)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short runs (under 60 s)")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        choices=[1, 2, 4, 8, 16],
        help="OS processes the 16 clients are spread over (threads inside each); default 2",
    )
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 15.0
    per_client = 1_500 if args.quick else 6_000
    result: dict[str, Any] = {
        "clients": commerce.CLIENTS,
        "client_processes": args.processes,
        "clients_are": (
            f"{commerce.CLIENTS} threads in {args.processes} OS processes calling "
            "orders.pos.pos_sale directly (no HTTP), on the same machine as PostgreSQL"
        ),
        "seconds_per_run": seconds,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with throwaway_database() as url:
        engine = create_db_engine(url, pool_size=commerce.CLIENTS)
        migrate.upgrade(engine)
        principal, stores, skus, _online = commerce.setup(engine, 50, 1_000_000)
        engine.dispose()
        free = issue_for_bench(url, principal, per_client, budgeted=False)
        budgeted = issue_for_bench(url, principal, per_client, budgeted=True)
        plain = commerce.PosJob(principal, stores, skus)
        result["plain_pos_sales_per_s_postgres"], _ = commerce.drive(
            url, seconds, plain, args.processes
        )
        for key, coupons in (("", free), ("_with_stage_budget", budgeted)):
            job = CouponPosJob(principal, stores, skus, coupons)
            rate, refused = commerce.drive(url, seconds, job, args.processes)
            result[f"coupon{key}_pos_sales_per_s_postgres"] = rate
            result[f"coupon{key}_pos_sales_refused"] = refused
            ratio = rate / max(result["plain_pos_sales_per_s_postgres"], 1)
            result[f"ratio{key}_to_plain_pos"] = round(ratio, 3)
        result.update(double_redemptions(url, principal.organization_id))
    for key, value in bulk_figures(args.quick).items():  # its own load averages: bulk_…
        result[key if key not in result or key == "bulk_issue_s" else f"bulk_{key}"] = value
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
