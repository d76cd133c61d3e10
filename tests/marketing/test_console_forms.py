"""The marketing console's forms in a real browser on the seeded demo: an offer made through
the form while its live preview prices a sample basket (the exact total as a field changes),
a campaign planned with the one-click Double 11 plan, and the coupons of a demo member found
by phone; English and Chinese. Screenshots of each page in both languages go to
/tmp/shots-mconsole/ (for a person to look at; nothing asserts on them)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from newretail.core.localtime import today
from newretail.marketing.campaign_form import double_11_plan
from tests.console import test_browser as shared
from tests.console import test_browser_commerce as commerce

pytestmark = pytest.mark.browser

server_url = shared.server_url
browser = shared.browser
api = commerce.api
SHOTS = Path("/tmp/shots-mconsole")  # noqa: S108 (where the reviewer looks)
SERUM, MASK = "LB-VC-SERUM-30", "LB-SHEET-MASK-5"
ZONE = "Asia/Shanghai"  # the demo organisation's


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _switch(page: Page, locale: str) -> None:
    page.click(f"#language-switcher button:has-text('{commerce.LANGUAGES[locale]}')")
    expect(page.locator("html")).to_have_attribute("lang", locale)


def test_an_offer_made_through_the_form_with_its_live_preview(
    browser: Browser, server_url: str, api: httpx.Client
) -> None:
    serum, mask = commerce._sku(api, SERUM), commerce._sku(api, MASK)
    serum_price, mask_price = Decimal(serum["prices"]["online"]), Decimal(mask["prices"]["online"])
    subtotal = serum_price + 3 * mask_price
    assert subtotal >= 600  # the basket meets "spend 300" twice
    context, page = commerce._signed_in(browser, server_url, "en")
    try:
        page.goto("/console/marketing")
        page.click("#new-offer")
        expect(page.locator("main h1")).to_have_text("New offer")
        page.fill("#f-name", "Browser: spend 300 save 40")
        page.fill("#f-code", "BROWSER-300-40")
        page.select_option("#f-kind", "threshold")
        page.fill("#f-spend", "300")
        page.fill("#f-save", "40")
        page.select_option("#f-basket_sku_0", serum["id"])
        page.select_option("#f-basket_sku_1", mask["id"])
        page.fill("#f-basket_qty_1", "3")
        total = page.locator("#preview-total")
        expect(total).to_have_text(_yuan(subtotal - 40))  # once
        page.select_option("#f-repeat", "per_multiple")
        times = int(subtotal // 300)
        expect(total).to_have_text(_yuan(subtotal - 40 * times))
        expect(page.locator("[data-applied]")).to_contain_text(f"{times} times")
        page.fill("#f-minimum_spend", "5000")
        expect(page.locator("[data-refused=below_minimum_spend]")).to_be_visible()
        expect(total).to_have_text(_yuan(subtotal))
        page.fill("#f-minimum_spend", "")
        page.fill("#f-save", "-5")  # refused next to the field, live
        expect(page.locator('[data-error="save"]')).not_to_be_empty()
        expect(page.locator("#f-save")).to_have_class("form-control is-invalid")
        page.fill("#f-save", "40")
        expect(total).to_have_text(_yuan(subtotal - 40 * times))
        _shot(page, "offer-form-en.png")
        page.click("#save-offer")
        expect(page.locator("#offer-saved")).to_have_text("Offer BROWSER-300-40 saved.")
        row = page.locator("#offer-list tr", has_text="Browser: spend 300 save 40")
        expect(row).to_contain_text("Spend ¥300, save ¥40")
        saved = commerce._get(api, "/api/v1/marketing/offers/BROWSER-300-40")
        assert saved["spec"]["benefit"] == {
            "kind": "threshold",
            "spend": "300",
            "save": "40",
            "repeat": True,
            "max_repeats": None,
        }

        _switch(page, "zh-CN")
        page.goto("/console/marketing/offers/new?copy=BROWSER-300-40")
        expect(page.locator("main h1")).to_have_text("新建优惠")
        expect(page.locator("#f-name")).to_have_value("Browser: spend 300 save 40（副本）")
        page.select_option("#f-basket_sku_0", serum["id"])
        expect(page.locator("#preview-total")).to_have_text(_yuan(serum_price - 40))
        page.select_option("#f-kind", "percent_off")
        page.fill("#f-percent", "120")
        expect(page.locator('[data-error="percent"]')).to_have_text(
            "折扣比例须大于 0 且不超过 100。"
        )
        page.fill("#f-percent", "10")
        expect(page.locator("#preview-total")).to_have_text(
            _yuan(serum_price - (serum_price / 10).quantize(Decimal("0.01")))
        )
        _shot(page, "offer-form-zh-CN.png")
    finally:
        context.close()


def test_a_campaign_planned_with_the_double_11_plan(
    browser: Browser, server_url: str, api: httpx.Client
) -> None:
    plan = double_11_plan(today(ZONE))
    context, page = commerce._signed_in(browser, server_url, "en")
    try:
        page.goto("/console/marketing")
        page.click("#plan-campaign")
        page.fill("#f-name", "Double 11 (planned in the browser)")
        page.click("#double-11")
        expect(page.locator("#f-stage_0_name")).to_have_value("Pre-sale")
        expect(page.locator("#f-stage_2_name")).to_have_value("30-day offline extension")
        for i, stage in enumerate(plan):
            expect(page.locator(f"#f-stage_{i}_first_day")).to_have_value(stage["first_day"])
            expect(page.locator(f"#f-stage_{i}_last_day")).to_have_value(stage["last_day"])
        blocks = page.locator("#plan-timeline .plan-stage")
        expect(blocks).to_have_text(["Pre-sale", "Main day", "30-day offline extension"])
        expect(page.locator("#plan-start")).to_have_text(plan[0]["first_day"])
        expect(page.locator("#plan-end")).to_have_text(plan[2]["last_day"])
        page.fill("#f-stage_1_name", "Double 11 day")  # the timeline follows the typing
        expect(blocks.nth(1)).to_have_text("Double 11 day")
        page.select_option("#f-stage_0_offer_codes", label="Double 11: spend ¥300, save ¥40")
        page.select_option("#f-stage_2_offer_codes", label="Counter extension: 10% off up to ¥50")
        page.fill("#f-stage_2_issue_limit", "5000")
        _shot(page, "campaign-planner-en.png")
        page.click("#save-plan")
        expect(page.locator("#campaign-state")).to_have_text("Draft")
        expect(page.locator("#campaign-changed")).to_contain_text("Planned as a draft")
        expect(page.locator("#campaign-actions button")).to_contain_text(["Approve"])
        expect(page.locator("#stage-timeline > div")).to_have_count(3)
        page.goto("/console/marketing")
        row = page.locator("#campaign-list tr", has_text="Double 11 (planned in the browser)")
        expect(row.locator(".campaign-state")).to_have_text("Draft")
        expect(row).to_contain_text(f"Double 11 day {plan[1]['first_day']}")

        _switch(page, "zh-CN")
        page.goto("/console/marketing/campaigns/new")
        page.click("#double-11")
        expect(page.locator("#f-stage_0_name")).to_have_value("预售")
        expect(page.locator("#f-name")).to_have_value("双 11")
        expect(page.locator("#plan-timeline .plan-stage")).to_have_text(
            ["预售", "主会场日", "线下 30 天延续"]
        )
        _shot(page, "campaign-planner-zh-CN.png")
    finally:
        context.close()


def _member_with_coupons(api: httpx.Client) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A demo member holding the counter extension's coupon."""
    for member in commerce._get(api, "/api/v1/members", limit=100)["items"]:
        held = commerce._get(api, "/api/v1/marketing/coupons", member_id=member["id"])
        if held and member.get("phone") and member.get("name"):
            return member, held
    pytest.fail("no demo member with a phone holds a coupon")


