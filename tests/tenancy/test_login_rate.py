"""Failed console sign-ins per client address: past the allowance, 429 on the login page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import bootstrap
from newretail.core import migrate
from newretail.core.settings import Settings
from newretail.main import create_app
from tests.conftest import PASSWORD, TEST_SECRET, Org, make_org


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[TestClient, Org]]:
    """Two failed sign-ins per address in 15 minutes."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'ops.sqlite3'}",
        warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}",
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
        login_address_max_failures=2,
        login_address_window_minutes=15,
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    org = make_org(container)
    with TestClient(create_app(container=container)) as client:
        yield client, org
    container.close()


def _sign_in(client: TestClient, email: str, password: str, lang: str = "en") -> httpx.Response:
    page = client.get(f"/console/login?lang={lang}")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def test_an_address_past_its_failed_sign_ins_gets_429_in_its_language(
    limited: tuple[TestClient, Org],
) -> None:
    client, org = limited
    # two different accounts: the limit is the address's, not an account's lockout
    assert _sign_in(client, org.owner_email, "wrong password 1").status_code == 401
    assert _sign_in(client, "nobody@example.com", "wrong password 2").status_code == 401
    # the right password is not even checked now
    refused = _sign_in(client, org.owner_email, PASSWORD)
    assert refused.status_code == 429
    # one more try comes back after 15 min / 2 failures = 450 s
    assert 440 < int(refused.headers["retry-after"]) <= 450
    assert "Too many failed sign-ins from this address. Try again in 8 min." in refused.text
    chinese = _sign_in(client, org.owner_email, PASSWORD, lang="zh-CN")
    assert chinese.status_code == 429
    assert "此地址登录失败次数过多，请 8 分钟后再试。" in chinese.text


def test_successful_sign_ins_take_nothing_from_the_allowance(
    limited: tuple[TestClient, Org],
) -> None:
    client, org = limited
    for _ in range(4):
        assert _sign_in(client, org.owner_email, PASSWORD).status_code == 303
    assert _sign_in(client, org.owner_email, "wrong password").status_code == 401
    assert _sign_in(client, org.owner_email, PASSWORD).status_code == 303
