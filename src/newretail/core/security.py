"""Password hashing (argon2id), random tokens and their at-rest hashes."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

API_KEY_PREFIX = "nr_key_"
WRITE_KEY_PREFIX = "nr_wk_"
SESSION_PREFIX = "nr_sess_"
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """An argon2id hash with a random salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; never raises on a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A 256-bit random token with a readable prefix (the prefix tells its kind)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token: what is stored, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_display_prefix(token: str, kind_prefix: str) -> str:
    """The kind prefix and 8 more characters, shown in lists so a key can be recognised."""
    return token[: len(kind_prefix) + 8]