def test_coupon_lookup_by_a_demo_members_phone(
    browser: Browser, server_url: str, api: httpx.Client
) -> None:
    member, held = _member_with_coupons(api)
    assert [c["offer_code"] for c in held] == ["D11-COUNTER-10"]
    context, page = commerce._signed_in(browser, server_url, "en")
    try:
        page.goto(f"/console/members/{member['id']}")
        page.click("#member-coupon-lookup")
        expect(page.locator("#lookup-member-name")).to_contain_text(f"Coupons of {member['name']}")
        page.goto("/console/marketing")
        page.click("#find-coupons")
        page.fill("#lookup-member", member["phone"])
        page.click("#lookup-by-member button[type=submit]")
        expect(page.locator("#lookup-member-name")).to_contain_text(f"Coupons of {member['name']}")
        row = page.locator("#coupon-results .coupon-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("Counter extension: 10% off up to ¥50")
        expect(row).to_contain_text("Double 11")
        expect(row).to_contain_text("30-day offline extension")
        expect(row.locator(".coupon-state")).to_have_text("Issued")
        ledger = page.locator(".coupon-ledger tbody tr")
        expect(ledger).to_have_count(1)
        expect(ledger.locator("td").nth(1)).to_have_text("Issued")
        _shot(page, "coupon-lookup-en.png")
        _switch(page, "zh-CN")
        expect(page.locator("#lookup-member-name")).to_contain_text(f"{member['name']} 的优惠券")
        expect(page.locator(".coupon-state")).to_have_text("已发放")
        expect(page.locator(".coupon-ledger tbody td").nth(1)).to_have_text("发放")
        _shot(page, "coupon-lookup-zh-CN.png")
    finally:
        context.close()
