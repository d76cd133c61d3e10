"""Under CI=true an unreachable PostgreSQL fails the run; elsewhere its tests skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/core/test_operations.py::test_migrations_upgrade_downgrade_and_upgrade_again"


def _run(ci: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CI": ci,
        "NEWRETAIL_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1:1/postgres",
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            TARGET,
            "-k",
            "postgresql",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unreachable_postgres_fails_under_ci() -> None:
    result = _run("true")
    assert result.returncode == 1, result.stdout
    assert "CI=true requires PostgreSQL" in result.stdout
    assert "1 error" in result.stdout


def test_unreachable_postgres_skips_elsewhere() -> None:
    result = _run("false")
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
