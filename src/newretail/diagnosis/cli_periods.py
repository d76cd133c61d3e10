"""What the diagnosis commands share: the period options (`--from`, `--to`, `--against-from`,
`--against-to`, local days), their API names, and `answer`: a running server's API while it holds
the embedded warehouse, else the same computed in this process."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any

import typer

from newretail.core.cli import state
from newretail.core.i18n import DEFAULT_LOCALE
from newretail.core.local_server import request_json, running_server, server_client
from newretail.tenancy.operator import OperatorSession, operator_session

PARAMETERS = ("first_day", "last_day", "base_first_day", "base_last_day")  # the API's


def day_option(name: str, text: str) -> Any:
    return typer.Option(name, formats=["%Y-%m-%d"], help=f"{text} (a local day, YYYY-MM-DD)")


# the period options every diagnosis command shares
FirstDay = Annotated[datetime | None, day_option("--from", "First day")]
LastDay = Annotated[datetime | None, day_option("--to", "Last day")]
BaseFirstDay = Annotated[datetime | None, day_option("--against-from", "First day compared with")]
BaseLastDay = Annotated[datetime | None, day_option("--against-to", "Last day compared with")]


def days_of(*given: datetime | None) -> list[date | None]:
    return [None if value is None else value.date() for value in given]


def day_params(days: Sequence[date | None]) -> dict[str, date | None]:
    """The API's names of a period and its comparison period."""
    return dict(zip(PARAMETERS, days, strict=True))


def answer(
    ctx: typer.Context,
    org: str,
    path: str,
    params: Mapping[str, object],
    here: Callable[[OperatorSession], dict[str, Any]],
) -> dict[str, Any]:
    """What `GET path` answers: a running server's API while it holds the embedded warehouse
    (the demo), else `here`, computed in this process as the organisation's operator."""
    settings = state(ctx).settings()
    if running_server(settings) is not None:
        given = {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in params.items()
            if value is not None
        }
        with server_client(settings, org) as client:
            return dict(
                request_json(
                    client, "GET", path, params=given, headers={"accept-language": DEFAULT_LOCALE}
                )
            )
    with operator_session(ctx, org) as found:
        return here(found)
