"""Errors of the identity domain, each with a stable code (all answer 409)."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import NewRetailError


class IdentityErrorCode(StrEnum):
    MERGE_REFUSED = "merge_refused"
    ALREADY_MERGED = "already_merged"
    UNDO_REFUSED = "undo_refused"
    CONFLICT_CLOSED = "conflict_closed"


class MergeRefused(NewRetailError, status=409, code=IdentityErrorCode.MERGE_REFUSED):
    """A merge that a rule forbids (two values of a unique type, or a bound without force)."""


class AlreadyMerged(NewRetailError, status=409, code=IdentityErrorCode.ALREADY_MERGED):
    """The two members already resolve to one member."""


class UndoRefused(NewRetailError, status=409, code=IdentityErrorCode.UNDO_REFUSED):
    """A merge that cannot be undone now (already undone, or a later merge sits on top)."""


class ConflictClosed(NewRetailError, status=409, code=IdentityErrorCode.CONFLICT_CLOSED):
    """A conflict that was already dismissed or merged."""
