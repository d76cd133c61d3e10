"""The period and its base as the operations centre's API routes take them: four optional local
days in the query (blank: the last 7 complete local days against as many days before)."""

# no `from __future__ import annotations`: FastAPI reads this dataclass's signature as a
# dependency, with its Query descriptions, and needs the annotations as objects

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query

Day = Annotated[date | None, Query(description="A local day, YYYY-MM-DD")]


@dataclass
class Periods:
    """`first_day`…`last_day` against `base_first_day`…`base_last_day`."""

    first_day: Day = None
    last_day: Day = None
    base_first_day: Day = None
    base_last_day: Day = None

    def days(self) -> tuple[date | None, date | None, date | None, date | None]:
        """The four days in the order the diagnosis services take them."""
        return (self.first_day, self.last_day, self.base_first_day, self.base_last_day)


PeriodsQuery = Annotated[Periods, Depends()]
