"""How `newretail diagnosis causes` prints why GMV moved, a store's or the organisation's
(the API's answer, `cause_schemas`), in one place for both."""

from __future__ import annotations

from typing import Any

from newretail.core.cli import out
from newretail.core.i18n import DEFAULT_LOCALE, translator
from newretail.core.money import yuan

T = translator(DEFAULT_LOCALE)  # the command speaks English, as its other output


def print_causes(row: dict[str, Any]) -> None:
    """The periods, the change and its parts, the causes numbered, then the data-quality
    causes; `row` is a store's answer (it names its store) or the organisation's."""
    period, base, parts = row["period"], row["base_period"], row["parts"]
    store = row.get("store")
    whose = f"{store['name']} ({store['code']})" if store else "All stores"
    out.print(
        f"[bold]{whose}: GMV {period['first_day']} … {period['last_day']}[/bold] against "
        f"{base['first_day']} … {base['last_day']} (local days, {row['time_zone']})"
    )
    before, after = (
        (row["base"]["gmv"], row["comparison"]["gmv"])
        if store
        else (row["base_gmv"], row["comparison_gmv"])
    )
    out.print(
        f"{yuan(before)} → {yuan(after)}, change {yuan(row['change'], signed=True)} = visitors "
        f"{yuan(parts['visitors'], signed=True)}, conversion "
        f"{yuan(parts['conversion'], signed=True)}, order value "
        f"{yuan(parts['order_value'], signed=True)}"
    )
    heading = "Why it moved" if store else "Which stores and channel types moved it"
    out.print(f"[bold]{heading}[/bold]")
    for number, cause in enumerate(row["causes"], start=1):
        over = f" over its {cause['dimension'].replace('_', ' ')} values" if store else ""
        out.print(
            f"{number}. {cause['text']} (explains {cause['explanatory_power']:.0%} of the "
            f"part{over}; surprise {cause['surprise']:.3f})"
        )
    if not row["causes"]:
        out.print(T("diagnosis.causes.none"))
    for quality in row["data_quality"]:
        out.print(f"data quality: {quality['text']}")
