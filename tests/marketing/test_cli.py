"""The marketing commands: list campaigns, approve, issue to a file of members, find a code."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.marketing import coupons, redemption
from tests.conftest import Org, store_args
from tests.marketing.test_campaign_api import THRESHOLD, plan
from tests.marketing.test_console_pages import PRINTED_FROM, PRINTED_UNTIL
from tests.marketing.test_holdout import in_holdout

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
    # three members outside the campaign's 10% holdout; the budget of 2 takes the first two
    campaign_id = uuid.UUID(listed[0]["id"])  # type: ignore[index]
    reached = (m for m in iter(uuid.uuid4, None) if not in_holdout(campaign_id, m, 10))
    ids = sorted(str(next(reached)) for _ in range(3))
    members.write_text("\n".join(ids) + "\n\n", encoding="utf-8")
    issue = ("issue", "Double 11", "--stage", "Pre-sale", "--offer", "D11-300-40")
    first = run(*issue, "--members", str(members))
    refused = {"refused_budget": 1, "refused_member_limit": 0, "refused": {"budget_spent": 1}}
    assert first == {"issued": 2, "already_held": 0, "no_consent": 0, "held_out": 0, **refused}
    again = run(*issue, "--members", str(members))
    assert again == {"issued": 0, "already_held": 2, "no_consent": 0, "held_out": 0, **refused}
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


def test_the_text_output_reads_money_days_and_validity_at_80_columns(
    client: TestClient, container: Container, settings: Settings, org: Org
) -> None:
    offer = client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD).json()
    campaign = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=plan(org))
    main_day = f"{campaign.json()['id']}:2"  # the main day's budget (redeem and money limits)
    printed = coupons.Issue(
        uuid.UUID(offer["id"]), "print-1", PRINTED_FROM, PRINTED_UNTIL, stage_key=main_day
    )
    held = coupons.Issue(
        uuid.UUID(offer["id"]), "held-1", PRINTED_FROM, PRINTED_UNTIL, stage_key=main_day
    )
    with session_scope(container.sessions, org.id) as session:
        code = coupons.issue_codes(session, org.id, [printed], "print")[0]
        coupon_ids = [
            coupons.by_code(session, code).id,
            coupons.issue(session, org.id, held, "t").id,
        ]
        for n, discount in enumerate(("2257.70", "40.00")):
            use = redemption.Redemption(f"till-{n}", None, Decimal(discount), None)
            redemption.redeem(session, coupon_ids[n], use, "test", now=PRINTED_FROM)
    base = [*store_args(settings), "marketing"]
    listed = runner.invoke(app, [*base, "campaigns", "--org", org.slug], env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "                   Double 11 · draft · days in Asia/Shanghai                    ",
        "┏━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━┓",
        "┃ stage              ┃ local days         ┃ issued ┃ redeemed ┃ discount given ┃",
        "┡━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━┩",
        "│ Pre-sale           │ 2027-10-20 – 10-31 │ 0      │ 0        │ ¥0.00          │",
        "│ Main day           │ 2027-11-11         │ 2      │ 2        │ ¥2,297.70      │",
        "│ 30-day offline     │ 2027-11-12 – 12-11 │ 0      │ 0        │ ¥0.00          │",
        "│ extension          │                    │        │          │                │",
        "└────────────────────┴────────────────────┴────────┴──────────┴────────────────┘",
    ]
    as_json = runner.invoke(app, [*base, "campaigns", "--org", org.slug, "--json"])
    stages = json.loads(as_json.stdout)[0]["stages"]
    assert stages[1]["budgets"][0]["discounted"] == "2297.70"  # raw decimals, as strings
    found = runner.invoke(app, [*base, "coupon", code, "--org", org.slug], env={"COLUMNS": "80"})
    assert found.exit_code == 0, found.output
    assert found.stdout.splitlines() == [
        "               Coupon · times in Asia/Shanghai                ",
        "┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓",
        "┃ field          ┃ value                                     ┃",
        "┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩",
        "│ offer          │ Double 11: spend 300 save 40 (D11-300-40) │",
        "│ campaign       │ Double 11 · Main day                      │",
        "│ state          │ redeemed                                  │",
        "│ valid          │ 2027-10-20 – 2027-12-11                   │",  # local days, inclusive
        "│ member         │ —                                         │",
        "│ used by order  │ till-0                                    │",
        "│ redeemed at    │ 2027-10-20 00:00                          │",
        "│ discount given │ ¥2,257.70                                 │",
        "└────────────────┴───────────────────────────────────────────┘",
    ]
    as_json = runner.invoke(app, [*base, "coupon", code, "--org", org.slug, "--json"])
    assert json.loads(as_json.stdout)["discount"] == "2257.70"
    assert json.loads(as_json.stdout)["valid_until"] == "2027-12-11T16:00:00Z"  # ISO 8601
