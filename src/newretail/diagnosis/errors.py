"""Codes of the diagnosis domain: its errors, and why a peer figure is withheld."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from newretail.core.errors import InvalidInput
from newretail.core.i18n import Translate, translator


class DiagnosisErrorCode(StrEnum):
    """Codes of the diagnosis domain's errors."""

    INVALID_PEER_INPUT = "invalid_peer_input"
    INVALID_PERIOD = "diagnosis_invalid_period"
    INVALID_WINDOW = "diagnosis_invalid_window"
    INVALID_REPORT = "diagnosis_invalid_report"
    INVALID_GROUPING = "diagnosis_invalid_grouping"


class InvalidPeerInput(InvalidInput):
    """Store figures peers cannot be tiered from (a store twice, a warehouse, NaN)."""

    code = DiagnosisErrorCode.INVALID_PEER_INPUT


class InvalidDiagnosisPeriod(InvalidInput):
    """A period whose days are in the wrong order, too long, or given by half."""

    code = DiagnosisErrorCode.INVALID_PERIOD


class InvalidFunnelWindow(InvalidInput):
    """A funnel's conversion window outside 1 to 30 days."""

    code = DiagnosisErrorCode.INVALID_WINDOW


class InvalidReportInput(InvalidInput):
    """A weekly report asked for a week not over, a format or language there is not, or with
    nobody to send it to; its message is `diagnosis.report.error.<reason>` of the catalogues."""

    code = DiagnosisErrorCode.INVALID_REPORT

    def __init__(self, reason: str, *, field: str, **values: Any) -> None:
        self.key = f"diagnosis.report.error.{reason}"
        self.values = values
        super().__init__(translator("en")(self.key, **values), field=field)

    def translated(self, t: Translate) -> str:
        """The message in the reader's language."""
        return t(self.key, **self.values)


class InvalidGrouping(InvalidInput):
    """Metrics grouped by something other than store, brand, channel, city or organisation."""

    code = DiagnosisErrorCode.INVALID_GROUPING


class PeerWithholding(StrEnum):
    """Why a peer statistic, a grade or a next-tier amount is reported without a value."""

    TOO_FEW_STORES = "too_few_stores"  # the peer cell (or group) is below the privacy minimum
    TOO_FEW_VALUES = "too_few_values"  # enough stores, but too few have this metric
    NO_VALUE = "no_value"  # the store itself has no value of the metric
    TOP_TIER = "top_tier"  # there is no next tier
