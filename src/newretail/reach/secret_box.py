"""Signing secrets sealed at rest: Fernet (AES-128-CBC and HMAC-SHA256) with a key derived
by HKDF from the server's NEWRETAIL_SECRET_KEY (the key that also signs console sessions;
its own random file in the embedded demo). Changing that key makes the stored secrets
unreadable: rotate every endpoint's secret afterwards (docs/reach.md)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from newretail.core.errors import ConfigurationError
from newretail.core.settings import SECRET_FILE, Settings

_INFO = b"newretail webhook signing secrets v1"


class SecretBox:
    """Seals and opens endpoints' signing secrets."""

    def __init__(self, server_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            server_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box of this server's key (refused outside the demo when no key is set; a
        command on the demo's data folder uses the demo's key)."""
        demo_key = settings.data_dir / SECRET_FILE
        if settings.secret_key is None and not settings.demo and demo_key.is_file():
            return cls(settings.model_copy(update={"demo": True}).session_secret())
        return cls(settings.session_secret())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "a webhook secret cannot be opened with this server's NEWRETAIL_SECRET_KEY "
                "(was the key changed?); rotate the endpoint's secret",
                field="secret_key",
            ) from exc
