"""Errors of the identity domain, each with a stable code."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import NewRetailError


class IdentityErrorCode(StrEnum):
    MERGE_REFUSED = "merge_refused"
    ALREADY_MERGED = "already_merged"
    UNDO_REFUSED = "undo_refused"
    CONFLICT_CLOSED = "conflict_closed"


class MergeRefused(NewRetailError):
    """A merge that a rule forbids (two values of a unique type, or a bound without force)."""

    status_code = 409
    code = IdentityErrorCode.MERGE_REFUSED


class AlreadyMerged(NewRetailError):
    """The two members already resolve to one member."""

    status_code = 409
    code = IdentityErrorCode.ALREADY_MERGED


class UndoRefused(NewRetailError):
    """A merge that cannot be undone now (already undone, or a later merge sits on top)."""

    status_code = 409
    code = IdentityErrorCode.UNDO_REFUSED


class ConflictClosed(NewRetailError):
    """A conflict that was already dismissed or merged."""

    status_code = 409
    code = IdentityErrorCode.CONFLICT_CLOSED
