"""The home page's figures are the metrics page's and the GMV change's for the same days: the
glance reads chosen days (today up to a local time) through the same store-day query, in each
store's own zone on either engine; the console keeps its answer only while the warehouse's
events are unchanged."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.databank.localdays import day_start
from newretail.diagnosis import breakdown, glance, metrics, service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org
from tests.diagnosis import test_metrics as ledgers
from tests.diagnosis.test_console_centre import NOW, _owner, _store, glance_ledger
from tests.diagnosis.test_metrics import NEW_YORK, NOV10, NOV11, SHOP, ZONE, _event, _load

warehouse = ledgers.warehouse
duck = ledgers.duck
pg_warehouse = ledgers.pg_warehouse
ZONES = {NEW_YORK: "America/New_York", SHOP: ZONE}
WHOLE = timedelta(days=1)
NOV3 = date(2026, 11, 3)


def _rows(con: Any, org: str, days: dict[date, timedelta] | None = None) -> list[metrics.StoreDay]:
    return metrics.store_day_rows(
        metrics.store_day_table(con, org, NOV10, NOV11, ZONE, store_zones=ZONES, days=days)
    )


def test_whole_chosen_days_are_the_days_read_whole(warehouse: Any) -> None:
    org = str(uuid.uuid4())
    _load(warehouse, ledgers._ledger(org))
    whole = _rows(warehouse, org)
    assert {r.store_id for r in whole} == {"online-1", "shop-1", "counter-1", NEW_YORK}
    assert _rows(warehouse, org, {NOV10: WHOLE, NOV11: WHOLE}) == whole


def test_a_day_up_to_a_local_time_is_its_events_before_that_time_in_each_stores_zone(
    warehouse: Any,
) -> None:
    org, cut_by_hand = str(uuid.uuid4()), str(uuid.uuid4())
    ledger = [r for r in ledgers._ledger(org) if r["organization_id"] == org]
    _load(warehouse, ledger)
    up_to = timedelta(hours=11)  # counter-1's 03:00Z purchase is at 11:00 on 11 Nov: left out
    kept = []
    for row in ledger:
        zone = ZONES.get(row["store_id"], ZONE)
        day = row["ts"].astimezone(ZoneInfo(zone)).date()
        if day == NOV10 or (day == NOV11 and row["ts"] < day_start(NOV11, zone) + up_to):
            kept.append({**row, "organization_id": cut_by_hand})
    _load(warehouse, kept)
    chosen = _rows(warehouse, org, {NOV10: WHOLE, NOV11: up_to})
    assert chosen == _rows(warehouse, cut_by_hand)
    counter = next(r for r in chosen if (r.store_id, r.day) == ("counter-1", NOV11))
    assert (counter.metrics.transactions, str(counter.metrics.gmv)) == (1, "25.00")


def test_the_glance_has_the_figures_of_the_gmv_change_and_the_metrics_page(
    container: Container, org: Org
) -> None:
    shop, counter = (str(s) for s in org.store_ids)
    vending = _store(container, org, "V2", ChannelType.VENDING)
    with container.warehouse.lock:
        _load(container.warehouse.connection(), glance_ledger(str(org.id), shop, counter, vending))
    owner = _owner(org)
    with session_scope(container.sessions, org.id) as session:
        found = glance.at_a_glance(session, owner, container.warehouse, NOW)
        change = service.gmv_change(session, owner, container.warehouse, NOV10, NOV10, NOV3, NOV3)
        page = breakdown.metrics_by(
            session,
            owner,
            container.warehouse,
            breakdown.GroupBy.ORGANISATION,
            NOV10,
            NOV10,
            NOV3,
            NOV3,
        )
    assert found.yesterday.day == NOV10 and found.yesterday.week_before == NOV3
    assert (found.yesterday.now, found.yesterday.before) == (change.comparison, change.base)
    [organisation] = page.rows
    assert found.yesterday.now == organisation.comparison.store_days
    assert found.yesterday.before == organisation.base.store_days
    by_store = {str(c.store.id): c for c in change.stores}
    assert found.drops
    for drop in found.drops:
        store = by_store[str(drop.store.id)]
        assert (drop.now, drop.before) == (store.comparison, store.base)


def test_the_console_keeps_the_glance_while_the_events_are_unchanged(
    container: Container, org: Org
) -> None:
    owner = _owner(org)
    manager = Principal.for_role(
        PrincipalKind.USER,
        org.id,
        Role.STORE_MANAGER,
        actor="test",
        store_ids=frozenset({org.store_ids[0]}),
    )
    wh = container.warehouse

    def look(principal: Principal, max_age: float = 60) -> glance.Glance:
        with session_scope(container.sessions, org.id) as session:
            return glance.at_a_glance(session, principal, wh, max_age=max_age)

    first = look(owner)
    assert look(owner) is first
    assert look(manager) is not first  # other stores, another answer
    assert look(owner, max_age=0) is not first  # not kept: read again
    shop = str(org.store_ids[0])
    with wh.lock:
        _load(wh.connection(), [_event(str(org.id), "store_visit", "2026-11-10T04:00", shop)])
    again = look(owner)
    assert again is not first and look(owner) is again
    # explicit instants are never kept
    with session_scope(container.sessions, org.id) as session:
        assert glance.at_a_glance(session, owner, wh, NOW, max_age=60) is not again
