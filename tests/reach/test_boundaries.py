"""Each check of the decision at its exact boundary (SQLite and PostgreSQL): frequency caps
per local day (local midnight in Asia/Shanghai = 16:00 UTC the day before) and ISO week,
the global daily cap, the re-entry window, quiet hours (start inclusive, end exclusive),
opening hours (the opening minute open, the closing minute closed), stock (0 vs 1 unit) and
budget (the last coupon, then budget_spent); and the order of the reasons."""

from __future__ import annotations

from datetime import timedelta

from newretail.bootstrap import Container
from newretail.catalog.models import Product, Sku
from newretail.core.database import session_scope
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.reach.decide import TriggerEvent
from tests.conftest import Org
from tests.reach.trigger_helpers import (
    ALWAYS_OPEN,
    FIRST_DAY,
    LAST_DAY,
    decisions_of,
    owner_of,
    set_up,
    shanghai,
)

DAY_2 = FIRST_DAY + timedelta(days=1)


def test_daily_cap_allows_the_nth_caps_the_next_and_opens_at_local_midnight(
    container: Container, org: Org
) -> None:
    reach = set_up(container, org, hours=ALWAYS_OPEN, daily_cap=2)
    member = reach.members[0]
    assert reach.trigger(member, shanghai(FIRST_DAY, "10:00")) == ["treated"]
    assert reach.trigger(member, shanghai(FIRST_DAY, "11:00")) == ["treated"]
    assert reach.trigger(member, shanghai(FIRST_DAY, "12:00")) == ["frequency_cap"]
    last_second = shanghai(FIRST_DAY, "23:59", 59)
    assert last_second.isoformat() == "2027-11-11T15:59:59+00:00"
    assert reach.trigger(member, last_second) == ["frequency_cap"]
    midnight = shanghai(DAY_2, "00:00")
    assert midnight.isoformat() == "2027-11-11T16:00:00+00:00"
    assert reach.trigger(member, midnight) == ["treated"]
    assert reach.trigger(member, midnight + timedelta(minutes=1)) == ["treated"]
    assert reach.trigger(member, midnight + timedelta(minutes=2)) == ["frequency_cap"]
    # one coupon of the stage per member, delivered at each treated decision
    assert reach.coupons_of() == {member: 1}
    assert len(reach.recorder.handed) == 4
    assert len({coupon for _, coupon, _ in reach.recorder.handed}) == 1


def test_weekly_cap_counts_the_iso_week_in_local_days(container: Container, org: Org) -> None:
    reach = set_up(container, org, weekly_cap=3)
    member = reach.members[0]
    days = [FIRST_DAY + timedelta(days=n) for n in range(5)]  # Thursday to Monday
    assert [d.strftime("%a") for d in days] == ["Thu", "Fri", "Sat", "Sun", "Mon"]
    reasons = [reach.trigger(member, shanghai(day, "12:00"))[0] for day in days]
    assert reasons == ["treated", "treated", "treated", "frequency_cap", "treated"]


def test_global_daily_cap_across_the_organisation(container: Container, org: Org) -> None:
    reach = set_up(container, org)
    reach.settings(global_daily_cap=1)
    member = reach.members[0]
    assert reach.trigger(member, shanghai(FIRST_DAY, "12:00")) == ["treated"]
    assert reach.trigger(member, shanghai(FIRST_DAY, "13:00")) == ["frequency_cap"]
    assert reach.trigger(member, shanghai(DAY_2, "12:00")) == ["treated"]


def test_reentry_window_blocks_until_its_last_second(container: Container, org: Org) -> None:
    reach = set_up(container, org, reentry_minutes=5)
    member = reach.members[0]
    first = shanghai(FIRST_DAY, "12:00")
    assert reach.trigger(member, first) == ["treated"]
    assert reach.trigger(member, first + timedelta(minutes=5, seconds=-1)) == ["reentry_window"]
    assert reach.trigger(member, first + timedelta(minutes=5)) == ["treated"]
    # a refused decision is no contact: the window runs from the last treated one
    assert reach.trigger(member, first + timedelta(minutes=9)) == ["reentry_window"]
    assert reach.trigger(member, first + timedelta(minutes=10)) == ["treated"]


def test_quiet_hours_start_inclusive_end_exclusive(container: Container, org: Org) -> None:
    reach = set_up(container, org, hours=ALWAYS_OPEN)
    reach.settings(quiet_start="22:00", quiet_end="08:00")
    member = reach.members[0]
    times = [
        shanghai(FIRST_DAY, "21:59"),
        shanghai(FIRST_DAY, "22:00"),
        shanghai(DAY_2, "07:59"),
        shanghai(DAY_2, "08:00"),
    ]
    reasons = [reach.trigger(member, at)[0] for at in times]
    assert reasons == ["treated", "quiet_hours", "quiet_hours", "treated"]
    # a store screen is seen at the counter, not on the member's phone: not held back
    reach.change_rule(channel="store_screen")
    assert reach.trigger(member, shanghai(DAY_2, "02:00")) == ["treated"]


