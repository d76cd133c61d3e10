"""The marketing commands: list campaigns, approve, issue to a file of members, find a code."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.marketing import coupons
from tests.conftest import Org, store_args
from tests.marketing.test_campaign_api import THRESHOLD, plan
from tests.marketing.test_console_pages import PRINTED_FROM, PRINTED_UNTIL

runner = CliRunner()


def test_approve_and_issue_from_the_command_line(
    client: TestClient, container: Container, settings: Settings, org: Org, tmp_path: Path
) -> None:
    client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD)
    client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=plan(org))
    base = [*store_args(settings), "marketing"]

    def run(*args: str) -> object:
        result = runner.invoke(app, [*base, *args, "--org", org.slug, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    listed = run("campaigns")
    assert [(c["name"], c["state"]) for c in listed] == [("Double 11", "draft")]  # type: ignore[attr-defined]
    approved = run("state", "Double 11", "approved")
    assert approved["state"] == "scheduled"  # type: ignore[index]
    members = tmp_path / "members.txt"
    ids = sorted(str(uuid.uuid4()) for _ in range(3))  # the budget of 2 takes the first two
    members.write_text("\n".join(ids) + "\n\n", encoding="utf-8")
    issue = ("issue", "Double 11", "--stage", "Pre-sale", "--offer", "D11-300-40")
    first = run(*issue, "--members", str(members))
    refused = {"refused_budget": 1, "refused_member_limit": 0, "refused": {"budget_spent": 1}}
    assert first == {"issued": 2, "already_held": 0, **refused}
    assert run(*issue, "--members", str(members)) == {"issued": 0, "already_held": 2, **refused}
    bad = tmp_path / "bad.txt"
    bad.write_text("not-a-member\n", encoding="utf-8")
    refused = runner.invoke(app, [*base, *issue, "--members", str(bad), "--org", org.slug])
    assert refused.exit_code == 2 and "members: line 1 is not a member id" in refused.output
    unknown = runner.invoke(app, [*base, "state", "Nope", "paused", "--org", org.slug])
    assert unknown.exit_code == 2 and "campaign: no campaign named 'Nope'" in unknown.output
    with session_scope(container.sessions, org.id) as session:
        request = coupons.Issue(uuid.uuid4(), "print-1", PRINTED_FROM, PRINTED_UNTIL)
        code = coupons.issue_codes(session, org.id, [request], "print")[0]
    found = run("coupon", code)
    assert (found["state"], found["valid_until"]) == ("issued", "2027-12-11T16:00:00Z")  # type: ignore[index]
