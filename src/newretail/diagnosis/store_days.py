"""The store-day rows one unit of work reads (a page, an API call, a command): each local day
read from the warehouse at most once, so the GMV change's two months and the peer tiers' 30
days share one query (metrics.store_day_table gives the rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from newretail.diagnosis.metrics import SOURCES, Sources, StoreDay, store_day_rows, store_day_table

# Where a unit of work keeps the store-days it read (SQLAlchemy's Session.info: one page, API
# call or command; a new one reads afresh)
_READ_KEY = "diagnosis.store_days"


@dataclass(frozen=True)
class _Read:
    first: date
    last: date
    stores: frozenset[str] | None  # None: every store, and the events without one
    rows: list[StoreDay]


class StoreDays:
    """The store-day rows of one organisation as one unit of work reads them, each local day
    read at most once: periods that touch or overlap are read in one warehouse query, and a
    later question about days and stores already read (the peer tiers' 30 days after the GMV
    change's month) is answered from those rows. The rows are those `store_day_table` gives
    for the same days; kept in `memo` (a dict living as long as the unit of work, e.g.
    `session.info`), never longer."""

    def __init__(
        self,
        memo: dict[str, Any],
        con: Any,
        organization_id: str,
        time_zone: str,
        store_zones: Mapping[str, str] | None = None,
        sources: Sources = SOURCES,
    ):
        self.con = con
        self.organization_id = organization_id
        self.time_zone = time_zone
        self.store_zones = dict(store_zones or {})
        self.sources = sources
        key = (organization_id, time_zone, tuple(sorted(self.store_zones.items())), sources)
        self._reads: list[_Read] = memo.setdefault(_READ_KEY, {}).setdefault(key, [])

    def rows(self, first: date, last: date, stores: Sequence[str] | None = None) -> list[StoreDay]:
        """The store-days of first … last (of `stores`; None: all, and events without a
        store), ordered as `store_day_rows` orders them."""
        return self.read([(first, last)], stores)[0]

    def read(
        self, periods: Sequence[tuple[date, date]], stores: Sequence[str] | None = None
    ) -> list[list[StoreDay]]:
        """The store-days of each period, reading the days not yet read (periods that touch
        or overlap in one query)."""
        wanted = None if stores is None else frozenset(stores)
        missing = [p for p in periods if self._covering(p, wanted) is None]
        for first, last in _spans(missing):
            table = store_day_table(
                self.con,
                self.organization_id,
                first,
                last,
                self.time_zone,
                store_zones=self.store_zones,
                stores=None if wanted is None else sorted(wanted),
                sources=self.sources,
            )
            self._reads.append(_Read(first, last, wanted, store_day_rows(table)))
        found = []
        for first, last in periods:
            read = self._covering((first, last), wanted)
            assert read is not None
            found.append(
                [
                    row
                    for row in read.rows
                    if first <= row.day <= last
                    and (wanted is None or (row.store_id is not None and row.store_id in wanted))
                ]
            )
        return found

    def _covering(self, period: tuple[date, date], stores: frozenset[str] | None) -> _Read | None:
        for read in self._reads:
            covered = read.first <= period[0] and period[1] <= read.last
            if covered and (read.stores is None or (stores is not None and stores <= read.stores)):
                return read
        return None


def _spans(periods: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """The periods merged where they touch or overlap."""
    merged: list[tuple[date, date]] = []
    for first, last in sorted(periods):
        if merged and first <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
