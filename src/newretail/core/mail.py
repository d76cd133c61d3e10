"""Outgoing e-mail through the SMTP server the settings name (NEWRETAIL_SMTP_*): one message
to its recipients, with a plain-text body, an HTML alternative and attachments."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from email_validator import EmailNotValidError, validate_email

from newretail.core.errors import ConfigurationError, InvalidInput, Unavailable
from newretail.core.settings import Settings

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message."""

    filename: str
    content: bytes
    mime_type: str  # "application/pdf"


def checked_address(address: str, field: str = "email") -> str:
    """An e-mail address as given, or refused naming `field` (the domain is not looked up)."""
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"not an e-mail address: {address!r}", field=field) from exc


def message(
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """A MIME message: the text, the HTML as its alternative, then the attachments."""
    found = EmailMessage()
    found["From"] = sender
    found["To"] = ", ".join(to)
    found["Subject"] = subject
    found["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    found.set_content(text)
    if html is not None:
        found.add_alternative(html, subtype="html")
    for attachment in attachments:
        kind, _, subtype = attachment.mime_type.partition("/")
        found.add_attachment(
            attachment.content, maintype=kind, subtype=subtype, filename=attachment.filename
        )
    return found


def require_server(settings: Settings) -> str:
    """The SMTP server's host; refused naming `smtp_host` when none is set."""
    if not settings.smtp_host:
        raise ConfigurationError(
            "no SMTP server: set NEWRETAIL_SMTP_HOST (and _PORT, _USER, _PASSWORD, _FROM)",
            field="smtp_host",
        )
    return settings.smtp_host


def send(settings: Settings, mail: EmailMessage) -> None:
    """Send a message through the configured SMTP server (STARTTLS and login as set);
    refused without a server, unavailable when the server cannot be reached or refuses."""
    host = require_server(settings)
    try:
        with smtplib.SMTP(host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                password = settings.smtp_password
                smtp.login(settings.smtp_user, password.get_secret_value() if password else "")
            smtp.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        raise Unavailable(
            f"the SMTP server {host}:{settings.smtp_port} did not take the message: {exc}",
            field="smtp_host",
        ) from exc
