"""The API answers a refusal in the caller's language (Accept-Language): a domain error's own
Chinese text, or its code's general text with the English reason kept; English otherwise."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.conftest import Org

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def refusal(client: TestClient, org: Org, path: str, language: dict[str, str]) -> tuple:
    answer = client.get(path, headers={**org.auth(), **language})
    body = answer.json()
    return answer.status_code, body["code"], body["field"], body["message"]


def test_domain_refusals_in_chinese_and_english(client: TestClient, org: Org) -> None:
    coupons = "/api/v1/marketing/coupons"
    assert refusal(client, org, coupons, {}) == (
        422,
        "invalid_input",
        "code",
        "give a code, a member_id or an order_id",
    )
    assert refusal(client, org, coupons, ZH) == (
        422,
        "invalid_input",
        "code",
        "输入无效（give a code, a member_id or an order_id）",
    )
    unknown = f"{coupons}?code=NO-SUCH-CODE"
    assert refusal(client, org, unknown, {"Accept-Language": "en"})[:3] == (
        404,
        "coupon_not_found",
        "code",
    )
    assert refusal(client, org, unknown, ZH)[3] == "没有这张优惠券。"
    store = f"/api/v1/stores/{uuid.uuid4()}"
    assert refusal(client, org, store, ZH)[:2] == (404, "not_found")
    assert refusal(client, org, store, ZH)[3].startswith("未找到（")
