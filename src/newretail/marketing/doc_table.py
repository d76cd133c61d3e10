"""The tables of docs/marketing.md, generated from the worked examples the tests check.

    python -m newretail.marketing.doc_table                 # print the tables
    python -m newretail.marketing.doc_table --write docs/marketing.md

`--write` replaces what lies between the markers `<!-- pricing-tables:start -->` and
`<!-- pricing-tables:end -->`; tests/marketing/test_doc_table.py fails when the file differs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from newretail.marketing.basket import PricedBasket
from newretail.marketing.engine import price_basket
from newretail.marketing.kind_examples import kind_cases
from newretail.marketing.offers import (
    HUNDRED,
    AmountOff,
    Benefit,
    BuyXGetY,
    FreeGift,
    OfferTemplate,
    PercentOff,
    Threshold,
)
from newretail.marketing.worked_examples import PricingCase, pair_cases

START = "<!-- pricing-tables:start -->"
END = "<!-- pricing-tables:end -->"


def describe_benefit(benefit: Benefit) -> str:
    """A benefit in a few words."""
    if isinstance(benefit, AmountOff):
        return f"{benefit.amount} off" + (" each unit" if benefit.per_unit else "")
    if isinstance(benefit, PercentOff):
        cap = f" (cap {benefit.cap})" if benefit.cap is not None else ""
        return f"{benefit.percent}% off{cap}"
    if isinstance(benefit, Threshold):
        repeats = ""
        if benefit.repeat:
            repeats = " per multiple" + (
                f", at most {benefit.max_repeats}x" if benefit.max_repeats else ""
            )
        return f"spend {benefit.spend} save {benefit.save}{repeats}"
    if isinstance(benefit, BuyXGetY):
        most = f", at most {benefit.max_free_quantity}" if benefit.max_free_quantity else ""
        reward = "free" if benefit.percent_off == HUNDRED else f"{benefit.percent_off}% off"
        return f"buy {benefit.buy} get {benefit.get} {reward}{most}"
    assert isinstance(benefit, FreeGift)
    return f"gift x{benefit.quantity}"


def describe_offer(offer: OfferTemplate) -> str:
    """`CODE` (class: benefit, on categories, minimum spend)."""
    words = [describe_benefit(offer.benefit)]
    if offer.scope.include.category_paths:
        words.append("on " + " or ".join(sorted(offer.scope.include.category_paths)))
    if offer.minimum_spend:
        words.append(f"minimum spend {offer.minimum_spend}")
    return f"`{offer.code}` ({offer.combination_class}: {', '.join(words)})"


def priced(case: PricingCase) -> PricedBasket:
    """The case priced by the engine."""
    return price_basket(case.basket, case.offers, case.at, case.context)


def outcome_cells(result: PricedBasket) -> list[str]:
    """Applied offers with their discounts, refused offers with their reasons, the discount
    of each line, the whole discount (lines and shipping) and the total."""
    applied = ", ".join(f"`{a.code}` −{a.discount}" for a in result.applied) or "—"
    refused = ", ".join(f"`{r.code}`: {r.reason}" for r in result.refused) or "—"
    per_line = " / ".join(str(line.discount) for line in result.lines)
    return [applied, refused, per_line, str(result.discount), str(result.total)]


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    """A Markdown table."""
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def render_tables() -> str:
    """Both tables: one case per kind of offer and refusal, then every pair of classes."""
    kinds = table(
        ["Example", "Offers", "Applied", "Refused", "Per line", "Discount", "Total"],
        [
            [
                case.name,
                ", ".join(describe_offer(o) for o in case.offers),
                *outcome_cells(priced(case)),
            ]
            for case in kind_cases()
        ],
    )
    pair_rows = []
    for first, second, both, apart in pair_cases():
        for case, combines in (
            (both, "each names the other"),
            (apart, "only the first names the second"),
        ):
            offers = ", ".join(describe_offer(o) for o in case.offers)
            pair_rows.append(
                [f"{first} + {second}", combines, offers, *outcome_cells(priced(case))]
            )
    pairs = table(
        [
            "Classes",
            "Combines with",
            "Offers",
            "Applied",
            "Refused",
            "Per line",
            "Discount",
            "Total",
        ],
        pair_rows,
    )
    return "\n".join(
        [
            "### Each kind of offer",
            "",
            *kinds,
            "",
            "### Every pair of combination classes",
            "",
            *pairs,
        ]
    )


def replace_tables(document: str) -> str:
    """The document with its generated part replaced by the current tables."""
    before, found, rest = document.partition(START)
    if not found or END not in rest:
        raise ValueError(f"the document has no {START} ... {END} section")
    after = rest.partition(END)[2]
    return f"{before}{START}\n{render_tables()}\n{END}{after}"


def main(argv: list[str] | None = None) -> None:
    """Print the tables, or write them into a document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", type=Path, help="the document to update in place")
    arguments = parser.parse_args(argv)
    if arguments.write is None:
        print(render_tables())
        return
    path: Path = arguments.write
    path.write_text(replace_tables(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
