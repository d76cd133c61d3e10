"""Every console page, walked in a real browser on the seeded demo.

- In Chinese (chromium started in zh-CN, as a Chinese user's browser is): every page the console
  mounts answers, and no page asks for a message the zh-CN catalogues lack (the server notes
  each such key; English would be shown instead). Date pickers read year, month, day.
- In both languages: no table cell shows an internal id (UUID) where a name belongs.

The pages come from `newretail.pages` (list pages by path, one detail page per detail route,
found through the links of the pages walked before), so a page added later is walked too.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from newretail.core import i18n
from newretail.demo.organisation import DEMO_EMAIL, DEMO_PASSWORD
from newretail.pages import mount_pages
from tests.console import test_browser as shared

pytestmark = pytest.mark.browser

server_url = shared.server_url

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# Paths that only redirect (to the stores or the login page) or answer a file or a part of a
# page that its page fetches (the trigger page's live decisions: tests/reach/test_trigger_console).
NOT_PAGES = {
    "/console/",  # the home page again (/console is walked)
    "/console/login",
    "/console/reach/campaigns/{campaign_id}/triggers/decisions",
    # a standalone document to save or print (HTML or PDF), not a page of the console's
    # layout: tests/diagnosis/test_weekly_report.py reads it in both languages
    "/console/diagnosis/stores/{store}/report",
}
LANGUAGES = {"zh-CN": "zh_CN", "en": "en_US"}
DATE_FIELDS = {"年", "月", "日", "Year", "Month", "Day"}
# two English words or more in a row, on a page that should read Chinese
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:[ '-][A-Za-z][a-z]+)+\b")
# columns whose text is the retailer's own (product, brand and campaign names, category paths,
# descriptions…)
DATA_COLUMNS = {"name", "display_name", "category_path", "title", "reason", "note", "description"}
# the visible text of the page's main part, but for what is not to be translated
# (`<code>`, `translate="no"`: time zone names, syntax)
READABLE_TEXT = """() => {
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent.closest("code, [translate=no], script, style")) continue;
    if (!parent.checkVisibility() && parent.tagName !== "OPTION") continue;
    texts.push(node.textContent);
  }
  return texts.join("\\n");
}"""
# the posted forms of a page that take typed values (their indexes among its posted forms)
TEXT_FORMS = """() => [...document.querySelectorAll("main form")]
  .filter(f => f.method === "post")
  .map((f, i) => [f, i])
  .filter(([f]) => [...f.querySelectorAll("input, textarea")].some(
    e => !["hidden", "checkbox", "radio", "submit", "button"].includes(e.type)
      && e.checkVisibility()))
  .map(([, i]) => i)"""
# send a posted form with every typed value emptied (past the browser's own checks)
SEND_EMPTY = """(index) => {
  const form = [...document.querySelectorAll("main form")].filter(f => f.method === "post")[index];
  form.querySelectorAll("input, textarea").forEach(e => {
    if (!["hidden", "checkbox", "radio", "submit", "button"].includes(e.type)) e.value = "";
  });
  form.submit();
}"""
DOWNLOAD = re.compile(r"\.\w+$")
# a walk is about what pages say, not how fast they say it on a loaded machine
PAGE_TIMEOUT_MS = 60_000


def console_pages() -> list[str]:
    """The GET paths of every console page the app mounts, as route templates."""
    app = FastAPI()
    mount_pages(app)
    paths = set()
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if (
            isinstance(route, APIRoute)
            and "GET" in (route.methods or ())
            and path.startswith("/console")
        ):
            paths.add(path)
    paths -= NOT_PAGES
    return sorted(paths)


def _template_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/?#]+", re.escape(path)) + "$")


@pytest.fixture(scope="module")
def browsers(server_url: str) -> Iterator[dict[str, Browser]]:
    """Debian chromium started once per language, as a user of that language starts it."""
    expect.set_options(timeout=shared.TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = {
            locale: playwright.chromium.launch(
                executable_path=shared._chromium_path(),
                headless=True,
                args=[*shared.CHROMIUM_ARGS, f"--lang={locale}"],
                env={**os.environ, "LANGUAGE": posix, "LANG": f"{posix}.UTF-8"},
            )
            for locale, posix in LANGUAGES.items()
        }
        try:
            yield launched
        finally:
            for browser in launched.values():
                browser.close()


def _signed_in(browser: Browser, server_url: str, locale: str) -> BrowserContext:
    context = browser.new_context(
        base_url=server_url,
        locale=locale,
        extra_http_headers={"Accept-Language": f"{locale},en;q=0.5"},
        viewport=shared.VIEWPORT,
    )
    context.set_default_timeout(shared.TIMEOUT_MS)
    page = context.new_page()
    page.goto("/console/login")
    page.fill("#email", DEMO_EMAIL)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(f"{server_url}/console")
    language = "中文" if locale == "zh-CN" else "English"
    page.click(f"#language-switcher button:has-text('{language}')")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    page.close()
    return context


def _links(page: Page) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    prefix = page.url.split("/console", 1)[0]
    return [h.removeprefix(prefix).split("#", 1)[0] for h in hrefs if h.startswith(prefix)]


@dataclass
class Walk:
    """What a walk saw: the path walked per route, and the faults found on the way."""

    walked: dict[str, str] = field(default_factory=dict)
    not_walked: list[str] = field(default_factory=list)  # no page walked links to them
    uuid_cells: list[str] = field(default_factory=list)
    untranslated: dict[str, list[str]] = field(default_factory=dict)
    english: dict[str, list[str]] = field(default_factory=dict)  # on a Chinese page
    forms: list[tuple[str, int]] = field(default_factory=list)  # (page, form) taking text


class DataTexts:
    """Names the retailer entered (the demo's are partly English): English allowed there."""

    def __init__(self, database: Path):
        with closing(sqlite3.connect(database)) as connection:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master")]
            found: set[str] = set()
            for table in tables:
                columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]
                for column in DATA_COLUMNS.intersection(columns):
                    # names from sqlite_master and table_info, not from input
                    query = f'SELECT DISTINCT "{column}" FROM "{table}"'  # noqa: S608
                    found.update(str(r[0]) for r in connection.execute(query) if r[0])
        self.texts = "\n".join(sorted(found))

    def __contains__(self, phrase: object) -> bool:
        return isinstance(phrase, str) and phrase in self.texts


