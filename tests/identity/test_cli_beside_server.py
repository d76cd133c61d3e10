"""`newretail identity merge|unmerge` while a server holds the embedded warehouse: the CLI goes
through the server's API (core.local_server) instead of failing on DuckDB's file lock."""

from __future__ import annotations

import json
import subprocess

from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.settings import Settings
from tests.conftest import Org, store_args
from tests.core.test_local_server import real_server
from tests.identity.conftest import create_member

__all__ = ["real_server"]  # the fixture: `newretail serve` in its own process


def test_merge_and_unmerge_go_through_the_running_server(
    settings: Settings, container: Container, org: Org, real_server: subprocess.Popen[str]
) -> None:
    a = create_member(container, org, phone="13800138000")
    b = create_member(container, org, member_card="c-1")
    runner = CliRunner()
    base = [*store_args(settings), "identity"]
    merged = runner.invoke(app, [*base, "merge", str(b), str(a), "--org", org.slug, "--json"])
    assert merged.exit_code == 0, merged.output
    merge = json.loads(merged.stdout)
    assert (merge["survivor_id"], merge["loser_id"], merge["actor"], merge["undone_by"]) == (
        str(a),
        str(b),
        "operator (CLI)",
        None,
    )
    undone = runner.invoke(app, [*base, "unmerge", merge["id"], "--org", org.slug, "--json"])
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.stdout)["undone_by"] == "operator (CLI)"
    again = runner.invoke(app, [*base, "unmerge", merge["id"], "--org", org.slug])
    assert again.exit_code == 2
    assert "[undo_refused]" in again.stderr
