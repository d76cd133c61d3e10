"""The geometry of the store page's inline SVG charts (no script, no assets): the waterfall of a
GMV change (base GMV → visitors → conversion → order value → GMV) and the bars of daily GMV.
Pure functions of figures; the template draws what they place."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH = 720
HEIGHT = 240
TOP = 26  # room for the values above the bars
BOTTOM = 30  # room for the labels under them
LEFT = 8


@dataclass(frozen=True)
class Bar:
    """One bar: where it is drawn, what kind it is (`total`, `up`, `down`), its label's key and
    its value; `level` is where the next bar of a waterfall starts (its connector's height)."""

    x: float
    y: float
    width: float
    height: float
    kind: str
    label: str
    value: Decimal
    connector_y: float | None = None

    @property
    def middle(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class Chart:
    """Bars on a `width` × `height` canvas with the zero line at `zero_y`."""

    width: int
    height: int
    zero_y: float
    bars: list[Bar]
    bottom: float  # where the labels go

    @property
    def label_y(self) -> float:
        return self.bottom + 18


def _scale(levels: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    low, high = min(Decimal(0), *levels), max(Decimal(0), *levels)
    return (low, high) if high > low else (low, low + 1)


def _y(value: Decimal, low: Decimal, high: Decimal) -> float:
    return TOP + float((high - value) / (high - low)) * (HEIGHT - TOP - BOTTOM)


def waterfall(base: Decimal, parts: Sequence[tuple[str, Decimal]], comparison: Decimal) -> Chart:
    """Base GMV from zero, each part floating from where the previous ended, GMV from zero:
    the parts close the gap exactly when they add up to the change."""
    steps: list[tuple[str, Decimal, Decimal, str]] = [("base", Decimal(0), base, "total")]
    level = base
    for label, part in parts:
        steps.append((label, level, level + part, "up" if part >= 0 else "down"))
        level += part
    steps.append(("comparison", Decimal(0), comparison, "total"))
    low, high = _scale([value for _, start, end, _ in steps for value in (start, end)])
    slot = (WIDTH - 2 * LEFT) / len(steps)
    bars = []
    for index, (label, start, end, kind) in enumerate(steps):
        top, bottom = _y(max(start, end), low, high), _y(min(start, end), low, high)
        is_last = index == len(steps) - 1
        bars.append(
            Bar(
                x=LEFT + index * slot + slot * 0.15,
                y=top,
                width=slot * 0.7,
                height=max(bottom - top, 1.0),
                kind=kind,
                label=label,
                value=end - start if kind != "total" else end,
                connector_y=None if is_last else _y(end, low, high),
            )
        )
    return Chart(WIDTH, HEIGHT, _y(Decimal(0), low, high), bars, HEIGHT - BOTTOM)


@dataclass(frozen=True)
class DayBar:
    """A day's bar of the trend, and whether its date is written under it."""

    bar: Bar
    day: date
    labelled: bool


def daily_bars(days: Sequence[tuple[date, Decimal]]) -> tuple[Chart, list[DayBar]]:
    """One bar per day from zero to its GMV; about ten days are labelled."""
    low, high = _scale([gmv for _, gmv in days] or [Decimal(0)])
    slot = (WIDTH - 2 * LEFT) / max(len(days), 1)
    every = max(1, math.ceil(len(days) / 10))
    shown: list[DayBar] = []
    for index, (day, gmv) in enumerate(days):
        top, bottom = _y(max(gmv, Decimal(0)), low, high), _y(min(gmv, Decimal(0)), low, high)
        bar = Bar(
            x=LEFT + index * slot + slot * 0.1,
            y=top,
            width=slot * 0.8,
            height=max(bottom - top, 0.5),
            kind="total" if gmv >= 0 else "down",
            label=day.isoformat(),
            value=gmv,
        )
        shown.append(DayBar(bar, day, index % every == 0 or index == len(days) - 1))
    chart = Chart(WIDTH, HEIGHT, _y(Decimal(0), low, high), [d.bar for d in shown], HEIGHT - BOTTOM)
    return chart, shown
