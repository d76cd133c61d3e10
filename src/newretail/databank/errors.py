"""Errors of the Data Bank, each with a stable code (messages in the databank locales).

Each derives from the core error of its HTTP meaning (422 invalid input, 404, 409).
"""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import Conflict, InvalidInput, NotFound


class DatabankErrorCode(StrEnum):
    INVALID_PERIOD = "databank_invalid_period"
    INVALID_STAGE = "databank_invalid_stage"
    INVALID_DIMENSION = "databank_invalid_dimension"
    INVALID_DATE = "databank_invalid_date"
    UNKNOWN_BRAND = "databank_unknown_brand"
    MEMBER_LIST_NOT_FOUND = "databank_member_list_not_found"
    SNAPSHOT_MISSING = "databank_snapshot_missing"
    SNAPSHOT_OUT_OF_ORDER = "databank_snapshot_out_of_order"
    BACKFILL_RUNNING = "databank_backfill_running"
    BACKFILL_NOT_FOUND = "databank_backfill_not_found"
    INVALID_ORGANIZATION = "databank_invalid_organization"


class InvalidPeriod(InvalidInput, code=DatabankErrorCode.INVALID_PERIOD):
    """Dates in the wrong order, a range too long, or a week count out of bounds."""


class InvalidDate(InvalidInput, code=DatabankErrorCode.INVALID_DATE):
    """A day that is not YYYY-MM-DD."""


class InvalidStage(InvalidInput, code=DatabankErrorCode.INVALID_STAGE):
    """A stage other than A, I, P, L or none; or a flow cell without any stage."""


class InvalidDimension(InvalidInput, code=DatabankErrorCode.INVALID_DIMENSION):
    """A breakdown dimension or an export kind that does not exist."""


class UnknownBrand(NotFound, code=DatabankErrorCode.UNKNOWN_BRAND):
    """A brand that is not the organisation's."""


class MemberListNotFound(NotFound, code=DatabankErrorCode.MEMBER_LIST_NOT_FOUND):
    """A saved member list that does not exist in the organisation."""


class SnapshotMissing(InvalidInput, code=DatabankErrorCode.SNAPSHOT_MISSING):
    """An incremental snapshot without the snapshot of the day before."""


class SnapshotOutOfOrder(Conflict, code=DatabankErrorCode.SNAPSHOT_OUT_OF_ORDER):
    """An engine without UPDATE asked for a day before its last materialised one."""


class BackfillRunning(Conflict, code=DatabankErrorCode.BACKFILL_RUNNING):
    """A backfill of the organisation is already running in the server."""


class BackfillNotFound(NotFound, code=DatabankErrorCode.BACKFILL_NOT_FOUND):
    """No such backfill in this server."""


class InvalidOrganization(InvalidInput, code=DatabankErrorCode.INVALID_ORGANIZATION):
    """An organisation id that is not a UUID (warehouse keys are canonical UUIDs)."""
