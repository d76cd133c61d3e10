"""The members' consent as marketing's activations ask for it.

Marketing may not read the members domain (import contract `marketing-keeps-to-its-ledger`),
so it names what it needs: the members, of a batch, whose marketing consent allows a coupon
(`Consenting`). The one rule lives in `newretail.members.consent.consenting`;
`newretail.handlers` supplies it here once per process, as it installs the domain-event
handlers. Until then a bulk issue refuses to run rather than issue without asking.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session


class Consenting(Protocol):
    def __call__(self, session: Session, member_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """The members, of those given, whose marketing consent allows a coupon now."""
        ...


class ConsentNotSupplied(RuntimeError):
    """A bulk issue ran before `newretail.handlers.install()` supplied the consent rule."""


_supplied: list[Consenting] = []


def supply(consenting: Consenting) -> None:
    """Install the members' consent rule (`newretail.handlers` does, once per process)."""
    _supplied[:] = [consenting]


def consenting(session: Session, member_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The members whose marketing consent allows a coupon now (read, never cached)."""
    if not _supplied:
        raise ConsentNotSupplied("newretail.handlers.install() supplies the consent rule")
    return _supplied[0](session, member_ids)
