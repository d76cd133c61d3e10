"""The member page's Export data in a real browser (Debian chromium, Playwright) against the
app under uvicorn, in English and in Chinese: the buttons, then both downloads (JSON and the
CSV zip) read back; the screenshots docs/privacy.md shows."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.privacy.models import MemberDataRequest
from newretail.simulator.server import local_server
from tests.conftest import Org
from tests.console import test_browser as shared
from tests.members.test_browser_members import _sign_in, browser
from tests.privacy.test_export import rich

pytestmark = pytest.mark.browser
__all__ = ["browser", "rich"]

WORDS = {
    "en": (
        "Export data",
        "JSON",
        "CSV (zip)",
        "(city, e-mail, name, phone; command line)",
        "(CSV, console)",
    ),
    "zh-CN": (
        "导出数据",
        "JSON",
        "CSV（压缩包）",
        "（城市、邮箱、姓名、手机号；命令行）",
        "（CSV，控制台）",
    ),
}
ERASE = {
    "en": (
        "Erase member…",
        "Erasure is irreversible",
        "Tick the box to confirm: an erasure cannot be undone.",
        "Member erased",
    ),
    "zh-CN": ("删除会员…", "删除不可撤销", "请勾选确认：删除后无法撤销。", "会员已删除"),
}


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_member_page_exports_in_the_browser(
    browser: Browser, container: Container, org: Org, rich: dict[str, Any], language: str
) -> None:
    member = rich["member"]
    label, json_label, csv_label, _, _ = WORDS[language]
    with local_server(container) as url:
        context, page = _sign_in(browser, url, org, language)
        try:
            page.goto(f"/console/members/{member}")
            expect(page.locator("#member-export")).to_contain_text(label)
            expect(page.locator("#export-json")).to_have_text(json_label)
            expect(page.locator("#export-csv")).to_have_text(csv_label)
            # the fixture's profile change: a correction, audited
            expect(page.locator("#member-export-audit")).to_contain_text(WORDS[language][3])

            with page.expect_download() as got:
                page.click("#export-json")
            document = json.loads(got.value.path().read_bytes())
            assert got.value.suggested_filename.startswith(f"member-{member}-")
            assert document["counts"]["orders"] == 1 and document["counts"]["events"] == 2
            assert document["sections"]["profile"][0]["name"] == "Han Meimei"

            with page.expect_download() as got:
                page.click("#export-csv")
            assert got.value.suggested_filename.endswith(".zip")
            archive = zipfile.ZipFile(io.BytesIO(got.value.path().read_bytes()))
            assert "16_events.csv" in archive.namelist()

            page.reload()  # the two downloads are named under the buttons, newest first
            audit = page.locator("#member-export-audit li")
            expect(audit).to_have_count(3)
            expect(audit.nth(0)).to_contain_text(WORDS[language][4])
            page.screenshot(path=str(shared.IMAGES / f"member-export-{language}.png"))
        finally:
            context.close()
    with session_scope(container.sessions, org.id) as session:
        audited = session.scalars(
            select(MemberDataRequest)
            .where(MemberDataRequest.kind == "export")
            .order_by(MemberDataRequest.requested_at)
        ).all()
    assert [(r.channel, r.file_format) for r in audited] == [
        ("console", "json"),
        ("console", "csv"),
    ]


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_member_page_erases_after_a_confirmation_in_the_browser(
    browser: Browser, container: Container, org: Org, rich: dict[str, Any], language: str
) -> None:
    member = rich["member"]
    button, warning, refusal, done = ERASE[language]
    with local_server(container) as url:
        context, page = _sign_in(browser, url, org, language)
        try:
            page.goto(f"/console/members/{member}")
            expect(page.locator("#erase-member")).to_have_text(button)
            page.click("#erase-member")
            expect(page.locator("#erase-warning")).to_contain_text(warning)
            page.click("#erase-submit")  # not ticked: refused, nothing erased
            expect(page.locator("#confirm-error")).to_have_text(refusal)
            page.screenshot(path=str(shared.IMAGES / f"member-erase-{language}.png"))
            page.check("#confirm")
            page.click("#erase-submit")
            expect(page.locator("h1")).to_have_text(done)
            expect(page.locator("#erased-status")).to_be_visible()
        finally:
            context.close()
    with session_scope(container.sessions, org.id) as session:
        erased = session.scalars(
            select(MemberDataRequest).where(MemberDataRequest.kind == "erasure")
        ).all()
    assert [(r.channel, r.member_id, r.status) for r in erased] == [("console", member, "done")]
