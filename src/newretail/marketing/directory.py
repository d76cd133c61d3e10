"""The names marketing's console pages show of other domains' things: audiences (a campaign
stage's targets) and members (whose coupons). Marketing sits below audiences and members in
the layers, so it names what it needs (`Directory`) and the composition root that mounts the
pages (`newretail.pages`) supplies it on `app.state.marketing_directory`, as the stores are
supplied on `app.state.container`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from newretail.core.http import supplied
from newretail.tenancy.permissions import Principal


@dataclass(frozen=True)
class Named:
    """Something shown by name (`detail`: what tells two of one name apart)."""

    id: uuid.UUID
    name: str
    detail: str = ""


class Directory(Protocol):
    def audiences(self, session: Session, principal: Principal) -> Sequence[Named]:
        """The organisation's audiences, by name."""
        ...

    def find_members(
        self, session: Session, principal: Principal, text: str, limit: int
    ) -> Sequence[Named]:
        """Members whose name holds `text`, or with that phone, card or e-mail."""
        ...

    def member(self, session: Session, principal: Principal, member_id: uuid.UUID) -> Named:
        """One member (not found outside the organisation)."""
        ...


def directory(request: Request) -> Directory:
    found: Directory = supplied(request, "marketing_directory", "newretail.pages.mount_pages")
    return found


DirectoryDep = Annotated[Directory, Depends(directory)]
