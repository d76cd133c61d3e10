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


class InvalidPeriod(InvalidInput):
    """Dates in the wrong order, a range too long, or a week count out of bounds."""

    code = DatabankErrorCode.INVALID_PERIOD


class InvalidDate(InvalidInput):
    """A day that is not YYYY-MM-DD."""

    code = DatabankErrorCode.INVALID_DATE


class InvalidStage(InvalidInput):
    """A stage other than A, I, P, L or none; or a flow cell without any stage."""

    code = DatabankErrorCode.INVALID_STAGE


class InvalidDimension(InvalidInput):
    """A breakdown dimension or an export kind that does not exist."""

    code = DatabankErrorCode.INVALID_DIMENSION


class UnknownBrand(NotFound):
    """A brand that is not the organisation's."""

    code = DatabankErrorCode.UNKNOWN_BRAND


class MemberListNotFound(NotFound):
    """A saved member list that does not exist in the organisation."""

    code = DatabankErrorCode.MEMBER_LIST_NOT_FOUND


class SnapshotMissing(InvalidInput):
    """An incremental snapshot without the snapshot of the day before."""

    code = DatabankErrorCode.SNAPSHOT_MISSING


class SnapshotOutOfOrder(Conflict):
    """An engine without UPDATE asked for a day before its last materialised one."""

    code = DatabankErrorCode.SNAPSHOT_OUT_OF_ORDER


class BackfillRunning(Conflict):
    """A backfill of the organisation is already running in the server."""

    code = DatabankErrorCode.BACKFILL_RUNNING


class BackfillNotFound(NotFound):
    """No such backfill in this server."""

    code = DatabankErrorCode.BACKFILL_NOT_FOUND


class InvalidOrganization(InvalidInput):
    """An organisation id that is not a UUID (warehouse keys are canonical UUIDs)."""

    code = DatabankErrorCode.INVALID_ORGANIZATION
