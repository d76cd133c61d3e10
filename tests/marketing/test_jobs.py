"""The server's coupon expiry job, across organisations."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.jobs import coupon_expiry
from newretail.marketing import coupons
from newretail.marketing.models import Coupon
from tests.conftest import Org
from tests.marketing.ledger_helpers import NOW, a_coupon


def test_the_job_expires_every_organisations_due_coupons(
    container: Container, org: Org, other_org: Org
) -> None:
    with session_scope(container.sessions, org.id) as session:
        due = a_coupon(session, org.id, "due", valid_until=NOW).id
        kept = a_coupon(session, org.id, "kept", valid_until=NOW.replace(year=2999)).id
    with session_scope(container.sessions, other_org.id) as session:
        theirs = a_coupon(session, other_org.id, "theirs", valid_until=NOW).id
    with session_scope(container.sessions) as session:  # other tests' too: the store is shared
        due_everywhere = session.scalar(
            select(func.count())
            .select_from(Coupon)
            .where(Coupon.state == "issued", Coupon.valid_until <= utcnow())
            .execution_options(include_all_organizations=True)
        )
    assert due_everywhere is not None and due_everywhere >= 2
    assert coupon_expiry(container, threading.Event()) == due_everywhere
    assert coupon_expiry(container, threading.Event()) == 0
    with session_scope(container.sessions, org.id) as session:
        assert (coupons.get(session, due).state, coupons.get(session, kept).state) == (
            "expired",
            "issued",
        )
    with session_scope(container.sessions, other_org.id) as session:
        assert coupons.get(session, theirs).state == "expired"
