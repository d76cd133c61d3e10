"""Refused input explained in the reader's language: the API (Accept-Language) and console forms."""

from __future__ import annotations

import html
import json
from importlib.resources import files

from fastapi.testclient import TestClient

from newretail.core import error_text
from newretail.core.errors import Conflict
from newretail.core.i18n import LOCALES
from newretail.members.errors import InsufficientPoints
from tests.conftest import Org, console_login

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_api_reasons_follow_accept_language(client: TestClient, org: Org) -> None:
    bad_store = {"code": "", "name": "n", "channel_type": "moon", "latitude": "north"}
    english = client.post("/api/v1/stores", headers=org.auth(), json=bad_store).json()
    chinese = client.post("/api/v1/stores", headers={**org.auth(), **ZH}, json=bad_store).json()
    assert [(e["field"], e["reason"]) for e in english["errors"]] == [
        ("body.latitude", "Input should be a valid number, unable to parse string as a number"),
        ("body.code", "String should have at least 1 character"),
        (
            "body.channel_type",
            "Input should be 'online', 'store', 'counter', 'popup', 'cloud_shelf', 'vending' "
            "or 'warehouse'",
        ),
    ]
    assert [(e["field"], e["reason"]) for e in chinese["errors"]] == [
        ("body.latitude", "必须是数字"),
        ("body.code", "至少 1 个字符"),
        (
            "body.channel_type",
            "必须是以下之一：'online'、'store'、'counter'、'popup'、'cloud_shelf'、'vending'、"
            "'warehouse'",
        ),
    ]
    assert (chinese["code"], chinese["message"]) == ("invalid_input", "body.latitude: 必须是数字")


def test_api_custom_reasons_in_chinese(client: TestClient, org: Org) -> None:
    hours = client.post(
        "/api/v1/stores",
        headers={**org.auth(), **ZH},
        json={
            "code": "OK2",
            "name": "n",
            "channel_type": "store",
            "opening_hours": {"mon": [["22:00", "09:00"]]},
            "extra": 1,
        },
    ).json()
    assert [(e["field"], e["reason"]) for e in hours["errors"]] == [
        ("body.opening_hours", "mon 第 0 段：开门 22:00 晚于或等于关门 09:00"),
        ("body.extra", "不是可接受的字段"),
    ]
    zone = client.patch(
        f"/api/v1/stores/{org.store_ids[0]}",
        headers={**org.auth(), **ZH},
        json={"time_zone": "Mars/Base"},
    ).json()
    assert zone["message"] == "body.time_zone: 未知时区 'Mars/Base'"
    english = client.patch(
        f"/api/v1/stores/{org.store_ids[0]}", headers=org.auth(), json={"time_zone": "Mars/Base"}
    ).json()
    assert english["message"] == "body.time_zone: unknown time zone 'Mars/Base'"


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _feedback(page: str) -> list[str]:
    parts = page.split('class="invalid-feedback">')[1:]
    return [html.unescape(part.split("<", 1)[0].strip()) for part in parts]


def test_store_form_errors_in_chinese(client: TestClient, org: Org) -> None:
    console_login(client, org.owner_email)
    token = _csrf(client.get("/console/stores/new").text)
    client.post("/console/preferences/locale", data={"csrf_token": token, "locale": "zh-CN"})
    form = {
        "csrf_token": token,
        "code": "",
        "name": "新店",
        "channel_type": "store",
        "status": "active",
        "time_zone": "Asia/Shanghai",
        "latitude": "北纬",
        "opening_hours": "",
    }
    not_a_number = client.post("/console/stores/new", data=form)
    assert not_a_number.status_code == 422
    assert _feedback(not_a_number.text) == ["必须是数字"]
    refused = client.post("/console/stores/new", data={**form, "latitude": "", "code": ""})
    assert _feedback(refused.text) == ["至少 1 个字符"]
    hours = client.post(
        "/console/stores/new", data={**form, "latitude": "", "code": "N1", "opening_hours": "x"}
    )
    assert _feedback(hours.text) == ["第 1 行：应形如 mon 10:00-22:00"]
    zone = client.post(
        "/console/stores/new", data={**form, "latitude": "", "code": "N1", "time_zone": "Mars"}
    )
    assert _feedback(zone.text) == ["未知时区 'Mars'"]


def test_every_english_message_has_a_chinese_one() -> None:
    root = files("newretail")
    for folder in root.iterdir():
        if not (folder / "locales").is_dir():
            continue
        catalogues = {
            locale: json.loads((folder / "locales" / f"{locale}.json").read_text("utf-8"))
            for locale in LOCALES
        }
        assert sorted(set(catalogues["en"]) - set(catalogues["zh-CN"])) == [], folder.name


def test_domain_errors_in_the_readers_language() -> None:
    short = InsufficientPoints(available=1, asked=5)
    assert error_text.domain_error(short, "en") == short.message
    assert error_text.domain_error(short, "zh-CN") == "可用积分不足：可用 1，需要 5"
    taken = Conflict("a store with code 'S1' exists", field="code")
    assert error_text.domain_error(taken, "en") == "a store with code 'S1' exists"
    assert error_text.domain_error(taken, "zh-CN") == "与现有数据冲突"
