"""The Data Bank page: names and translated labels, the zone, and the server's backfill button."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.databank import backfills
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org, console_login
from tests.databank.history import count_everyone, day, event, load

D = day(3)


def _table(html: str, dimension: str) -> list[list[str]]:
    body = html.split(f'id="breakdown-{dimension}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", body)
    return [list(row) for row in rows]


def _open_the_page(client: TestClient, container: Container, org: Org) -> str:
    """Three events on day D, the owner signed in: the page of D as HTML."""
    count_everyone(container.sessions, org.id)
    brand, o, store = str(org.brand_id), str(org.id), str(org.store_ids[0])
    rows = [
        event(
            o,
            "purchase",
            D,
            "buyer",
            brand,
            store=store,
            channel="vending",
            properties={"category": "Tea/Green"},
        ),
        event(
            o,
            "product_view",
            D,
            "viewer",
            brand,
            store=None,
            channel="cloud_shelf",
            properties={"category": "tea"},
        ),
        event(
            o,
            "product_view",
            D,
            "browser",
            brand,
            store=None,
            channel="cloud_shelf",
            properties={"category": "Tea/Oolong"},
        ),
    ]
    with container.warehouse.lock:
        load(container.warehouse.connection(), rows)
    console_login(client, org.owner_email)
    page = client.get(f"/console/databank?day={D}")
    assert page.status_code == 200, page.text
    return page.text


def _missing_all(html: str) -> None:
    first = (D - timedelta(days=56)).isoformat()
    assert (
        f"57 days this page reads have no snapshot yet (trend, FAST). Missing: {first} – {D}."
        in html
    )


def test_breakdowns_by_names_and_labels(client: TestClient, container: Container, org: Org) -> None:
    html = _open_the_page(client, container, org)
    assert "Asia/Shanghai (UTC+08:00)" in html.split('id="databank-zone"', 1)[1][:200]
    assert _table(html, "channel") == [
        ["Interested", "Cloud shelf", "2"],
        ["Purchased", "Vending machine", "1"],
    ]
    assert _table(html, "store_id") == [
        ["Interested", "Not recorded", "2"],
        ["Purchased", "Store 0", "1"],
    ]
    assert _table(html, "city") == [
        ["Interested", "Not recorded", "2"],
        ["Purchased", "Shanghai", "1"],
    ]
    assert _table(html, "category") == [["Interested", "Tea", "2"], ["Purchased", "Tea", "1"]]
    _missing_all(html)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/console/preferences/locale", data={"locale": "zh-CN", "csrf_token": token})
    chinese = client.get(f"/console/databank?day={D}").text
    assert _table(chinese, "channel") == [["兴趣", "云货架", "2"], ["购买", "无人售货机", "1"]]
    assert _table(chinese, "category") == [["兴趣", "茶叶", "2"], ["购买", "茶叶", "1"]]
    assert "日期为组织所在地的本地日期" in chinese


# The backfill is warehouse work (DuckDB here whatever the operational store); the operational
# store is read once for the brands, as on the page above: SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_backfill_button(client: TestClient, container: Container, org: Org) -> None:
    brand = str(org.brand_id)
    html = _open_the_page(client, container, org)
    _missing_all(html)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    started = client.post(
        "/console/databank/backfill",
        data={"csrf_token": token, "day": D.isoformat(), "brand_id": brand},
        follow_redirects=False,
    )
    assert started.status_code == 303
    assert started.headers["location"] == f"/console/databank?brand_id={brand}&day={D}"
    owner = Principal.for_role(PrincipalKind.USER, org.id, "owner", actor="test")
    backfill = backfills.runner(container.warehouse).latest(owner)
    assert backfill is not None and len(backfill.days) == 57
    # the page shows the progress while the backfill runs (read once: each read of the page
    # queries the warehouse between the backfill's days)
    progress = client.get(f"/console/databank?day={D}").text
    assert 'id="databank-backfill-progress"' in progress or backfill.status != "running"
    deadline = time.monotonic() + 300
    while backfill.status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (backfill.status, backfill.done, backfill.runs[-1].rows) == ("done", 57, 3)
    done = client.get(f"/console/databank?day={D}").text
    assert 'id="databank-backfill"' not in done and 'id="databank-backfill-progress"' not in done
    fast = done.split('id="fast-table"', 1)[1].split("</table>", 1)[0]
    last_week = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td>", fast)[-1]
    assert last_week == (D.isoformat(), "3", "0.0%")
    assert (
        client.get(f"/api/v1/databank/backfills/{backfill.id}", headers=org.auth()).json()["status"]
        == "done"
    )
    assert datetime.now(UTC) - timedelta(days=1) > backfill.started_at - timedelta(days=1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backfill_ending_while_the_page_is_made_leaves_no_days_missing_on_it(
    client: TestClient, container: Container, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page counted the missing days, then read the backfill's status when rendering: a
    backfill ending in between showed its last days as missing and no progress (CI saw "3 of
    the 57 days … Missing: 2026-12-04 – 2026-12-06" after the browser's backfill)."""
    _open_the_page(client, container, org)
    first = D - timedelta(days=56)
    days = [first + timedelta(days=k) for k in range(57)]
    running = backfills.Backfill("backfill-ending", org.id, first, D, days, done=54)
    registry = backfills.runner(container.warehouse)._backfills
    registry._jobs[running.id] = running
    count_missing = backfills.missing_days

    def missing_then_the_backfill_ends(*args: Any) -> list[date]:
        found = count_missing(*args)
        running.done, running.status = 57, "done"  # its thread ends while the page goes on
        return found

    monkeypatch.setattr(backfills, "missing_days", missing_then_the_backfill_ends)
    html = client.get(f"/console/databank?day={D}").text
    assert 'id="databank-backfill-progress"' in html  # as it stood when the page began
    assert 'id="databank-backfill"' not in html
