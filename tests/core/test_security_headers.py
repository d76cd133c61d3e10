"""Security headers: the console's CSP (no inline script, no framing), /docs under its own."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient

import newretail
from newretail.core.headers import CONSOLE_POLICY, NOTHING_POLICY

SOURCE = Path(newretail.__file__).parent
_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_the_console_page_forbids_inline_script_and_framing(client: TestClient) -> None:
    page = client.get("/console/login")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONSOLE_POLICY
    assert "script-src 'self';" in CONSOLE_POLICY and "frame-ancestors 'none'" in CONSOLE_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-frame-options"] == "DENY"
    # the login form keeps its CSRF token
    assert 'name="csrf_token" value="' in page.text


def test_json_answers_allow_nothing(client: TestClient) -> None:
    answer = client.get("/api/v1/stores")
    assert answer.status_code == 401
    assert answer.headers["content-security-policy"] == NOTHING_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_swagger_ui_runs_its_one_inline_script_by_hash(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    (inline,) = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert page.headers["content-security-policy"] == CONSOLE_POLICY.replace(
        "script-src 'self'", f"script-src 'self' 'sha256-{digest}'"
    )


def test_no_template_has_inline_script_or_event_handlers() -> None:
    offenders = []
    for template in sorted(SOURCE.glob("*/templates/**/*.html")):
        text = template.read_text(encoding="utf-8")
        for attributes in _SCRIPT_TAG.findall(text):
            if "src=" not in attributes and "application/json" not in attributes:
                offenders.append(f"{template.relative_to(SOURCE)}: inline <script>")
        if _EVENT_HANDLER.search(re.sub(r"<script\b.*?</script>", "", text, flags=re.DOTALL)):
            offenders.append(f"{template.relative_to(SOURCE)}: inline event handler")
    assert offenders == []


def test_each_domain_script_is_served_from_the_package(client: TestClient) -> None:
    scripts = sorted(SOURCE.glob("*/static/*.js"))
    assert [f"{p.parent.parent.name}/{p.name}" for p in scripts] == [
        "audiences/estimate.js",
        "marketing/campaign_form.js",
        "marketing/offer_form.js",
        "reach/decisions.js",
        "reach/screen.js",
    ]
    for script in scripts:
        served = client.get(f"/static/{script.parent.parent.name}/{script.name}")
        assert served.status_code == 200
        assert served.text == script.read_text(encoding="utf-8")
