"""The sale-price rule's Python and SQL forms (`catalog.pricing`) agree on every combination
of channel type, channel price, store price, store override, SKU channels and status, and
on category paths. The SQL form is the one the PostgreSQL POS statement embeds."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal

import pytest
from sqlalchemy import text

from newretail.catalog import pricing
from newretail.core.database import create_db_engine
from newretail.tenancy.models import ChannelType

SELLING = [channel.value for channel in ChannelType if channel != ChannelType.WAREHOUSE]
CHANNEL_PRICES = [None, Decimal("10.00")]
STORE_PRICES = [None, Decimal("9.50")]
OVERRIDES = [None, True, False]
STATUSES = ["active", "inactive"]


def _channel_lists(channel: str) -> list[object]:
    other = next(c for c in SELLING if c != channel)
    return [None, [], [channel], [other], [other, channel], {"not": "a list"}]


def combinations() -> list[dict[str, object]]:
    found = []
    for channel, cp, sp, override, status in itertools.product(
        SELLING, CHANNEL_PRICES, STORE_PRICES, OVERRIDES, STATUSES
    ):
        for channels in _channel_lists(channel):
            found.append(
                {
                    "n": len(found),
                    "channel_type": channel,
                    "channels": channels,
                    "status": status,
                    "cp_amount": None if cp is None else str(cp),
                    "sp_amount": None if sp is None else str(sp),
                    "av_available": override,
                }
            )
    return found


CATEGORY_PATHS = [None, "", "Skincare/Serums", " Tea /Green", "TEA", "/Gifts", "Tea"]


@pytest.mark.postgres
def test_python_and_sql_price_rules_agree_on_every_combination(postgres_url: str) -> None:
    rows = combinations()
    assert len(rows) == len(SELLING) * 2 * 2 * 3 * 2 * 6
    engine = create_db_engine(postgres_url)
    try:
        with engine.connect() as connection:
            got = {
                n: (None if amount is None else Decimal(amount), source, available)
                for n, amount, source, available in connection.execute(
                    text(
                        f"""
                        SELECT v.n, {pricing.SQL_AMOUNT}, {pricing.SQL_AMOUNT_SOURCE},
                            {pricing.SQL_SOLD_AT_STORE}
                        FROM json_to_recordset(CAST(:rows AS json)) AS v(n integer,
                            channel_type text, channels json, status text,
                            cp_amount numeric, sp_amount numeric, av_available boolean)
                        CROSS JOIN LATERAL (SELECT v.channel_type) AS s(channel_type)
                        CROSS JOIN LATERAL (SELECT v.channels, v.status) AS k(channels, status)
                        CROSS JOIN LATERAL (SELECT v.cp_amount) AS cp(amount)
                        CROSS JOIN LATERAL (SELECT v.sp_amount) AS sp(amount)
                        CROSS JOIN LATERAL (SELECT v.av_available) AS av(available)
                        """  # noqa: S608 (constants of the rule, values bound)
                    ),
                    {"rows": json.dumps(rows)},
                )
            }
            categories = dict(
                connection.execute(
                    text(
                        f"""
                        SELECT p.category_path, {pricing.SQL_CATEGORY}
                        FROM unnest(CAST(:paths AS text[])) AS p(category_path)
                        """  # noqa: S608
                    ),
                    {"paths": [path for path in CATEGORY_PATHS if path is not None]},
                ).all()
            )
    finally:
        engine.dispose()
    expected = {}
    for row in rows:
        amount, source = pricing.sale_amount(
            None if row["sp_amount"] is None else Decimal(str(row["sp_amount"])),
            None if row["cp_amount"] is None else Decimal(str(row["cp_amount"])),
        )
        available = pricing.sold_at_store(
            row["av_available"],  # type: ignore[arg-type]
            row["channels"],
            str(row["status"]),
            str(row["channel_type"]),
        )
        expected[row["n"]] = (amount, source, available)
    assert got == expected
    assert categories == {
        path: pricing.category_of(path) for path in CATEGORY_PATHS if path is not None
    }
    assert pricing.category_of(None) is None
    assert categories == {
        "": None,
        "Skincare/Serums": "skincare",
        " Tea /Green": "tea",
        "TEA": "tea",
        "/Gifts": None,
        "Tea": "tea",
    }
