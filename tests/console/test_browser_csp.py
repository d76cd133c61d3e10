"""The console under its Content-Security-Policy in a real browser: the pages with scripts
(now files under `<domain>/static/`) still work and chromium reports no violation; /docs
(Swagger UI) renders under its own policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from newretail.demo.organisation import DEMO_EMAIL, DEMO_PASSWORD
from tests.console import test_browser as shared

pytestmark = pytest.mark.browser

server_url = shared.server_url
browser = shared.browser


@pytest.fixture
def page(browser: Browser, server_url: str) -> Iterator[tuple[Page, list[str]]]:
    """A signed-in page and the CSP violations and script errors chromium reported on it."""
    context = browser.new_context(
        base_url=server_url,
        locale="en-US",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        viewport=shared.VIEWPORT,
    )
    context.set_default_timeout(shared.TIMEOUT_MS)
    opened = context.new_page()
    problems: list[str] = []
    opened.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    try:
        opened.goto("/console/login")
        opened.fill("#email", DEMO_EMAIL)
        opened.fill("#password", DEMO_PASSWORD)
        opened.click("#login-form button[type=submit]")
        expect(opened).to_have_url(f"{server_url}/console")
        yield opened, problems
    finally:
        context.close()


def test_the_pages_with_scripts_work_under_the_policy(page: tuple[Page, list[str]]) -> None:
    browser_page, problems = page
    # audiences: the live estimate re-counts the typed rules
    browser_page.goto("/console/audiences/new")
    browser_page.click("#rules-json-details summary")
    browser_page.fill("#rules-json", '{"all": [')
    expect(browser_page.locator("#estimate-size")).not_to_have_text("—")
    # marketing: the offer form shows the fields of the chosen kind, the campaign form plans
    browser_page.goto("/console/marketing/offers/new")
    kinds = browser_page.locator("#offer-form [name=kind] option").all_inner_texts()
    assert len(kinds) > 1
    browser_page.goto("/console/marketing/campaigns/new")
    browser_page.click("#double-11")
    expect(browser_page.locator("#plan-legend > *")).not_to_have_count(0)
    # reach: a counter screen connects to its feed
    browser_page.goto("/console/reach/screens")
    browser_page.click("#screen-stores a >> nth=0")
    expect(browser_page.locator("#screen-state")).to_have_text(
        "Live: offers appear as they are decided."
    )
    # reach: a campaign's trigger page reads its live decisions again (every 3 s)
    browser_page.goto("/console/marketing")
    browser_page.click("main table a[href^='/console/marketing/campaigns/'] >> nth=0")
    browser_page.click("#trigger-rules-link")
    with browser_page.expect_response(lambda r: r.url.endswith("/triggers/decisions")) as read:
        pass
    assert read.value.status == 200
    # the operations centre's home page and the stores
    browser_page.goto("/console")
    browser_page.goto("/console/stores")
    assert problems == []


def test_swagger_ui_renders_under_its_own_policy(page: tuple[Page, list[str]]) -> None:
    browser_page, problems = page
    browser_page.goto("/docs")
    expect(browser_page.locator(".swagger-ui .info .title")).to_contain_text("NewRetail")
    expect(browser_page.locator(".opblock").first).to_be_visible()
    assert problems == []
