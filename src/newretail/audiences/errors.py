"""Errors of the audiences domain, each with a stable code (docs/audiences.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from newretail.core.errors import Conflict, InvalidInput
from newretail.core.i18n import Translate, translator


class AudienceErrorCode(StrEnum):
    BELOW_PRIVACY_FLOOR = "below_privacy_floor"


class BelowPrivacyFloor(Conflict, code=AudienceErrorCode.BELOW_PRIVACY_FLOOR):
    """Members or an export of an audience smaller than the minimum crowd size."""


class RuleError(InvalidInput):
    """A rule tree that does not validate; `field` is the path of the fault.

    `reason` says why in English; `key` (a message id of the audiences catalogues,
    `audiences.rule.<name>`) and `values` say it in any locale (`translated`).
    """

    def __init__(self, path: str, name: str, **values: Any):
        self.key = f"audiences.rule.{name}"
        self.values = values
        self.reason = translator("en")(self.key, **values)
        super().__init__(f"{path}: {self.reason}", field=path)

    def translated(self, t: Translate) -> str:
        """The reason in the locale of `t`, after the path."""
        return f"{self.field}: {t(self.key, **self.values)}"
