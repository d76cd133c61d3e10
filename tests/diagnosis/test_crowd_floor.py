"""The crowd floor on the operations centre: a funnel's people per step and the distinct
buyers of the metrics by group (new and returning, and the rates of repeat and cross-channel
buyers) hide every count of 1 … floor−1 people, through the API (null and `suppressed`), the
console ("< N" in both languages) and the CLI, as the Data Bank does. Money, orders, visitors
and the unidentified walk-ins' orders stay exact."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from tests.conftest import ON_SQLITE, TEST_SECRET, Org, console_login, store_args
from tests.diagnosis.test_breakdown import PARAMS as METRIC_DAYS
from tests.diagnosis.test_breakdown import load
from tests.diagnosis.test_funnels import _owned

runner = CliRunner()
DAYS = {"first_day": "2026-11-10", "last_day": "2026-11-16"}


def _floor(client: TestClient, org: Org, size: int) -> None:
    answer = client.put(
        "/api/v1/audiences/settings", headers=org.auth(), json={"min_crowd_size": size}
    )
    assert answer.json() == {"min_crowd_size": size}


def _funnel(client: TestClient, org: Org, **params: str) -> Any:
    answer = client.get("/api/v1/diagnosis/funnels", params={**DAYS, **params}, headers=org.auth())
    assert answer.status_code == 200, answer.text
    return answer.json()


def _steps(body: Any) -> list[tuple[Any, ...]]:
    return [
        (s["step"], s["people"], s["from_previous"], s["from_first"], s["suppressed"])
        for s in body["steps"]
    ]


def test_a_funnel_hides_its_small_steps_and_their_rates(
    client: TestClient, container: Container, org: Org
) -> None:
    _owned(container, org)  # view 6, cart 2, visit 1, pay 1 across; the shop's 3 → 2 in store
    _floor(client, org, 3)
    across = _funnel(client, org, kind="across")
    assert _steps(across) == [
        ("view", 6, None, None, False),
        ("cart", None, None, None, True),
        ("visit", None, None, None, True),
        ("pay", None, None, None, True),
    ]
    assert (across["entered"], across["converted"], across["conversion"]) == (6, None, None)
    assert (across["min_crowd_size"], across["suppressed"]) == (3, True)
    shop = _funnel(client, org, kind="offline", store="S0")
    assert _steps(shop) == [
        ("view", 3, None, None, False),
        ("favourite", 0, 0.0, 0.0, False),
        ("cart", 0, 0.0, 0.0, False),
        ("order", 0, 0.0, 0.0, False),
        ("pay", None, None, None, True),
    ]
    _floor(client, org, 2)
    shop = _funnel(client, org, kind="offline", store="S0")
    assert [s["people"] for s in shop["steps"]] == [3, 0, 0, 0, 2]
    assert (shop["steps"][-1]["from_previous"], shop["conversion"], shop["suppressed"]) == (
        2 / 3,
        2 / 3,
        False,
    )


def _metrics(client: TestClient, org: Org, by: str, floor: int = 3) -> list[Any]:
    answer = client.get(
        "/api/v1/diagnosis/metrics", params={**METRIC_DAYS, "by": by}, headers=org.auth()
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["min_crowd_size"] == floor
    return list(answer.json()["groups"])


PEOPLE = ("buyers", "unidentified_buyers", "new_buyers", "returning_buyers")
RATES = ("repeat_rate", "member_share", "across_share")


def _people(group: Any) -> tuple[Any, ...]:
    now = group["comparison"]
    return (group["name"], *(now[k] for k in (*PEOPLE, *RATES, "suppressed")))


def test_the_metrics_hide_small_counts_of_buyers_and_keep_money(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    _floor(client, org, 3)
    by_store = _metrics(client, org, "store")
    assert [_people(g) for g in by_store] == [
        # 4 buyers: 1 walk-in, new 2 and returning 1 hidden together, so the rates of them
        ("Store 0", 4, 1, None, None, None, 300 / 330, None, True),
        ("Store 1", None, 0, None, None, None, 1.0, None, True),
        ("Web shop", None, 0, None, None, None, 0.0, None, True),
    ]
    shop = by_store[0]["comparison"]
    assert (shop["gmv"], shop["visitors"], shop["transactions"], shop["order_value"]) == (
        "330.00",
        2,
        5,
        "66.00",
    )
    whole = _metrics(client, org, "organisation")
    # 7 buyers, 6 identified: new 4 and returning 2 (hidden together), 1 repeat, 3 across
    assert [_people(g) for g in whole] == [
        ("All your stores", 7, 1, None, None, None, 380 / 450, None, True)
    ]
    _floor(client, org, 2)
    whole = _metrics(client, org, "organisation", 2)
    assert [_people(g) for g in whole] == [  # the 1 repeat buyer (m1) hides the repeat rate
        ("All your stores", 7, 1, 4, 2, None, 380 / 450, 3 / 6, True)
    ]
    assert whole[0]["base"]["suppressed"] is False  # nothing bought before: zeros hide nobody


BELOW = (
    '<span class="below-floor" title="Fewer than 3 people: hidden by the minimum crowd '
    'size">&lt; 3</span>'
)


@ON_SQLITE
def test_the_funnels_page_shows_less_than_n_in_both_languages(
    client: TestClient, container: Container, org: Org
) -> None:
    _owned(container, org)
    _floor(client, org, 3)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis/funnels", params=DAYS).text
    across = page.split('data-funnel="across"', 1)[1].split("</table>", 1)[0]
    assert across.count(BELOW) == 3 and '<td class="text-end">6</td>' in across
    assert "&lt; 3 of 6 paid (—)." in page
    assert 'id="funnel-floor-note"' in page and "shown as “&lt; 3”" in page
    chinese = client.get(
        "/console/diagnosis/funnels", params=DAYS, headers={"Accept-Language": "zh-CN"}
    ).text
    assert 'title="少于 3 人：低于最小人群规模，不予显示">&lt; 3</span>' in chinese
    assert "少于 3 人的计数显示为“&lt; 3”" in chinese
    assert "6 人中 &lt; 3 人支付（—）。" in chinese


@ON_SQLITE
def test_the_metrics_page_shows_less_than_n(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    _floor(client, org, 3)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis/metrics", params={**METRIC_DAYS, "by": "store"}).text
    shop = page.split('id="metrics-buyers"', 1)[1].split('data-group="Store 1"', 1)[0]
    assert f'data-metric="new_buyers">{BELOW}' in shop
    assert 'data-metric="buyers">4' in shop
    assert 'id="metrics-floor-note"' in page
    chinese = client.get(
        "/console/diagnosis/metrics",
        params={**METRIC_DAYS, "by": "store"},
        headers={"Accept-Language": "zh-CN"},
    ).text
    assert 'title="少于 3 人：低于最小人群规模，不予显示">&lt; 3</span>' in chinese


@ON_SQLITE
def test_the_cli_prints_less_than_n(
    client: TestClient,
    container: Container,
    settings: Any,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    _owned(container, org)
    _floor(client, org, 3)
    api = _funnel(client, org, kind="across")
    container.warehouse.close()  # the command opens the embedded warehouse itself
    days = ["--from", "2026-11-10", "--to", "2026-11-16"]
    funnel = [*store_args(settings), "diagnosis", "funnel", "across", "--org", org.slug, *days]
    as_json = runner.invoke(app, [*funnel, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == api
    human = " ".join(runner.invoke(app, funnel).stdout.split())
    assert "View │ 6 │ — │ —" in human and "Payment │ < 3 │ — │ —" in human
    assert "< 3 of 6 paid (—)" in human


@ON_SQLITE
def test_the_cli_metrics_print_less_than_n(
    client: TestClient,
    container: Container,
    settings: Any,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    load(container, org)
    _floor(client, org, 3)
    container.warehouse.close()  # the command opens the embedded warehouse itself
    metrics = [*store_args(settings), "diagnosis", "metrics", "--org", org.slug]
    metrics += ["--by", "organisation", "--from", "2026-11-10", "--to", "2026-11-16"]
    metrics += ["--against-from", "2026-11-03", "--against-to", "2026-11-09"]
    words = " ".join(runner.invoke(app, metrics).stdout.split())
    assert "│ All your │ 7 │ < 3 │ < 3 │ — │ 84.4 % │ — │ ¥50.00 │" in words  # the name wraps
