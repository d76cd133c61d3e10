"""`newretail member export` while a server holds the embedded warehouse: the CLI asks the
server's API for the export instead of failing on DuckDB's file lock; the server audits it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.members import schemas, service
from newretail.privacy.models import MemberDataRequest
from tests.conftest import Org, store_args
from tests.core.test_local_server import real_server
from tests.orders.factory import owner

__all__ = ["real_server"]  # the fixture: `newretail serve` in its own process


def test_the_export_goes_through_the_running_server(
    settings: Settings,
    container: Container,
    org: Org,
    real_server: subprocess.Popen[str],
    tmp_path: Path,
) -> None:
    with session_scope(container.sessions, org.id) as session:
        member = service.create_member(
            session, owner(org.id), schemas.MemberCreate(name="韩梅梅", phone="13800138000")
        ).id
    out = tmp_path / "member.zip"
    result = CliRunner().invoke(
        app,
        [
            *store_args(settings),
            *("member", "export", "+86 138 0013 8000", "--org", org.slug),
            *("--format", "csv", "--out", str(out), "--json"),
        ],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["member_id"], printed["format"]) == (str(member), "csv")
    assert out.read_bytes()[:2] == b"PK" and printed["bytes"] == out.stat().st_size
    with session_scope(container.sessions, org.id) as session:
        audited = session.scalars(select(MemberDataRequest)).all()
    assert [(r.channel, r.file_format, r.member_id, r.actor, str(r.id)) for r in audited] == [
        ("api", "csv", member, "operator (CLI)", printed["request_record"])
    ]
