"""The campaign planner of the console: a plan of stages saved as a draft (names of offers,
audiences and stores picked, budgets per stage and store), refusals under the field at fault
in English and Chinese, and a draft's plan changed."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient

from newretail.marketing import campaign_form
from tests.conftest import Org, console_login
from tests.marketing.test_campaign_api import THRESHOLD


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _plan(csrf: str, org: Org, **changes: str) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": csrf,
        "name": "Double 11",
        "brand_id": str(org.brand_id),
        "description": "Pre-sale online, then the counters.",
        "holdout_percent": "10",
        "stage_0_name": "Pre-sale",
        "stage_0_kind": "pre_sale",
        "stage_0_first_day": "2027-10-20",
        "stage_0_last_day": "2027-10-31",
        "stage_0_reach": "online",
        "stage_0_offer_codes": ["D11-300-40"],
        "stage_0_issue_limit": "5000",
        "stage_1_name": "",
        "stage_2_name": "30-day offline extension",
        "stage_2_kind": "offline_extension",
        "stage_2_first_day": "2027-11-12",
        "stage_2_last_day": "2027-12-11",
        "stage_2_reach": "channel_types",
        "stage_2_channel_types": ["counter", "store"],
        "stage_2_offer_codes": ["D11-300-40"],
        "stage_2_amount_limit": "20000.00",
        "stage_2_store_0_store_id": str(org.store_ids[1]),
        "stage_2_store_0_redeem_limit": "100",
    }
    return form | changes


def test_the_double_11_plan_is_the_next_double_11() -> None:
    assert campaign_form.double_11_plan(date(2026, 12, 6)) == [
        {
            "kind": "pre_sale",
            "first_day": "2027-10-20",
            "last_day": "2027-10-31",
            "reach": "online",
        },
        {"kind": "main_day", "first_day": "2027-11-11", "last_day": "2027-11-11"},
        {
            "kind": "offline_extension",
            "first_day": "2027-11-12",
            "last_day": "2027-12-11",
            "reach": "offline",
        },
    ]
    assert campaign_form.double_11_plan(date(2026, 11, 11))[1]["first_day"] == "2026-11-11"


def test_plan_a_campaign_from_the_console(client: TestClient, org: Org) -> None:
    client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD)
    console_login(client, org.owner_email)
    page = client.get("/console/marketing/campaigns/new", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Double 11: spend 300 save 40</option>" in page.text  # offers by name
    assert '"first_day": "20' in page.text  # the Double 11 plan the button fills in
    csrf = _csrf(page.text)
    saved = client.post(
        "/console/marketing/campaigns/new", data=_plan(csrf, org), follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    campaign_id = saved.headers["location"].split("/")[-1].split("?")[0]
    campaign = client.get(f"/api/v1/marketing/campaigns/{campaign_id}", headers=org.auth()).json()
    assert campaign["state"] == "draft"
    assert [(s["name"], s["first_day"], s["last_day"]) for s in campaign["stages"]] == [
        ("Pre-sale", "2027-10-20", "2027-10-31"),
        ("30-day offline extension", "2027-11-12", "2027-12-11"),
    ]
    extension = campaign["stages"][1]
    assert extension["channels"] == {
        "reach": "channel_types",
        "channel_types": ["counter", "store"],
        "store_ids": [],
    }
    assert [
        (b["store_name"], b["redeem_limit"], b["amount_limit"]) for b in extension["budgets"]
    ] == [
        (None, None, "20000.00"),
        ("Store 1", 100, None),
    ]
    shown = client.get(saved.headers["location"])
    assert "Planned as a draft" in shown.text and 'id="change-plan"' in shown.text
    replan = client.get(f"/console/marketing/campaigns/{campaign_id}/plan")
    assert 'value="30-day offline extension"' in replan.text
    changed = client.post(
        f"/console/marketing/campaigns/{campaign_id}/plan",
        data=_plan(csrf, org, stage_0_issue_limit="6000"),
        follow_redirects=False,
    )
    assert changed.status_code == 303
    audit = client.get(f"/api/v1/marketing/campaigns/{campaign_id}/audit", headers=org.auth())
    assert [a["change"] for a in audit.json()] == ["created", "replanned"]

    overlapping = _plan(csrf, org, name="Overlap", stage_2_first_day="2027-10-30")
    refused = client.post("/console/marketing/campaigns/new", data=overlapping)
    assert refused.status_code == 422
    assert re.search(r'data-error="stage_2_first_day">Starts before the stage before', refused.text)
    client.post("/console/preferences/locale", data={"csrf_token": csrf, "locale": "zh-CN"})
    backwards = _plan(csrf, org, name="Backwards", stage_0_last_day="2027-10-01")
    chinese = client.post("/console/marketing/campaigns/new", data=backwards)
    assert 'data-error="stage_0_last_day">结束日期早于开始日期。' in chinese.text
    bad_limit = client.post(
        "/console/marketing/campaigns/new",
        data=_plan(csrf, org, name="x", stage_0_issue_limit="-1"),
    )
    assert bad_limit.status_code == 422
    assert re.search(r'data-error="stage_0_issue_limit">[^<]*0', bad_limit.text)
    taken = client.post("/console/marketing/campaigns/new", data=_plan(csrf, org))
    assert taken.status_code == 409 and 'data-error="name">' in taken.text
