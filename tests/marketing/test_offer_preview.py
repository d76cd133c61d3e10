"""The offer preview (a sample basket priced under an offer as typed, through the one pricing
path) over the API and from the console's offer form, and saving, editing and duplicating an
offer through that form, in English and Chinese."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from newretail.tenancy.models import Role
from tests.conftest import Org, api_key_for, console_login

SERUM = {"code": "SERUM-30", "name": "Vitamin C Serum 30 ml", "prices": {"online": "459.00"}}
MASK = {"code": "MASK-5", "name": "Sheet Mask ×5", "prices": {"online": "129.00"}}


def _catalogue(client: TestClient, org: Org) -> dict[str, str]:
    """Two SKUs of the org's brand: a serum (Skincare/Serums) and a mask (Skincare/Masks)."""
    ids = {}
    for sku, path in ((SERUM, "Skincare/Serums"), (MASK, "Skincare/Masks")):
        product = client.post(
            "/api/v1/products",
            headers=org.auth(),
            json={
                "brand_id": str(org.brand_id),
                "code": f"P-{sku['code']}",
                "name": sku["name"].rsplit(" ", 2)[0],
                "category_path": path,
            },
        ).json()
        created = client.post(
            f"/api/v1/products/{product['id']}/skus", headers=org.auth(), json=sku
        )
        assert created.status_code == 201, created.text
        ids[str(sku["code"])] = created.json()["id"]
    return ids


def _threshold(**changes: Any) -> dict[str, Any]:
    offer = {
        "code": "D11-300-40",
        "name": "Double 11: spend 300 save 40",
        "benefit": {"kind": "threshold", "spend": "300.00", "save": "40.00", "repeat": True},
        "combination_class": "order",
    }
    return offer | changes


def test_the_api_prices_a_sample_basket_under_an_offer_as_typed(
    client: TestClient, org: Org
) -> None:
    skus = _catalogue(client, org)
    basket = [
        {"sku_id": skus["SERUM-30"], "quantity": 1},
        {"sku_id": skus["MASK-5"], "quantity": 2},
    ]
    body = {"offer": _threshold(), "lines": basket, "day": "2027-11-11"}
    priced = client.post("/api/v1/marketing/offers/preview", headers=org.auth(), json=body)
    assert priced.status_code == 200, priced.text
    result = priced.json()
    # 459 + 2 × 129 = 717: two multiples of 300, 80 off, split by line amount
    assert (result["subtotal"], result["discount"], result["total"]) == (
        "717.00",
        "80.00",
        "637.00",
    )
    assert [(line["sku_name"], line["discount"]) for line in result["lines"]] == [
        ("Vitamin C Serum 30 ml", "51.21"),
        ("Sheet Mask ×5", "28.79"),
    ]
    assert result["applied"] == [
        {"code": "D11-300-40", "discount": "80.00", "times": 2, "reward_units": 0}
    ]
    once = body | {"offer": _threshold(benefit={"kind": "threshold", "spend": "300", "save": "40"})}
    assert (
        client.post("/api/v1/marketing/offers/preview", headers=org.auth(), json=once).json()[
            "total"
        ]
        == "677.00"
    )
    masks_only = body | {
        "offer": _threshold(scope={"include": {"category_paths": ["Skincare/Masks"]}})
    }
    refused = client.post("/api/v1/marketing/offers/preview", headers=org.auth(), json=masks_only)
    assert refused.json()["refused"] == [{"code": "D11-300-40", "reason": "below_minimum_spend"}]
    assert refused.json()["total"] == "717.00"
    # not saved: the offer list is still empty
    assert client.get("/api/v1/marketing/offers", headers=org.auth()).json() == []
    bad = body | {"offer": _threshold(benefit={"kind": "percent_off", "percent": "120"})}
    refusal = client.post("/api/v1/marketing/offers/preview", headers=org.auth(), json=bad)
    assert (refusal.status_code, refusal.json()["field"]) == (422, "percent")
    counter = body | {"channel_type": "counter"}
    unpriced = client.post("/api/v1/marketing/offers/preview", headers=org.auth(), json=counter)
    assert (unpriced.status_code, unpriced.json()["field"]) == (422, "lines.0")
    analyst = api_key_for(client, org, Role.ANALYST)
    forbidden = client.post(
        "/api/v1/marketing/offers/preview", headers=org.auth(analyst), json=body
    )
    assert forbidden.status_code == 403


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _offer_form(csrf: str, skus: dict[str, str], **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "code": "D11-300-40",
        "name": "Double 11: spend 300 save 40",
        "kind": "threshold",
        "spend": "300",
        "save": "40",
        "repeat": "per_multiple",
        "combination_class": "order",
        "reach": "everywhere",
        "validity_mode": "dates",
        "first_day": "2027-10-20",
        "last_day": "2027-12-11",
        "minimum_spend": "",
        "basket_sku_0": skus["SERUM-30"],
        "basket_qty_0": "1",
        "basket_sku_1": skus["MASK-5"],
        "basket_qty_1": "2",
        "basket_channel_type": "online",
        "basket_day": "2027-11-11",
        "refund_rule": "forfeit",
    }
    return form | changes


