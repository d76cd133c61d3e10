"""The commerce console in a real browser on the seeded demo: orders with filters and pages,
an order page, the low-stock view and the catalogue; then every commerce operation done in
the browser in English and in Chinese (product and SKU with prices, stock receipt,
adjustment and transfer, refund by line, cancel), each result read back through the API.

Reuses the server and browser fixtures of test_browser.py (their own module-scoped instances).
The API is called with the server's local operator credential (`<data_dir>/server.json`,
newretail.core.local_server), as the CLI beside a running server does.
Saves docs/images/console-orders-en.png and console-orders-zh-CN.png.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from newretail.core.local_server import ORGANIZATION_HEADER, SERVER_FILE
from newretail.demo.organisation import DEMO_SLUG
from tests.console import test_browser as shared

pytestmark = pytest.mark.browser

server_url = shared.server_url
browser = shared.browser
LANGUAGES = {"en": "English", "zh-CN": "中文"}


@pytest.fixture(scope="module")
def api(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The demo organisation's API through the server's local operator credential."""
    for path in tmp_path_factory.getbasetemp().glob(f"browser-data*/{SERVER_FILE}"):
        announced = json.loads(path.read_text())
        if announced["url"].rstrip("/") == server_url:
            headers = {
                "Authorization": f"Bearer {announced['token']}",
                ORGANIZATION_HEADER: DEMO_SLUG,
            }
            with httpx.Client(base_url=server_url, headers=headers, timeout=30) as client:
                yield client
            return
    pytest.fail(f"no {SERVER_FILE} announces {server_url}")


