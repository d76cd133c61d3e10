"""How much work one request may ask of the server (issue 16): the longest span of days a read
or a synchronous run covers, and the largest page a list answers. One rule for every route,
so one caller cannot keep the embedded server busy for everyone (docs/api.md, Limits).

- A span of days (`from`…`to`, FAST's weeks, a synchronous snapshot run) holds at most
  `Settings.max_range_days` days (default 366: a year and a day, so the same day of last year
  compares with today); a domain may hold a tighter span of its own (the operations centre's
  92-day periods) and checks it here too. Longer work runs as a job with progress (the Data
  Bank's backfills).
- A page holds at most `PAGE_SIZE_MAX` rows (`BULK_PAGE_SIZE_MAX` for bare id lists and
  stock levels) and skips at most `MAX_OFFSET` rows; the OpenAPI document says so (`maximum`).
Refusals are 422 `range_too_long` naming the field, in the reader's language.
"""

from __future__ import annotations

from datetime import date

from newretail.core.errors import ErrorCode, InvalidInput
from newretail.core.i18n import Translate, translator

DEFAULT_MAX_RANGE_DAYS = 366
# the widest span a deployment may allow (Settings.max_range_days)
MAX_RANGE_DAYS_CEILING = 3660
PAGE_SIZE_MAX = 500
BULK_PAGE_SIZE_MAX = 10_000
# the deepest an offset-paged list reads (past it the database would scan without bound)
MAX_OFFSET = 1_000_000


class RangeTooLong(InvalidInput, code=ErrorCode.RANGE_TOO_LONG):
    """A span of days longer than a request may cover."""

    KEY = "limits.range_too_long"

    def __init__(self, days: int, most: int, *, field: str) -> None:
        self.values = {"days": days, "most": most}
        super().__init__(translator("en")(self.KEY, **self.values), field=field)

    def translated(self, t: Translate) -> str:
        """The message in the reader's language."""
        return t(self.KEY, **self.values)


def span_days(first: date, last: date) -> int:
    """The days from `first` to `last`, both counted."""
    return (last - first).days + 1


def check_span(first: date, last: date, most: int, *, field: str) -> None:
    """Refuse a span of days (both ends counted) longer than `most` days, naming `field` (the
    end the caller would change)."""
    days = span_days(first, last)
    if days > most:
        raise RangeTooLong(days, most, field=field)


def check_weeks(weeks: int, most_days: int, *, field: str) -> None:
    """Refuse `weeks` whole weeks that would cover more than `most_days` days."""
    if weeks * 7 > most_days:
        raise RangeTooLong(weeks * 7, most_days, field=field)


def most_weeks(most_days: int) -> int:
    """The most whole weeks within `most_days` days (at least one)."""
    return max(1, most_days // 7)
