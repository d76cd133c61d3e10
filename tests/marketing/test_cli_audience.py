"""`newretail marketing issue --audience` beside a running server that holds the embedded
warehouse: the bulk issue starts in the server and the command follows its progress."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.marketing.models import Budget, Coupon
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org, store_args
from tests.core.test_local_server import real_server
from tests.marketing.bulk_helpers import a_campaign

__all__ = ["real_server"]

YESTERDAY = date.today() - timedelta(days=1)
RULES = {
    "all": [
        {"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}},
        {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
    ]
}


@pytest.fixture
def world(container: Container, org: Org) -> list[str]:
    """Members, events and the campaign, written before the server starts (it holds the
    warehouse then)."""
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, YESTERDAY, set(ids[6:])))
    with session_scope(container.sessions, org.id) as session:
        a_campaign(session, org.id, issue_limit=5)
    container.warehouse.close()
    return ids


def test_issue_to_an_audience_through_the_running_server(
    settings: Settings,
    container: Container,
    org: Org,
    world: list[str],
    real_server: subprocess.Popen[str],
) -> None:
    runner = CliRunner()

    def run(*args: str) -> object:
        result = runner.invoke(app, [*store_args(settings), *args, "--org", org.slug, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    run("audience", "settings", "--min-crowd-size", "2")
    run("audience", "create", "--name", "carts", "--rules", json.dumps(RULES))
    run("audience", "refresh", "carts")
    issue = ["marketing", "issue", "Double 11", "--stage", "Main day", "--offer", "D11"]
    # the server asks the members' real consent rule: 3 of the audience's 6 members consent
    # (make_members), so 3 are left out and the budget of 5 has room for the rest
    rest = {"no_consent": 3, "held_out": 0, "refused_budget": 0, "refused_member_limit": 0}
    rest["refused"] = {}
    assert run(*issue, "--audience", "carts") == {"issued": 3, "already_held": 0, **rest}
    assert run(*issue, "--audience", "carts") == {"issued": 0, "already_held": 3, **rest}
    unknown = runner.invoke(
        app, [*store_args(settings), *issue, "--audience", "nope", "--org", org.slug]
    )
    assert unknown.exit_code == 2 and "audience: no audience named 'nope'" in unknown.output
    both = runner.invoke(app, [*store_args(settings), *issue, "--org", org.slug])
    assert both.exit_code == 2 and "members: give --members or --audience" in both.output
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count(Coupon.id))) == 3
        assert session.scalar(select(Budget.issued)) == 3
        holders = {str(m) for m in session.scalars(select(Coupon.member_id))}
    assert holders <= set(world[:6])
