"""HTML to PDF with WeasyPrint, which lays text out with Debian's pango (libpango-1.0-0,
libpangoft2-1.0-0) and fontconfig's fonts: Chinese needs a CJK font such as fonts-noto-cjk
(scripts/install-browser.sh installs both)."""

from __future__ import annotations

from newretail.core.errors import ConfigurationError


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML page (no external resources) as PDF bytes."""
    try:
        # imported here, not at the top: it loads pango when imported, and a server without
        # pango serves everything but PDFs (and the import costs half a second)
        import weasyprint
    except OSError as exc:
        raise ConfigurationError(
            "PDF needs pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk",
            field="format",
        ) from exc
    document: bytes = weasyprint.HTML(string=html, base_url=None).write_pdf()
    return document
