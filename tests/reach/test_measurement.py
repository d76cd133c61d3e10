"""The lift report's measurement on a constructed campaign (tests/reach/lift_data.py): exact arms,
conversions at the window's edges, pre-period spend, where they bought and the cost, on the
embedded stores (SQLite + DuckDB) and on PostgreSQL (operational store and warehouse)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from newretail.bootstrap import Container, bootstrap
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.reach import lift, measurement
from newretail.reach.decide import Reason
from newretail.reach.errors import InvalidLiftInput, StageNotFound
from newretail.reach.measurement import WhereBought
from tests.conftest import TEST_SECRET, Org
from tests.reach.lift_data import HOLDOUT_SPEND, T0, TREATED_SPEND, build
from tests.reach.trigger_helpers import owner_of


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Embedded: SQLite + DuckDB; PostgreSQL: both stores on PostgreSQL."""
    warehouse = f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    if database_url.startswith("postgresql"):
        warehouse = "postgres://" + database_url.split("://", 1)[1]
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        warehouse_url=warehouse,
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    built = bootstrap(settings)
    yield built
    built.close()


def test_arms_conversions_window_edges_where_bought_and_cost(
    container: Container, org: Org
) -> None:
    data = build(container, org)
    with session_scope(container.sessions, org.id) as session:
        measured = measurement.measure(
            session, owner_of(org.id), container.warehouse, data.reach.campaign.id, 1
        )
    # A B C D treated, E F G held out; H (both arms) left out and counted
    assert (measured.treated.members, measured.holdout.members, measured.both_arms) == (4, 3, 1)
    # A just inside the window and D online; B at the window's end and C before its reach not
    assert (measured.treated.converted, measured.holdout.converted) == (2, 1)
    assert (measured.treated.converted_where_reached, measured.holdout.converted_where_reached) == (
        1,
        1,
    )
    # online interest before the reach: A (bought at the counter) and B (did not); E held out
    treated, holdout = measured.treated, measured.holdout
    assert (
        treated.online_interest,
        treated.online_interest_converted,
        treated.online_interest_bought_offline,
    ) == (2, 1, 1)
    assert (
        holdout.online_interest,
        holdout.online_interest_converted,
        holdout.online_interest_bought_offline,
    ) == (1, 1, 1)
    assert measured.first_exposure == T0
    assert measured.last_exposure == T0 + timedelta(hours=2)
    for got, want in (
        (measured.treated.spend, TREATED_SPEND),
        (measured.holdout.spend, HOLDOUT_SPEND),
    ):
        assert got.members == want.members
        assert got.mean == pytest.approx(want.mean, abs=1e-9)
        assert got.variance == pytest.approx(want.variance, abs=1e-9)
        assert got.pre_mean == pytest.approx(want.pre_mean, abs=1e-9)
        assert got.pre_variance == pytest.approx(want.pre_variance, abs=1e-9)
        assert got.covariance == pytest.approx(want.covariance, abs=1e-9)
    assert measured.treated.spend.mean == pytest.approx(105.0)
    assert measured.holdout.spend.mean == pytest.approx(200.0 / 3)
    # A's coupon redeemed the next day; D's at its window's end is outside
    assert (measured.redeemed_members, measured.redeemed_coupons, measured.cost) == (
        1,
        1,
        Decimal("50.00"),
    )
    counter, online = data.reach.store_id, data.online_store
    assert measured.where_bought == [
        WhereBought(Reason.TREATED, counter, "store", 1, 1, Decimal("300.00")),
        WhereBought(Reason.TREATED, online, "online", 1, 1, Decimal("120.00")),
        WhereBought(Reason.HOLDOUT, counter, "store", 1, 1, Decimal("200.00")),
    ]
    # the report is lift_report on exactly these counts
    expected = lift.lift_report(
        lift.Arm(4, 2, measured.treated.spend),
        lift.Arm(3, 1, measured.holdout.spend),
        holdout_share=0.5,
        cost=Decimal("50.00"),
    )
    assert measured.report == expected
    assert measured.report is not None
    assert measured.report.treated_rate == 0.5
    assert measured.report.holdout_rate == pytest.approx(1 / 3)


def test_a_longer_window_takes_the_purchase_at_the_edge(container: Container, org: Org) -> None:
    data = build(container, org)
    with session_scope(container.sessions, org.id) as session:
        measured = measurement.measure(
            session, owner_of(org.id), container.warehouse, data.reach.campaign.id, None, 15
        )
    # B's purchase at day 14 now counts, and so does D's redemption at day 14
    assert (measured.treated.converted, measured.holdout.converted) == (3, 1)
    assert (measured.redeemed_members, measured.cost) == (2, Decimal("100.00"))
    # G's purchase 15 days before is now pre-period spend
    assert measured.holdout.spend.pre_mean == pytest.approx(30.0)


def test_refusals(container: Container, org: Org) -> None:
    data = build(container, org)
    campaign_id = data.reach.campaign.id
    with session_scope(container.sessions, org.id) as session:
        with pytest.raises(StageNotFound):
            measurement.measure(session, owner_of(org.id), container.warehouse, campaign_id, 2)
        for days in (0, 91):
            with pytest.raises(InvalidLiftInput) as refused:
                measurement.measure(
                    session, owner_of(org.id), container.warehouse, campaign_id, 1, days
                )
            assert refused.value.field == "window_days"
