"""Reading and submitting console pages in ASGI-client tests: the form's CSRF token, an
element's text, the rows of a table, a form post that follows the console's rules."""

from __future__ import annotations

import html as html_text
import re

from fastapi.testclient import TestClient
from httpx import Response


def csrf(html: str) -> str:
    """The page's CSRF token (every signed-in page carries one)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def text(html: str, element_id: str) -> str:
    """The text of the element with this id up to its first closing tag, spaces collapsed."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, f"#{element_id} not on the page"
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip())


def rows(html: str, attribute: str) -> list[str]:
    """The values of an attribute (such as data-sku) in page order."""
    return re.findall(rf'{attribute}="([^"]+)"', html)


def field_errors(html: str) -> dict[str, str]:
    """Field -> message shown under the fields of a refused form."""
    found = re.findall(r'data-error="([^"]+)"[^>]*>(.*?)</', html, re.S)
    return {name: html_text.unescape(re.sub(r"\s+", " ", m).strip()) for name, m in found}


def submit(
    client: TestClient, page_url: str, action: str, data: dict[str, str], **headers: str
) -> Response:
    """Open the page, then post the form to `action` with the page's CSRF token."""
    page = client.get(page_url, headers=headers)
    assert page.status_code == 200, page.text
    return client.post(
        action,
        data={"csrf_token": csrf(page.text), **data},
        headers=headers,
        follow_redirects=False,
    )
