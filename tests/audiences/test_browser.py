"""The audience builder and audience page in a real browser (Debian chromium), in zh-CN:
conditions as Chinese sentences with names, stores by code, faults with their path, and the
audience page before and after its first refresh."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from newretail.demo.organisation import DEMO_EMAIL, DEMO_PASSWORD, STORES
from tests.console.test_browser import TIMEOUT_MS, VIEWPORT, browser, server_url

pytestmark = pytest.mark.browser
__all__ = ["browser", "server_url"]


def test_build_save_and_refresh_an_audience_in_chinese(browser: Browser, server_url: str) -> None:
    code, name = STORES[1][0], STORES[1][1]
    context = browser.new_context(
        base_url=server_url,
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        viewport=VIEWPORT,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/console/login")
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.goto("/console/audiences/new")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

        behaviour = page.locator("#add-behaviour")
        behaviour.locator("summary").click()
        behaviour.locator("select[name=brand_id]").select_option("bamboo")
        behaviour.locator("input[name=store_id]").fill(code)
        behaviour.locator("input[name=window_days]").fill("30")
        behaviour.locator("button[type=submit]").click()
        sentence = f"有过加购——品牌 Bamboo Tea，门店：{name}，最近 30 天内"
        expect(page.locator("#builder-conditions .condition-sentence")).to_have_text([sentence])
        expect(page.locator("#estimate-size")).not_to_have_text("—")

        page.fill("#builder-json input[name=name]", "竹茶加购")
        page.click("#builder-save")
        expect(page).to_have_url(re.compile(r"/console/audiences/[0-9a-f-]{36}$"))
        expect(page.locator("#audience-rules li")).to_have_text([sentence])
        expect(page.locator("#insight-not-refreshed")).to_have_text(
            "请先刷新人群以保存其成员，然后查看洞察。"
        )
        page.click("#refresh-audience")
        expect(page.locator("#insight-not-refreshed")).to_have_count(0)
        expect(page.locator("#audience-insight, #insight-suppressed")).to_have_count(1)

        page.goto("/console/audiences/new")
        behaviour = page.locator("#add-behaviour")
        behaviour.locator("summary").click()
        behaviour.locator("input[name=store_id]").fill("NO-SUCH-STORE")
        behaviour.locator("button[type=submit]").click()
        expect(page.locator("#builder-error")).to_have_text(
            "rules.all[0].store_id[0]: 没有代码或名称为“NO-SUCH-STORE”的门店"
        )
    finally:
        context.close()
