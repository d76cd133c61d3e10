"""Security headers on every response: a Content-Security-Policy, nosniff, the referrer policy.

The console's pages run scripts only from the server's own files (`script-src 'self'`, no inline
script, no inline event handler: each domain's scripts are files under `<domain>/static/`) and
may not be framed (`frame-ancestors 'none'`). Inline styles stay allowed: computed widths
(progress bars, timelines) are style attributes, and the weekly report is one self-contained
page with its CSS inside (it is also e-mailed and printed). A response that sets its own policy
keeps it (the Swagger UI page at /docs admits its one inline script by hash); a JSON answer
gets a policy that allows nothing (`default-src 'none'`).
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
NOTHING_POLICY = "default-src 'none'; frame-ancestors 'none'"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def policy_with_inline_scripts(html: str) -> str:
    """The console's policy, plus the SHA-256 of each inline script of `html` (a page made by
    a library, such as Swagger UI's, whose one inline script starts it)."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]
    return CONSOLE_POLICY.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]))


def _policy(content_type: bytes) -> bytes | None:
    if content_type.startswith(b"text/html"):
        return CONSOLE_POLICY.encode()
    if content_type.startswith(b"application/json"):
        return NOTHING_POLICY.encode()
    return None  # files, CSV, PDF (a policy there would stop the browser's PDF viewer)


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                policy = _policy(dict(headers).get(b"content-type", b""))
                if policy is not None and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", policy))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"referrer-policy" not in names:
                    headers.append((b"referrer-policy", b"same-origin"))
                if b"x-frame-options" not in names:  # frame-ancestors, for older browsers
                    headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