def walk(context: BrowserContext, server_url: str, locale: str, data: DataTexts) -> Walk:
    """Visit every list page, then one page of each detail route."""
    templates = console_pages()
    page = context.new_page()
    seen = Walk()
    links: list[str] = []

    def visit(template: str, path: str) -> None:
        missing_before = i18n.untranslated(locale)
        seen.walked[template] = path
        if DOWNLOAD.search(path.split("?", 1)[0]):  # a file such as a CSV: its answer will do
            download = context.request.get(f"{server_url}{path}", timeout=PAGE_TIMEOUT_MS)
            assert download.status == 200, f"{path}: {download.status}"
        else:
            response = page.goto(path, timeout=PAGE_TIMEOUT_MS)
            assert response is not None and response.status == 200, f"{path}: {response}"
            links.extend(_links(page))
            arrived = "/console" + page.url.split("/console", 1)[1].split("?", 1)[0]
            for other in templates:  # a redirect (/console/my-store) walks the page it ends on
                unwalked = other not in seen.walked and "{" in other
                if arrived != path and unwalked and _template_pattern(other).match(arrived):
                    seen.walked[other] = arrived
            texts: list[str] = page.eval_on_selector_all(
                "table td", "els => els.map(e => e.innerText)"
            )
            seen.uuid_cells.extend(f"{path}: {t.strip()}" for t in texts if UUID.search(t))
            forms: list[int] = page.evaluate(TEXT_FORMS)
            seen.forms.extend((path, index) for index in forms)
            if locale == "zh-CN":
                text: str = page.evaluate(READABLE_TEXT)
                phrases = sorted(p for p in set(ENGLISH.findall(text)) if p not in data)
                if phrases:
                    seen.english[path] = phrases
        new_keys = sorted(i18n.untranslated(locale) - missing_before)
        if new_keys:
            seen.untranslated[path] = new_keys

    # pages first; a detail page or a download (it needs its query) through a link to it
    for template in templates:
        if "{" not in template and not DOWNLOAD.search(template):
            visit(template, template)
    pending = [t for t in templates if t not in seen.walked]
    static = {t for t in templates if "{" not in t}  # /catalog/new is no /catalog/{product_id}
    progress = True
    while pending and progress:
        progress = False
        for template in list(pending):
            pattern = _template_pattern(template)
            found = next(
                (
                    link
                    for link in links
                    if pattern.match(link.split("?", 1)[0])
                    and link.split("?", 1)[0] not in static - {template}
                ),
                None,
            )
            if found is not None:
                visit(template, found if DOWNLOAD.search(template) else found.split("?", 1)[0])
                pending.remove(template)
                progress = True
    page.close()
    seen.not_walked = pending
    return seen


