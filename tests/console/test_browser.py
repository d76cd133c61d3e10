"""The console in a real browser: Debian chromium driven by Playwright against uvicorn.

The server is the real ASGI app on the embedded stores (SQLite + DuckDB in a tmp dir) with
the demo organisation seeded. Without chromium these tests skip, except under CI=true, where
a missing browser fails the run. Each run saves the screenshots the README embeds.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from newretail.bootstrap import bootstrap
from newretail.core import localtime, migrate
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.demo.organisation import DEMO_EMAIL, DEMO_PASSWORD, STORES, seed_demo
from newretail.main import create_app
from newretail.reach.secret_box import SecretBox
from newretail.tenancy.models import ChannelType

pytestmark = pytest.mark.browser

CI = os.environ.get("CI") == "true"
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 15_000
# the data folder of each server a module started (its SQLite file holds the demo's names)
DATA_DIRS: dict[str, Path] = {}


def _chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian chromium is not installed (`make browser` installs it as root)"
        if CI:
            pytest.fail(f"CI=true requires the console browser tests. {message}")
        pytest.skip(message)
    return path


def _demo_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'newretail.sqlite3'}",
        warehouse_url=f"duckdb://{data_dir / 'warehouse.duckdb'}",
        secret_key="browser-test-secret-" + "s" * 40,
        demo=True,
        # no background jobs: relaying the demo's ~50k outbox rows would outlast shutdown
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
    )


# The demo seeded once (about 10 s) and copied for each module's server, which then changes
# its own copy only. Seeded again on a new local day of the demo, or after 30 minutes: the
# demo is written as of the moment it is seeded.
_SEEDED: dict[str, tuple[date, float, Path]] = {}


def _seeded_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    local_day = localtime.today(localtime.DEFAULT_ZONE)  # the demo organisation's zone
    found = _SEEDED.get("demo")
    if found and found[0] == local_day and time.monotonic() - found[1] < 30 * 60:
        return found[2]
    template = tmp_path_factory.mktemp("browser-demo-seeded")
    settings = _demo_settings(template)
    container = bootstrap(settings)
    try:
        migrate.upgrade(container.engine)
        with session_scope(container.sessions) as session:
            seed_demo(session, SecretBox.from_settings(settings))
    finally:
        container.close()
    _SEEDED["demo"] = (local_day, time.monotonic(), template)
    return template


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on a free 127.0.0.1 port, with the demo seeded."""
    _chromium_path()  # skip (or fail under CI) before starting anything
    data_dir = tmp_path_factory.mktemp("browser-data")
    shutil.copytree(_seeded_demo(tmp_path_factory), data_dir, dirs_exist_ok=True)
    settings = _demo_settings(data_dir)
    container = bootstrap(settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # announced in the data dir as `make run` does (tests call its API with that credential)
    app = create_app(container=container, local_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    DATA_DIRS[url] = data_dir
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail(f"the server did not answer {url}/healthz within 30 s")
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
        container.close()  # the lifespan closes it too; closing twice is harmless
        assert not thread.is_alive(), "uvicorn did not stop within 30 s"


@pytest.fixture(scope="module")
def browser(server_url: str) -> Iterator[Browser]:
    """Debian chromium (Playwright's own browser download is not used).

    `launch` starts it on a fresh, empty temporary profile that Playwright removes on close.
    """
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def _screenshot(page: Page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def test_login_filter_and_switch_language(browser: Browser, server_url: str) -> None:
    context = browser.new_context(
        base_url=server_url,
        locale="en-US",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        viewport=VIEWPORT,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/console/stores")
        expect(page).to_have_url(f"{server_url}/console/login")
        expect(page.locator("h1")).to_have_text("NewRetail")
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")

        # sign-in lands on the operations centre's home page; the stores are in the menu
        expect(page).to_have_url(f"{server_url}/console")
        expect(page.locator("main h1")).to_have_text("Operations centre")
        page.click("#main-nav a:has-text('Stores')")
        expect(page).to_have_url(f"{server_url}/console/stores")
        assert len(STORES) == 20
        expect(page.locator("main h1")).to_have_text("Stores")
        expect(page.locator("#store-count")).to_have_text("20 stores")
        expect(page.locator("#stores-table tbody tr")).to_have_count(20)
        expect(page.locator("[data-testid=current-user]")).to_have_text(f"{DEMO_EMAIL} · Owner")
        expect(page.locator("#main-nav a.active")).to_have_text("Stores")
        _screenshot(page, "console-stores-en.png")

        vending = [s for s in STORES if s[2] == ChannelType.VENDING]
        assert len(vending) == 5
        page.select_option("#store-filters select[name=channel_type]", "vending")
        page.click("#store-filters button[type=submit]")
        expect(page).to_have_url(
            f"{server_url}/console/stores?q=&channel_type=vending&city=&status="
        )
        expect(page.locator("#store-count")).to_have_text("5 stores")
        rows = page.locator("#stores-table tbody tr")
        expect(rows).to_have_count(5)
        expect(rows.locator("td:nth-child(3)")).to_have_text(["Vending machine"] * 5)
        expect(rows.locator("td:nth-child(1)")).to_have_text(
            sorted((s[0] for s in vending), key=lambda code: _city_and_name(code))
        )

        page.goto("/console/stores")
        page.click("#language-switcher button:has-text('中文')")
        expect(page).to_have_url(f"{server_url}/console/stores")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("main h1")).to_have_text("门店")
        expect(page.locator("#store-count")).to_have_text("共 20 家门店")
        expect(page.locator("#stores-table tbody tr")).to_have_count(20)
        expect(page.locator("#main-nav")).to_contain_text("数据银行")
        expect(page.locator("#main-nav a")).to_have_text(
            [
                "门店",
                "商品目录",
                "库存",
                "会员",
                "OneID",
                "事件",
                "订单",
                "数据银行",
                "人群",
                "营销",
                "经营诊断",
            ]
        )
        _screenshot(page, "console-stores-zh-CN.png")

        # The choice is the user's preference, so it outlives the page; switch back.
        page.click("#language-switcher button:has-text('English')")
        expect(page.locator("main h1")).to_have_text("Stores")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()


def _city_and_name(code: str) -> tuple[str, str]:
    """The console's table order (city, then name) of a demo store."""
    store = next(s for s in STORES if s[0] == code)
    return (store[4] or "", store[1])


def test_login_page_follows_accept_language(browser: Browser, server_url: str) -> None:
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
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page).to_have_title("登录 · NewRetail 新零售")
        expect(page.locator("#login-form button[type=submit]")).to_have_text("登录")
        expect(page.locator("label[for=email]")).to_have_text("邮箱")
        expect(page.locator("label[for=password]")).to_have_text("密码")
    finally:
        context.close()


def test_docs_show_every_operation_of_the_openapi_document(
    browser: Browser, server_url: str
) -> None:
    """Swagger UI reads the OpenAPI 3.1 document: one block per operation, no render error."""
    document = httpx.get(f"{server_url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    operations = [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    context = browser.new_context(base_url=server_url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto("/docs")
        expect(page.locator(".information-container .title")).to_contain_text("NewRetail")
        expect(page.locator(".swagger-ui .opblock")).to_have_count(len(operations))
        expect(page.locator("text=Unable to render this definition")).to_have_count(0)
        expect(page.locator("#operations-operations-healthz_healthz_get")).to_contain_text(
            "/healthz"
        )
        assert page.evaluate("document.querySelector('link[rel~=icon]').href").endswith(
            "/favicon.ico"
        )
        assert failed == []
    finally:
        context.close()


def test_every_console_page_loads_its_icon_and_assets(browser: Browser, server_url: str) -> None:
    """No page requests a missing file (the browser asks every page for /favicon.ico)."""
    context = browser.new_context(base_url=server_url, viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto("/console/login")
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        expect(page).to_have_url(f"{server_url}/console")
        icon = httpx.get(f"{server_url}/favicon.ico", timeout=10)
        assert (icon.status_code, icon.headers["content-type"]) == (200, "image/x-icon")
        assert page.evaluate("document.querySelector('link[rel~=icon]').href") == (
            f"{server_url}/favicon.ico"
        )
        assert failed == []
    finally:
        context.close()