def _get(api: httpx.Client, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = api.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _signed_in(browser: Browser, server_url: str, locale: str) -> tuple[BrowserContext, Page]:
    """A browser in the locale, signed in as the demo owner, the console in that language."""
    context = browser.new_context(
        base_url=server_url,
        locale="zh-CN" if locale == "zh-CN" else "en-US",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if locale == "zh-CN" else "en"},
        viewport=shared.VIEWPORT,
    )
    context.set_default_timeout(shared.TIMEOUT_MS)
    page = context.new_page()
    page.goto("/console/login")
    page.fill("#email", shared.DEMO_EMAIL)
    page.fill("#password", shared.DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(f"{server_url}/console")
    page.click(f"#language-switcher button:has-text('{LANGUAGES[locale]}')")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    return context, page


def _store_id(api: httpx.Client, code: str) -> str:
    (store,) = [
        s for s in _get(api, "/api/v1/stores", q=code, limit=50)["items"] if s["code"] == code
    ]
    return str(store["id"])


def _sku(api: httpx.Client, code: str) -> dict[str, Any]:
    (sku,) = [s for s in _get(api, "/api/v1/skus", q=code, limit=50)["items"] if s["code"] == code]
    return dict(sku)


def _level(api: httpx.Client, location: str, sku: str) -> int:
    return int(_get(api, f"/api/v1/stock-levels/{location}/{sku}")["on_hand"])


def test_orders_stock_and_catalogue_in_both_languages(browser: Browser, server_url: str) -> None:
    context = browser.new_context(
        base_url=server_url,
        locale="en-US",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        viewport=shared.VIEWPORT,
    )
    context.set_default_timeout(shared.TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/console/login")
        page.fill("#email", shared.DEMO_EMAIL)
        page.fill("#password", shared.DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        expect(page).to_have_url(f"{server_url}/console")

        page.click("#main-nav a:has-text('Orders')")
        expect(page).to_have_url(f"{server_url}/console/orders")
        expect(page.locator("main h1")).to_have_text("Orders")
        expect(page.locator("#main-nav a.active")).to_have_text("Orders")
        expect(page.locator("#orders-table tbody tr")).to_have_count(50)
        expect(page.locator(".pager-range")).to_have_text(re.compile(r"^1–50 of \d{1,3}(,\d{3})*$"))

        page.select_option("#channel", "cloud_shelf")
        page.select_option("#status", "fulfilled")
        page.click("#order-filters button[type=submit]")
        expect(page).to_have_url(re.compile(r"channel=cloud_shelf.*status=fulfilled"))
        rows = page.locator("#orders-table tbody tr")
        expect(rows.first).to_be_visible()
        expect(rows.locator("td:nth-child(3)").first).to_have_text("Cloud shelf")
        expect(rows.locator("td:nth-child(6)").first).to_have_text("Fulfilled")
        page.goto("/console/orders?channel=cloud_shelf")
        _screenshot_orders(page, "console-orders-en.png")

        page.locator("#orders-table tbody tr td:nth-child(2) a").first.click()
        expect(page).to_have_url(re.compile(r"/console/orders/[0-9a-f-]{36}$"))
        expect(page.locator("#order-lines tbody tr").first).to_be_visible()
        expect(page.locator("#fulfilment-type")).to_have_text(
            re.compile("^(Ship|Pick up in store)$")
        )

        page.click("#main-nav a:has-text('Stock')")
        page.click("#low-stock-tab")
        expect(page.locator("main h1")).to_have_text("Low stock")
        # 8, and the demo's planted stock-out (the serum at the Jing'an Kerry counter, 5d597f7)
        expect(page.locator("#stock-table tbody tr")).to_have_count(9)
        expect(page.locator("#stock-count")).to_have_text("9 stock levels")
        expect(page.locator("#stock-table")).to_contain_text("LB-VC-SERUM-50")

        page.click("#main-nav a:has-text('Catalogue')")
        expect(page.locator("#catalog-count")).to_have_text("Products: 50 · SKUs: 200")

        page.click("#language-switcher button:has-text('中文')")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("#catalog-count")).to_have_text("商品：50 · SKU：200")
        page.goto("/console/orders?channel=cloud_shelf")
        expect(page.locator("main h1")).to_have_text("订单")
        expect(page.locator("#orders-table thead")).to_contain_text("下单时间")
        expect(page.locator("#orders-table tbody tr td:nth-child(3)").first).to_have_text("云货架")
        _screenshot_orders(page, "console-orders-zh-CN.png")
        page.click("#language-switcher button:has-text('English')")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_product_and_sku_created_and_priced(
    browser: Browser, server_url: str, api: httpx.Client, locale: str
) -> None:
    suffix = locale.upper().replace("-", "")
    context, page = _signed_in(browser, server_url, locale)
    try:
        page.goto("/console/catalog")
        page.click("#new-product")
        page.fill("#code", f"BT-NEW-{suffix}")
        page.fill("#name", f"Spring tea {suffix}")
        page.select_option("#brand_id", label="Bamboo Tea")
        page.fill("#category_path", "Tea/Green")
        page.click("#product-form button[type=submit]")
        expect(page.locator("#saved")).to_have_text(
            "商品已保存。" if locale == "zh-CN" else "Product saved."
        )
        product_id = page.url.split("/console/catalog/", 1)[1].split("?", 1)[0]

        page.click("#new-sku")
        page.fill("#code", f"BT-NEW-{suffix}-100")
        page.fill("#name", f"Spring tea {suffix} 100 g")
        page.check("#channel_online")
        page.check("#channel_store")
        page.fill("#price_online", "88")
        page.fill("#price_store", "98.50")
        page.click("#sku-form button[type=submit]")
        expect(page.locator("#saved")).to_have_text(
            "SKU 及价格已保存。" if locale == "zh-CN" else "SKU and prices saved."
        )
        page.click("a.edit-sku")
        page.fill("#price_store", "95")
        page.click("#sku-form button[type=submit]")
        expect(page.locator(f"tr[data-sku='BT-NEW-{suffix}-100'] .price-store")).to_have_text(
            "¥95.00"
        )

        product = _get(api, f"/api/v1/products/{product_id}")
        assert (product["code"], product["category_path"]) == (f"BT-NEW-{suffix}", "Tea/Green")
        (sku,) = product["skus"]
        assert (sku["code"], sku["channels"], sku["prices"]) == (
            f"BT-NEW-{suffix}-100",
            ["online", "store"],
            {"online": "88.00", "store": "95.00"},
        )
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_stock_received_adjusted_and_transferred(
    browser: Browser, server_url: str, api: httpx.Client, locale: str
) -> None:
    shop = _store_id(api, "SH-XTD-SHOP" if locale == "en" else "BJ-SLT-SHOP")
    warehouse = _store_id(api, "WH-EAST")
    # a SKU both the shop and the warehouse stock (the demo stocks each store's own range)
    at_warehouse_ids = {
        level["sku_id"] for level in _get(api, "/api/v1/stock-levels", location_id=warehouse)
    }
    sku_id = next(
        level["sku_id"]
        for level in _get(api, "/api/v1/stock-levels", location_id=shop)
        if level["sku_id"] in at_warehouse_ids
    )
    sku = _get(api, f"/api/v1/skus/{sku_id}")
    at_shop, at_warehouse = _level(api, shop, sku["id"]), _level(api, warehouse, sku["id"])
    done = {
        "en": ("Receipt booked.", "Adjustment booked.", "Transfer booked."),
        "zh-CN": ("已入库。", "已调整库存。", "已调拨。"),
    }[locale]
    context, page = _signed_in(browser, server_url, locale)
    try:
        page.goto("/console/stock")
        page.click("#new-receipt")
        page.select_option("#location_id", shop)
        page.fill("#sku_0", sku["code"])
        page.fill("#quantity_0", "12")
        page.fill("#reference", f"DN-{locale}")
        page.click("#change-form button[type=submit]")
        expect(page.locator("#done")).to_have_text(done[0])
        assert _level(api, shop, sku["id"]) == at_shop + 12

        page.goto(f"/console/stock?location_id={shop}&q={sku['code']}")
        page.click("a.adjust-link")
        page.fill("#delta", "-3")
        page.fill("#note", "损坏" if locale == "zh-CN" else "Damaged")
        page.click("#change-form button[type=submit]")
        expect(page.locator("#done")).to_have_text(done[1])
        expect(page.locator("#movements-table tbody tr").first.locator(".note")).to_have_text(
            "损坏" if locale == "zh-CN" else "Damaged"
        )
        assert _level(api, shop, sku["id"]) == at_shop + 9

        page.goto("/console/stock/transfer")
        page.select_option("#from_location_id", warehouse)
        page.select_option("#to_location_id", shop)
        page.fill("#sku_0", sku["code"])
        page.fill("#quantity_0", "2")
        page.click("#change-form button[type=submit]")
        expect(page.locator("#done")).to_have_text(done[2])
        assert (_level(api, shop, sku["id"]), _level(api, warehouse, sku["id"])) == (
            at_shop + 11,
            at_warehouse - 2,
        )
        moves = _get(api, "/api/v1/stock/movements", location_id=shop, sku_id=sku["id"], limit=500)
        reasons = [(m["reason"], m["delta"], m["note"]) for m in moves["items"][-3:]]
        assert reasons == [
            ("receipt", 12, None),
            ("adjustment", -3, "损坏" if locale == "zh-CN" else "Damaged"),
            ("transfer_in", 2, None),
        ]
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_order_refunded_by_line_and_cancelled(
    browser: Browser, server_url: str, api: httpx.Client, locale: str
) -> None:
    shop = _store_id(api, "SH-XTD-SHOP")
    online = _store_id(api, "ONLINE-FLAGSHIP")
    in_stock = [
        level["sku_id"]
        for level in _get(api, "/api/v1/stock-levels", location_id=shop, limit=500)
        if level["available"] >= 10
    ]
    skus = [{"id": sku_id} for sku_id in in_stock[:2]]
    sale = _post(
        api,
        "/api/v1/orders/pos",
        {
            "store_id": shop,
            "external_order_id": f"BROWSER-POS-{locale}",
            "lines": [{"sku_id": s["id"], "quantity": 2} for s in skus],
        },
    )
    web = _post(
        api,
        "/api/v1/orders/checkout",
        {
            "store_id": online,
            "external_order_id": f"BROWSER-WEB-{locale}",
            "fulfilment_type": "ship",
            "paid": True,
            "lines": [{"sku_id": skus[0]["id"], "quantity": 1}],
        },
    )
    context, page = _signed_in(browser, server_url, locale)
    try:
        page.goto(f"/console/orders/{sale['id']}")
        page.fill("#refund_2", "1")
        page.fill("#reason", "破损" if locale == "zh-CN" else "Broken seal")
        page.click("#refund-lines")
        expect(page.locator("#done")).to_have_text(
            "已退款。" if locale == "zh-CN" else "Refund recorded."
        )
        expect(page.locator("#order-status")).to_have_text(
            "部分退款" if locale == "zh-CN" else "Partly refunded"
        )
        order = _get(api, f"/api/v1/orders/{sale['id']}")
        assert [line["refunded_quantity"] for line in order["lines"]] == [0, 1]
        (refund,) = _get(api, f"/api/v1/orders/{sale['id']}/refunds")
        assert (refund["reason"], refund["amount"]) == (
            "破损" if locale == "zh-CN" else "Broken seal",
            sale["lines"][1]["unit_price"],
        )

        page.goto(f"/console/orders/{web['id']}")
        page.click("#cancel-order")
        expect(page.locator("#done")).to_have_text(
            "订单已取消。" if locale == "zh-CN" else "Order cancelled."
        )
        cancelled = _get(api, f"/api/v1/orders/{web['id']}")
        assert (cancelled["status"], cancelled["refunded_amount"]) == (
            "cancelled",
            web["total_amount"],
        )
    finally:
        context.close()


def _screenshot_orders(page: Page, name: str) -> None:
    """The page at the viewport's size: a full table would make a very tall image."""
    shared.IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shared.IMAGES / name))
