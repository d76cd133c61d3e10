"""The marketing console's forms in a real browser on the seeded demo: an offer made through
the form while its live preview prices a sample basket (the exact total as a field changes),
a campaign planned with the one-click Double 11 plan, and the coupons of a demo member found
by phone; English and Chinese. Screenshots of each page in both languages go to
/tmp/shots-mconsole/ (for a person to look at; nothing asserts on them)."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from decimal import Decimal
from pathlib import Path

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


def test_a_fresh_offer_form_shows_no_refusal_until_a_field_is_touched_or_saved(
    browser: Browser, server_url: str
) -> None:
    for locale, complete in (("en", "Fill in the offer to see the price."), ("zh-CN", None)):
        context, page = commerce._signed_in(browser, server_url, locale)
        try:
            with page.expect_response("**/console/marketing/offers/preview") as first:
                page.goto("/console/marketing/offers/new")
            assert first.value.status == 422  # the blank offer is refused, but not shown
            expect(page.locator("#form-errors")).to_be_hidden()
            expect(page.locator("#offer-form .is-invalid")).to_have_count(0)
            expect(page.locator('[data-error="name"]')).to_be_empty()
            if complete:
                expect(page.locator("#preview-result")).to_have_text(complete)
            page.fill("#f-name", "Spend 300 save 40")
            page.fill("#f-name", "")  # touched: its refusal shows, the others' do not
            expect(page.locator("#f-name")).to_have_class("form-control is-invalid")
            expect(page.locator("#form-errors")).to_be_visible()
            expect(page.locator("#offer-form .is-invalid")).to_have_count(1)
            page.click("#save-offer")  # saved: every refusal shows
            expect(page.locator("#f-name")).to_have_class("form-control is-invalid")
            expect(page.locator("#f-code")).to_have_class("form-control is-invalid")
            expect(page.locator("#f-spend")).to_have_class("form-control is-invalid")
            expect(page.locator("#f-save")).to_have_class("form-control is-invalid")
            expect(page.locator("#form-errors")).to_be_visible()
        finally:
            context.close()


def test_a_campaign_planned_with_the_double_11_plan(
    browser: Browser, server_url: str, api: httpx.Client
) -> None:
    plan = double_11_plan(today(ZONE))
    context, page = commerce._signed_in(browser, server_url, "en")
    try:
        page.goto("/console/audiences")  # the demo starts with none: one from a template
        page.locator("#audience-templates button[type=submit]").first.click()
        page.wait_for_load_state()
        audience = page.locator("main h1").inner_text().strip()
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
        page.select_option("#f-stage_2_audience_ids", label=audience)
        page.fill("#f-stage_2_issue_limit", "5000")
        _shot(page, "campaign-planner-en.png")
        page.click("#save-plan")
        expect(page.locator("#campaign-state")).to_have_text("Draft")
        expect(page.locator("#campaign-changed")).to_contain_text("Planned as a draft")
        expect(page.locator("#campaign-actions button")).to_contain_text(["Approve"])
        expect(page.locator("#stage-timeline > div")).to_have_count(3)
        extension = page.locator("#stage-table tbody tr", has_text="30-day offline extension")
        expect(extension).to_contain_text(audience)  # names, not ids
        expect(extension).to_contain_text("Counter extension: 10% off up to ¥50")
        _shot(page, "campaign-page-en.png")
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


def _member_with_a_redeemed_coupon(server_url: str) -> tuple[str, str, str, str]:
    """A demo member whose coupon a till or checkout redeemed: the member's id, the offer's
    name, the store's name and the order as shown (read from the server's SQLite file)."""
    database = shared.DATA_DIRS[server_url] / "newretail.sqlite3"
    with closing(sqlite3.connect(database)) as connection:
        row = connection.execute(
            "SELECT c.member_id, o.name, s.name, c.order_ref FROM coupon c"
            " JOIN offer o ON o.id = c.offer_id JOIN store s ON s.id = c.store_id"
            " WHERE c.state = 'redeemed' AND c.member_id IS NOT NULL"
            " ORDER BY c.redeemed_at, c.id LIMIT 1"
        ).fetchone()
    assert row is not None, "the demo redeems coupons in sales"
    ref = row[3]  # an order's id is shown short, linking to the order (as the orders list)
    return str(uuid.UUID(hex=row[0])), row[1], row[2], ref[:8] if len(ref) == 36 else ref


def test_coupon_lookup_by_a_demo_members_phone(
    browser: Browser, server_url: str, api: httpx.Client
) -> None:
    member_id, offer_name, store_name, order_shown = _member_with_a_redeemed_coupon(server_url)
    member = commerce._get(api, f"/api/v1/members/{member_id}")
    held = commerce._get(api, "/api/v1/marketing/coupons", member_id=member_id)
    context, page = commerce._signed_in(browser, server_url, "en")
    try:
        page.goto(f"/console/members/{member_id}")
        page.click("#member-coupon-lookup")
        expect(page.locator("#lookup-member-name")).to_contain_text(f"Coupons of {member['name']}")
        page.goto("/console/marketing")
        page.click("#find-coupons")
        page.fill("#lookup-member", member["phone"])
        page.click("#lookup-by-member button[type=submit]")
        expect(page.locator("#lookup-member-name")).to_contain_text(f"Coupons of {member['name']}")
        rows = page.locator("#coupon-results .coupon-row")
        expect(rows).to_have_count(len(held))
        used = rows.filter(has_text=order_shown)
        expect(used).to_have_count(1)
        expect(used).to_contain_text(offer_name)
        expect(used).to_contain_text("Double 11")
        expect(used).to_contain_text(store_name)
        expect(used.locator(".coupon-state")).to_have_text("Redeemed")
        ledger = page.locator(".coupon-ledger tbody tr", has_text=order_shown)
        expect(ledger.filter(has_text="Redeemed")).to_have_count(1)
        expect(ledger.filter(has_text="Redeemed")).to_contain_text(store_name)
        _shot(page, "coupon-lookup-en.png")
        _switch(page, "zh-CN")
        expect(page.locator("#lookup-member-name")).to_contain_text(f"{member['name']} 的优惠券")
        expect(used.locator(".coupon-state")).to_have_text("已核销")
        _shot(page, "coupon-lookup-zh-CN.png")
    finally:
        context.close()
