"""The numbered pages of a console list: `?page=` (from 1) of CONSOLE_PER_PAGE rows.

A list page takes `paging: PagingDep`, asks its service for `paging.number` of `paging.size`
rows, and passes `paging=paging` and the total to its template, whose `pager` (macros.html)
shows "1–50 of 1,234" with the previous and next links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from newretail.core.pagination import CONSOLE_PER_PAGE, page_number


@dataclass(frozen=True)
class Paging:
    """Which page of a list is shown, and how many rows a page holds."""

    number: int = 1
    size: int = CONSOLE_PER_PAGE

    @property
    def offset(self) -> int:
        """How many rows the pages before this one hold."""
        return (self.number - 1) * self.size


def paging(page: str = "") -> Paging:
    """The page a console list was asked for; anything but a whole number from 1 is a 422."""
    return Paging(page_number(page))


PagingDep = Annotated[Paging, Depends(paging)]
