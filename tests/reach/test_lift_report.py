"""The lift report through the API, the CLI and the console on the constructed campaign of
tests/reach/lift_data.py: every count-based figure equals `lift.lift_report` on its counts, the
names, labels and local dates are there, en and zh-CN."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.i18n import translator
from newretail.core.settings import Settings
from newretail.reach import lift, lift_reads
from tests.conftest import TEST_SECRET, Org, console_login, store_args
from tests.console_pages import text
from tests.reach.lift_data import HOLDOUT_SPEND, TREATED_SPEND, build

runner = CliRunner()


def _interval(found: lift.Interval) -> dict[str, Any]:
    return {"estimate": found.estimate, "low": found.low, "high": found.high, "gap": found.gap}


def _money(found: lift.MoneyInterval | None) -> dict[str, Any] | None:
    if found is None:
        return None
    shown = {k: getattr(found, k) for k in ("estimate", "low", "high")}
    return {k: None if v is None else str(v) for k, v in shown.items()} | {"gap": found.gap}


def _expected() -> lift.LiftReport:
    return lift.lift_report(
        lift.Arm(4, 2, TREATED_SPEND),
        lift.Arm(3, 1, HOLDOUT_SPEND),
        holdout_share=0.5,
        cost=Decimal("50.00"),
    )


def _check(body: dict[str, Any], org: Org) -> None:
    expected = _expected()
    assert (body["campaign_name"], body["stage"], body["stage_name"]) == (
        "Double 11 at the counter",
        1,
        "Counter week",
    )
    assert (body["window_days"], body["time_zone"], body["holdout_percent"]) == (
        14,
        "Asia/Shanghai",
        50,
    )
    # 04:00 UTC is noon in Shanghai; the offset says so
    assert body["first_exposure"] == "2027-11-11T12:00:00+08:00"
    assert body["last_exposure"] == "2027-11-11T14:00:00+08:00"
    assert body["both_arms"] == 1
    treated, holdout = body["treated"], body["holdout"]
    assert (treated["members"], treated["converted"], treated["rate"]) == (4, 2, 0.5)
    assert (holdout["members"], holdout["converted"]) == (3, 1)
    assert (treated["redeemed_members"], treated["converted_where_reached"]) == (1, 1)
    interest = ("online_interest", "online_interest_converted", "online_interest_bought_offline")
    assert [treated[k] for k in interest] == [2, 1, 1]
    assert [holdout[k] for k in interest] == [1, 1, 1]
    assert (treated["rate_low"], treated["rate_high"]) == pytest.approx(lift.wilson_interval(2, 4))
    for key in ("difference", "relative_lift", "ratio", "incremental_purchasers"):
        assert body[key] == _interval(getattr(expected, key)), key
    assert body["sample_ratio"] == {
        "expected_holdout_share": 0.5,
        "observed_holdout_share": 3 / 7,
        "chi_square": expected.sample_ratio.chi_square,
        "p_value": expected.sample_ratio.p_value,
        "mismatch": False,
    }
    effect = expected.detectable_effect
    assert body["detectable_effect"] == {
        "effect_size": effect.effect_size,
        "absolute": effect.absolute,
        "relative": effect.relative,
        "gap": effect.gap,
    }
    assert (body["cost"], body["redeemed_coupons"]) == ("50.00", 1)
    assert body["cost_per_incremental_purchaser"] == _money(expected.cost_per_incremental_purchaser)
    assert body["incremental_gmv"] == _money(expected.incremental_gmv)
    assert body["incremental_gmv_cuped"] == _money(expected.incremental_gmv_cuped)
    assert [
        (w["arm"], w["store_name"], w["channel"], w["converters"], w["gmv"])
        for w in body["where_bought"]
    ] == [
        ("treated", "Store 1", "store", 1, "300.00"),
        ("treated", "Store 0", "online", 1, "120.00"),
        ("holdout", "Store 1", "store", 1, "200.00"),
    ]
    # 2 of 4 against 1 of 3 is not significant; Cohen's h = 2 asin √0.5 - 2 asin √(1/3) = 0.3398,
    # (z 1.96 + z 0.84)² / h² / (3/7 · 4/7) = 277.5 members in all: 278 - 7 = 271 more
    assert [(h["code"], h["members_needed"]) for h in body["hints"]] == [("not_significant", 271)]


def test_the_api_answers_lift_report_on_the_measured_counts(
    client: TestClient, container: Container, org: Org
) -> None:
    data = build(container, org)
    path = f"/api/v1/reach/campaigns/{data.reach.campaign.id}/lift"
    answer = client.get(path, params={"stage": 1}, headers=org.auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    _check(body, org)
    assert [w["channel_label"] for w in body["where_bought"]] == ["Shop", "Online", "Shop"]
    assert body["hints"][0]["text"].startswith("Not significant yet: at these rates about 271 more")
    chinese = client.get(
        path, params={"stage": 1}, headers=org.auth() | {"Accept-Language": "zh-CN"}
    ).json()
    assert [w["channel_label"] for w in chinese["where_bought"]] == ["门店", "线上", "门店"]
    assert chinese["hints"][0]["text"].startswith(
        "尚不显著：按当前转化率，大约还需触达或留出 271 位"
    )

    missing = client.get(path, params={"stage": 2}, headers=org.auth())
    assert (missing.status_code, missing.json()["code"]) == (404, "campaign_stage_not_found")
    wide = client.get(path, params={"window_days": 91}, headers=org.auth())
    assert wide.status_code == 422
    assert wide.json()["field"] == "query.window_days"

    exposures = client.get(
        f"/api/v1/reach/members/{data.treated[0]}/exposures", headers=org.auth()
    ).json()
    assert [(e["reason"], e["stage"], e["occurred_at"]) for e in exposures] == [
        ("treated", 1, "2027-11-11T04:00:00Z"),
        ("treated", 1, "2027-11-12T04:00:00Z"),
    ]
    held = client.get(
        f"/api/v1/reach/members/{data.holdout[0]}/exposures",
        params={"campaign_id": str(data.reach.campaign.id)},
        headers=org.auth(),
    ).json()
    assert [e["reason"] for e in held] == ["holdout"]


def check_the_cli(settings: Settings, org: Org) -> None:
    """`newretail reach lift` prints the report: `--json` as the API's, the human one with its
    stores and next step, and a stage the campaign lacks refused by name."""
    base = [*store_args(settings), "reach", "lift", "Double 11 at the counter", "--org", org.slug]
    result = runner.invoke(app, [*base, "--stage", "1", "--json"])
    assert result.exit_code == 0, result.output
    _check(json.loads(result.stdout), org)
    human = runner.invoke(app, [*base, "--window-days", "15"])
    assert human.exit_code == 0, human.output
    assert "Double 11 at the counter: lift in 15 days" in human.stdout
    assert "Store 1" in human.stdout and "next: " in human.stdout
    refused = runner.invoke(app, [*base, "--stage", "3"])
    assert refused.exit_code == 2
    assert "campaign_stage_not_found" in refused.output


def test_the_cli_prints_the_same_report(
    container: Container, settings: Settings, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    data = build(container, org)
    container.warehouse.close()  # the command opens the embedded warehouse itself
    check_the_cli(settings, org)
    assert data.reach.campaign.name == "Double 11 at the counter"


def test_the_console_page_in_english_and_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    data = build(container, org)
    console_login(client, org.owner_email)
    campaign_page = client.get(f"/console/marketing/campaigns/{data.reach.campaign.id}")
    page_path = f"/console/reach/campaigns/{data.reach.campaign.id}/lift"
    assert f'href="{page_path}"' in campaign_page.text
    english = client.get(page_path, params={"stage": 1}, headers={"Accept-Language": "en"})
    assert english.status_code == 200, english.text
    html = english.text
    assert text(html, "lift-title") == "Lift report · Double 11 at the counter · Counter week"
    assert "2027-11-11 12:00" in text(html, "lift-period") and "Asia/Shanghai" in html
    assert text(html, "arm-treated").startswith("Reached")
    # four interval charts: rate difference, relative lift, purchasers, GMV (CUPED)
    assert html.count('<svg class="lift-chart"') == 4
    assert 'id="chart-incremental_gmv_cuped"' in html
    assert html.count('class="ci-bar"') == 4 and html.count('class="ci-point"') == 4
    assert "srm-warning" not in html
    # seven members detect nothing: the MDE sentence says why
    assert text(html, "mde") == (
        "Not detectable: even a conversion rate of 100% would be too small a lift at these "
        "group sizes."
    )
    assert "about 271 more members" in html
    assert "Store 1" in html and "Online" in html
    cells = '<td class="text-end">{}</td><td class="text-end">{}</td><td class="text-end">{}</td>'
    assert f'<tr id="o2o-treated"><th>Reached</th>{cells.format(2, 1, 1)}</tr>' in html
    assert f'<tr id="o2o-holdout"><th>Holdout</th>{cells.format(1, 1, 1)}</tr>' in html
    chinese = client.get(page_path, params={"stage": 1}, headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 200
    assert text(chinese.text, "lift-title") == "增量报告 · Double 11 at the counter · Counter week"
    assert "触达组" in chinese.text and "留出组" in chinese.text and "线上" in chinese.text
    assert "大约还需触达或留出 271 位会员" in chinese.text
    assert client.get(page_path, params={"stage": 9}).status_code == 404


@pytest.mark.parametrize(
    ("locale", "effect", "sentence"),
    [
        (
            "en",
            {"effect_size": 0.3, "absolute": 0.1215, "relative": 1.215, "gap": None},
            "With these arms, a true lift of 12.15 percentage points (122 % of the holdout's "
            "rate) would be detected 80% of the time.",
        ),
        (
            "en",
            {"effect_size": 0.7, "absolute": 0.1215, "relative": None, "gap": None},
            "With these arms, a true lift of 12.15 percentage points would be detected 80% of "
            "the time (the holdout has no conversions to compare it with).",
        ),
        (
            "zh-CN",
            {"effect_size": 0.7, "absolute": 0.1215, "relative": None, "gap": None},
            "按当前分组规模，12.15 个百分点的真实提升有 80% 的概率被检出（留出组尚无转化，"
            "无法折算为相对提升）。",
        ),
        (
            "en",
            {
                "effect_size": None,
                "absolute": None,
                "relative": None,
                "gap": "effect_beyond_certainty",
            },
            "Not detectable: even a conversion rate of 100% would be too small a lift at these "
            "group sizes.",
        ),
    ],
)
def test_the_detectable_effect_sentence(locale: str, effect: dict[str, Any], sentence: str) -> None:
    """A holdout without conversions has no rate to relate the lift to: the sentence gives the
    points alone (the demo's page printed "(— of the holdout's rate)")."""
    read = lift_reads.DetectableEffectRead.model_validate(effect)
    assert lift_reads.detectable_sentence(translator(locale), read) == sentence
