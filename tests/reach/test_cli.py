"""`newretail reach endpoints …` and `newretail reach deliveries …` with --json (codes), and
their tables for people (labels)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.reach.models import EndpointPurpose, WebhookDelivery, WebhookEndpoint
from tests.conftest import TEST_SECRET, Org, store_args
from tests.reach.helpers import box, queue, table_cells

runner = CliRunner()
WIDE = {"COLUMNS": "250"}  # one line per row in the tables


def test_endpoints_and_deliveries_from_the_command_line(
    container: Container, settings: Settings, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    base = [*store_args(settings), "reach"]

    def run(*args: str) -> Any:
        result = runner.invoke(app, [*base, *args, "--org", org.slug, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    added = run(
        "endpoints",
        "add",
        "Shop POS",
        "https://pos.example.com/hooks",
        "--purpose",
        "store_system",
        "--store",
        "S0",
    )
    secret = added["secret"]
    assert (added["endpoint"]["name"], added["endpoint"]["store_name"]) == ("Shop POS", "Store 0")
    listed = run("endpoints", "list")
    assert [(e["name"], [s["prefix"] for s in e["secrets"]]) for e in listed] == [
        ("Shop POS", [secret[:12]])
    ]
    assert secret not in json.dumps(listed)
    assert listed[0]["purpose"] == "store_system"  # scripts read the code
    table = runner.invoke(app, [*base, "endpoints", "list", "--org", org.slug], env=WIDE)
    assert table.exit_code == 0, table.output
    assert table_cells(table.stdout, "Shop POS")[:3] == ["Shop POS", "Store system", "Store 0"]
    with session_scope(container.sessions, org.id) as session:
        sealed = session.get(WebhookEndpoint, uuid.UUID(listed[0]["id"]))
        assert sealed is not None
        assert box(container).open(sealed.secrets[0].sealed) == secret  # the server's key

    rotated = run("endpoints", "rotate", "Shop POS", "--keep-old-hours", "1")
    assert [s["prefix"] for s in rotated["endpoint"]["secrets"]] == [
        secret[:12],
        rotated["secret"][:12],
    ]
    assert run("endpoints", "disable", "Shop POS")["enabled"] is False
    assert run("endpoints", "enable", "Shop POS")["enabled"] is True

    (message_id,) = queue(
        container, org, purpose=EndpointPurpose.STORE_SYSTEM, store_id=org.store_ids[0]
    )
    with session_scope(container.sessions, org.id) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.message_id == message_id)
            .values(state="failed", attempts=13)
        )
    dead = run("deliveries", "list", "--state", "failed", "--endpoint", "Shop POS")
    assert [(d["message_id"], d["endpoint_name"], d["attempts"]) for d in dead] == [
        (message_id, "Shop POS", 13)
    ]
    shown = runner.invoke(app, [*base, "deliveries", "list", "--org", org.slug], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert table_cells(shown.stdout, message_id)[3] == "Failed (dead letter)"
    resent = run("deliveries", "resend", message_id)
    assert (resent["state"], resent["attempts"]) == ("pending", 0)

    refused = runner.invoke(app, [*base, "deliveries", "resend", message_id, "--org", org.slug])
    assert refused.exit_code == 2
    assert "[webhook_delivery_not_resendable] delivery:" in refused.stderr
