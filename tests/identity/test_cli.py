"""`newretail identity merge|unmerge|merges|conflicts --json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from tests.conftest import Org
from tests.identity.conftest import create_member, one

runner = CliRunner()


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else result.stderr


def test_identity_commands(container: Container, org: Org, tmp_path: Path) -> None:
    a = create_member(container, org, phone="13800138000")
    b = create_member(container, org, member_card="c-1")
    one(container, org, ("phone", "+8613900139000"), ("device_id", "d"))
    one(container, org, ("phone", "+8613800138000"), ("device_id", "d"))
    container.warehouse.close()  # the CLI opens the embedded warehouse itself
    base = [
        "--database-url",
        container.settings.resolved_database_url,
        "--warehouse-url",
        container.settings.resolved_warehouse_url,
        "identity",
    ]
    merged = run(*base, "merge", str(b), str(a), "--org", org.slug, "--json")
    assert (merged["survivor_id"], merged["loser_id"], merged["actor"]) == (
        str(a),
        str(b),
        "operator (CLI)",
    )
    listed = run(*base, "merges", "--org", org.slug, "--member", str(b), "--json")
    assert [m["id"] for m in listed["items"]] == [merged["id"]]
    undone = run(*base, "unmerge", merged["id"], "--org", org.slug, "--json")
    assert undone["undone_by"] == "operator (CLI)"
    conflicts = run(*base, "conflicts", "--org", org.slug, "--json")
    assert [c["kind"] for c in conflicts["items"]] == ["unique_type"]
    dismissed = run(
        *base, "conflicts", "--org", org.slug, "--dismiss", conflicts["items"][0]["id"], "--json"
    )
    assert dismissed["status"] == "dismissed"
    assert run(*base, "conflicts", "--org", org.slug, "--json")["items"] == []
    error = run(*base, "unmerge", merged["id"], "--org", org.slug, code=2)
    assert "[undo_refused]" in error
