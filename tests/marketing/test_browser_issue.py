"""The campaign page's "Issue coupons" form in a real browser (Debian chromium, Playwright)
against uvicorn, in English and Chinese: the form, a refusal, the finished job's progress.
Screenshots go to $NEWRETAIL_SHOTS (a folder) when it is set."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing.models import Coupon
from tests.conftest import PASSWORD, Org
from tests.console.test_browser import CHROMIUM_ARGS, TIMEOUT_MS, VIEWPORT, _chromium_path
from tests.marketing.bulk_helpers import OFFER_NAME, a_campaign
from tests.marketing.test_console_issue import _audiences

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("NEWRETAIL_SHOTS")


@pytest.fixture
def server_url(client: TestClient) -> Iterator[str]:
    """The test's app under uvicorn on a free port (its stores are the test's)."""
    _chromium_path()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning")
    config.lifespan = "off"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


def _signed_in(browser: Browser, url: str, locale: str, email: str) -> Page:
    context = browser.new_context(base_url=url, locale=locale, viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/console/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()
    return page


def test_issue_coupons_from_the_campaign_page_in_a_browser(
    client: TestClient, container: Container, org: Org, server_url: str
) -> None:
    _carts, later = _audiences(client, container, org)
    with session_scope(container.sessions, org.id) as session:
        campaign_id = a_campaign(session, org.id, issue_limit=4).campaign.id
    page_url = f"/console/marketing/campaigns/{campaign_id}"
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = _signed_in(browser, server_url, "en-US", org.owner_email)
            page.goto(page_url)
            form = page.locator(".issue-form").first
            expect(form.locator("select[name=offer_code] option:checked")).to_have_text(OFFER_NAME)
            _shot(page, "campaign-issue-form-en.png")
            form.locator("select[name=audience_id]").select_option(label="later")
            form.locator("button[type=submit]").click()
            refused = page.locator('.issue-form [data-error="audience_id"]')
            expect(refused).to_have_text(
                "Audience: it has not been refreshed yet; refresh it first."
            )
            _shot(page, "campaign-issue-refused-en.png")
            form = page.locator(".issue-form").first
            form.locator("select[name=audience_id]").select_option(label="carts")
            form.locator("button[type=submit]").click()
            progress = page.locator('#issue-progress[data-status="done"]')
            expect(progress).to_be_visible()  # the page reloads itself until it is done
            expect(page.locator("#issue-done")).to_have_text("6 of 6 members done")
            expect(page.locator("#issue-counts")).to_have_text(
                "4 issued · 0 already held one · 2 refused: the stage's budget is spent"
            )
            _shot(page, "campaign-issue-done-en.png")
            job_url = page.url

            zh = _signed_in(browser, server_url, "zh-CN", org.owner_email)
            zh.goto(job_url)
            expect(zh.locator("#issue-done")).to_have_text("已处理 6 / 6 位会员")
            expect(zh.locator("#issue-counts")).to_have_text(
                "已发 4 张 · 0 位已持有 · 2 位被拒：阶段预算已用完"
            )
            expect(zh.locator(".issue-form button[type=submit]").first).to_have_text("发券")
            _shot(zh, "campaign-issue-done-zh.png")
        finally:
            browser.close()
    with session_scope(container.sessions, org.id) as session:
        assert len(session.query(Coupon).all()) == 4
    assert later
