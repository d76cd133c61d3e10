"""The reach commands: add a rule, list rules, set and show settings, list decisions
(`--json`, with the codes; the tables for people show labels), and a refusal printed with its
field."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.settings import Settings
from tests.conftest import Org, store_args
from tests.reach.helpers import table_cells
from tests.reach.trigger_helpers import FIRST_DAY, set_up, shanghai

runner = CliRunner()
WIDE = {"COLUMNS": "250"}  # one line per row in the tables


def test_rules_settings_and_decisions_from_the_command_line(
    container: Container, settings: Settings, org: Org
) -> None:
    reach = set_up(container, org)
    assert reach.trigger(reach.members[0], shanghai(FIRST_DAY, "12:00")) == ["treated"]
    base = [*store_args(settings), "reach"]

    def run(*args: str) -> Any:
        result = runner.invoke(app, [*base, *args, "--org", org.slug, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    added = run(
        "rules",
        "add",
        "--name",
        "Store visit in Shanghai",
        "--campaign",
        "Double 11 at the counter",
        "--offer",
        "COUNTER50",
        "--channel",
        "inbox",
        "--event-type",
        "store_visit",
        "--city",
        "Shanghai",
        "--daily-cap",
        "1",
    )
    assert (added["channel"], added["cities"], added["daily_cap"]) == ("inbox", ["Shanghai"], 1)
    rules = run("rules", "list", "--campaign", "Double 11 at the counter")
    assert [r["name"] for r in rules] == ["Counter approach", "Store visit in Shanghai"]
    assert [(r["event_types"], r["channel"]) for r in rules] == [
        (["counter_approach"], "sms"),
        (["store_visit"], "inbox"),
    ]
    table = runner.invoke(app, [*base, "rules", "list", "--org", org.slug], env=WIDE)
    assert table.exit_code == 0, table.output
    assert table_cells(table.stdout, "Counter approach")[3:5] == ["Counter approach", "SMS"]
    assert table_cells(table.stdout, "Store visit in Shanghai")[3:5] == [
        "Store visit",
        "Member inbox",
    ]
    assert run("settings", "set", "--quiet-start", "22:00", "--quiet-end", "08:00") == {
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "global_daily_cap": None,
    }
    assert run("settings", "set", "--global-daily-cap", "4")["quiet_start"] == "22:00"
    assert run("settings", "show")["global_daily_cap"] == 4
    decided = run("decisions", "list", "--reason", "treated")
    assert [(d["rule_name"], d["reason"], d["decided_at"]) for d in decided] == [
        ("Counter approach", "treated", "2027-11-11T12:00:00+08:00")
    ]
    shown = runner.invoke(app, [*base, "decisions", "list", "--org", org.slug], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert table_cells(shown.stdout, "2027-11-11 12:00:00")[-1] == "Reached with the offer"
    unknown = ("--name", "x", "--campaign", "Nope", "--offer", "COUNTER50", "--channel", "sms")
    refused = runner.invoke(app, [*base, "rules", "add", "--org", org.slug, *unknown])
    assert refused.exit_code == 2 and "campaign: no campaign named 'Nope'" in refused.output