def test_the_offer_form_previews_saves_edits_and_duplicates(client: TestClient, org: Org) -> None:
    skus = _catalogue(client, org)
    console_login(client, org.owner_email)
    page = client.get("/console/marketing/offers/new", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Vitamin C Serum 30 ml" in page.text and "First day (local, " in page.text
    csrf = _csrf(page.text)
    preview = client.post("/console/marketing/offers/preview", data=_offer_form(csrf, skus))
    assert preview.status_code == 200, preview.text
    assert preview.json()["total"] == "637.00"
    assert 'id="preview-total">¥637.00</dd>' in preview.json()["html"]
    wrong = client.post(
        "/console/marketing/offers/preview",
        data=_offer_form(csrf, skus, spend="abc", last_day="2027-10-01"),
    )
    assert wrong.status_code == 422
    assert set(wrong.json()["errors"]) == {"spend"}
    backwards = client.post(
        "/console/marketing/offers/preview", data=_offer_form(csrf, skus, last_day="2027-10-01")
    )
    assert backwards.json()["errors"] == {"last_day": "The first day comes before the last."}
    saved = client.post(
        "/console/marketing/offers/new", data=_offer_form(csrf, skus), follow_redirects=False
    )
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/console/marketing?saved_offer=D11-300-40",
    )
    stored = client.get("/api/v1/marketing/offers/D11-300-40", headers=org.auth()).json()["spec"]
    assert stored["benefit"] == {
        "kind": "threshold",
        "spend": "300",
        "save": "40",
        "repeat": True,
        "max_repeats": None,
    }
    assert stored["refund_rule"] == "forfeit"
    assert stored["validity"] == {
        "first_day": "2027-10-20",
        "last_day": "2027-12-11",
        "days_after_issue": None,
    }
    again = client.post("/console/marketing/offers/new", data=_offer_form(csrf, skus))
    assert again.status_code == 409 and "exists" in again.text
    edit = client.get("/console/marketing/offers/D11-300-40/edit")
    assert 'value="300"' in edit.text and 'value="per_multiple" selected' in edit.text
    assert 'value="forfeit" selected' in edit.text
    client.post(
        "/console/marketing/offers/D11-300-40/edit",
        data=_offer_form(csrf, skus, save="50", name="Double 11: spend 300 save 50"),
    )
    stored = client.get("/api/v1/marketing/offers/D11-300-40", headers=org.auth()).json()
    assert (stored["name"], stored["spec"]["benefit"]["save"]) == (
        "Double 11: spend 300 save 50",
        "50",
    )
    client.post("/console/preferences/locale", data={"csrf_token": csrf, "locale": "zh-CN"})
    copy = client.get("/console/marketing/offers/new", params={"copy": "D11-300-40"})
    assert 'value="D11-300-40-COPY"' in copy.text
    assert 'value="Double 11: spend 300 save 50（副本）"' in copy.text
    chinese = client.post(
        "/console/marketing/offers/preview",
        data=_offer_form(csrf, skus, kind="percent_off", percent="120", combination_class="order"),
    )
    assert chinese.json()["errors"] == {"percent": "折扣比例须大于 0 且不超过 100。"}
    empty = client.post(
        "/console/marketing/offers/preview",
        data=_offer_form(csrf, skus, basket_sku_0="", basket_sku_1=""),
    )
    assert empty.json()["errors"] == {"basket": "请为样例购物篮选择 SKU。"}
    refused_form = client.post(
        "/console/marketing/offers/new", data=_offer_form(csrf, skus, code="X-1", save="")
    )
    assert refused_form.status_code == 422
    assert 'data-error="save">' in refused_form.text