def refuse_every_form(context: BrowserContext, seen: Walk, locale: str, data: DataTexts) -> None:
    """Send each form that takes typed values with all of them empty: the refusal it shows
    (which field, why) must be in the page's language."""
    page = context.new_page()
    for path, index in seen.forms:
        missing_before = i18n.untranslated(locale)
        page.goto(path, timeout=PAGE_TIMEOUT_MS)
        with page.expect_navigation(timeout=PAGE_TIMEOUT_MS):
            page.evaluate(SEND_EMPTY, index)
        where = f"{path} form {index} sent empty"
        if locale == "zh-CN":
            text: str = page.evaluate(READABLE_TEXT)
            phrases = sorted(p for p in set(ENGLISH.findall(text)) if p not in data)
            if phrases:
                seen.english[where] = phrases
        new_keys = sorted(i18n.untranslated(locale) - missing_before)
        if new_keys:
            seen.untranslated[where] = new_keys
    page.close()


def _an_audience(context: BrowserContext) -> None:
    """The demo starts with no audience: make one from the first template, for its page."""
    page = context.new_page()
    page.goto("/console/audiences", timeout=PAGE_TIMEOUT_MS)
    if page.locator("#audience-list a").count() == 0:
        page.locator("#audience-templates button[type=submit]").first.click()
        page.wait_for_load_state()
    page.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_page_in_each_language(
    browsers: dict[str, Browser], server_url: str, locale: str
) -> None:
    context = _signed_in(browsers[locale], server_url, locale)
    try:
        _an_audience(context)
        data = DataTexts(shared.DATA_DIRS[server_url] / "newretail.sqlite3")
        seen = walk(context, server_url, locale, data)
        refuse_every_form(context, seen, locale, data)
    finally:
        context.close()
    faults = {
        "pages no walked page links to": seen.not_walked,
        "table cells with an internal id where a name belongs": seen.uuid_cells,
        "message keys the catalogue lacks, by page": seen.untranslated,
        "keys lacking since the server started": sorted(i18n.untranslated(locale)),
        "English on a Chinese page": seen.english,
    }
    assert faults == {name: type(found)() for name, found in faults.items()}, json.dumps(
        faults, ensure_ascii=False, indent=1
    )
    assert sorted(seen.walked) == console_pages()


def test_date_pickers_read_year_month_day_in_chinese(
    browsers: dict[str, Browser], server_url: str
) -> None:
    context = _signed_in(browsers["zh-CN"], server_url, "zh-CN")
    page = context.new_page()
    try:
        page.goto("/console/orders")
        picker = page.locator("input[type=date]").first
        expect(picker).to_be_visible()
        picker.fill("2026-11-11")
        cdp = context.new_cdp_session(page)
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
        # a spinbutton per part of the date, named by the browser in its language ("年 年")
        fields = [
            (
                str(node.get("name", {}).get("value", "")).split(" ")[-1],
                node.get("value", {}).get("value"),
            )
            for node in nodes
            if node.get("role", {}).get("value") == "spinbutton"
        ]
        assert [f for f in fields if f[0] in DATE_FIELDS][:3] == [
            ("年", 2026),
            ("月", 11),
            ("日", 11),
        ], fields
    finally:
        context.close()