def test_store_closed_before_its_opening_minute_and_from_its_closing_minute(
    container: Container, org: Org
) -> None:
    reach = set_up(container, org)
    member = reach.members[0]
    times = [
        shanghai(FIRST_DAY, "09:59", 59),
        shanghai(FIRST_DAY, "10:00"),
        shanghai(FIRST_DAY, "21:59", 59),
        shanghai(FIRST_DAY, "22:00"),
    ]
    reasons = [reach.trigger(member, at)[0] for at in times]
    assert reasons == ["store_closed", "treated", "treated", "store_closed"]


def test_out_of_stock_at_zero_units_treated_at_one(container: Container, org: Org) -> None:
    with session_scope(container.sessions, org.id) as session:
        product = Product(
            organization_id=org.id, brand_id=org.brand_id, code="LIP", name="Lipstick"
        )
        session.add(product)
        session.flush()
        sku = Sku(
            organization_id=org.id,
            product_id=product.id,
            brand_id=org.brand_id,
            code="LIP-01",
            name="Lipstick 01",
        )
        session.add(sku)
        session.flush()
        sku_id = sku.id
    reach = set_up(container, org, sku_ids=[sku_id])
    first, second = reach.members[:2]
    assert reach.trigger(first, shanghai(FIRST_DAY, "12:00")) == ["out_of_stock"]
    with session_scope(container.sessions, org.id) as session:
        inventory_service.receive_stock(
            session,
            owner_of(org.id),
            inventory_schemas.ReceiptCreate(
                location_id=reach.store_id, lines=[{"sku_id": sku_id, "quantity": 1}]
            ),
        )
    assert reach.trigger(second, shanghai(FIRST_DAY, "12:01")) == ["treated"]
    # out of stock is no contact: the first member's caps and window were not spent
    assert reach.trigger(first, shanghai(FIRST_DAY, "12:02")) == ["treated"]


def test_budget_the_last_coupon_then_budget_spent(container: Container, org: Org) -> None:
    reach = set_up(container, org, issue_limit=2)
    reasons = [reach.trigger(member, shanghai(FIRST_DAY, "12:00"))[0] for member in reach.members]
    assert reasons == ["treated", "treated", "budget_spent"]
    assert set(reach.coupons_of()) == set(reach.members[:2])
    # a member holding the stage's coupon is reached again without spending the budget
    assert reach.trigger(reach.members[0], shanghai(FIRST_DAY, "13:00")) == ["treated"]


def test_audience_and_consent_come_first_and_each_decision_has_one_reason(
    container: Container, org: Org
) -> None:
    reach = set_up(container, org, audience=2)
    inside, _, outside = reach.members
    closed = shanghai(FIRST_DAY, "08:00")
    assert reach.trigger(outside, closed) == ["not_in_audience"]
    assert reach.trigger(inside, closed) == ["store_closed"]
    reach.change_rule(channel="inbox")  # needs marketing consent on any channel: granted
    assert reach.trigger(inside, shanghai(FIRST_DAY, "12:00")) == ["treated"]
    assert decisions_of(reach) == [
        (outside, "not_in_audience"),
        (inside, "store_closed"),
        (inside, "treated"),
    ]


def test_an_event_outside_the_rule_is_not_decided(container: Container, org: Org) -> None:
    zones = {"property": "zone", "op": "in", "values": ["beauty", "fragrance"]}
    reach = set_up(container, org, property_filters=[zones])
    member = reach.members[0]
    noon = shanghai(FIRST_DAY, "12:00")
    beauty = {"zone": "beauty"}
    assert reach.trigger(member, noon, event_type="store_visit", properties=beauty) == []
    assert reach.trigger(member, noon, properties={"zone": "shoes"}) == []
    assert reach.trigger(member, noon, store_id=org.store_ids[0], properties=beauty) == []
    assert reach.trigger(member, noon - timedelta(days=1), properties=beauty) == []
    assert reach.trigger(member, noon, properties={"zone": "fragrance"}) == ["treated"]


def test_the_stage_last_second_decided_after_its_end_is_the_stage_own(
    container: Container, org: Org
) -> None:
    reach = set_up(container, org, hours=ALWAYS_OPEN)
    member = reach.members[0]
    last_second = shanghai(LAST_DAY, "23:59", 59)
    assert last_second.isoformat() == "2027-11-17T15:59:59+00:00"
    reach.counter += 1
    reach.clock.now = last_second + timedelta(seconds=2)  # the loader ran after midnight
    event = TriggerEvent(
        organization_id=org.id,
        event_id="approach-last-second",
        event_type="counter_approach",
        member_id=member,
        store_id=reach.store_id,
        occurred_at=last_second,
        properties={},
    )
    with session_scope(container.sessions, org.id) as session:
        assert [d.reason for d in reach.engine.decide(session, event)] == ["treated"]
    # one second later the stage is over: the event matches no rule
    assert reach.trigger(member, last_second + timedelta(seconds=1)) == []
