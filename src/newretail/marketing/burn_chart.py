"""A budget burn-down as a small server-side SVG (no JavaScript, nothing from a CDN): what is
left of one limit at the end of each local day, the limit as a dashed line, today marked.
Its text is escaped here; the caller gives the words in the reader's language."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape

from markupsafe import Markup
from sqlalchemy.orm import Session

from newretail.core.i18n import Translate
from newretail.core.money import yuan
from newretail.marketing.burndown import BurnDown, stage_burn_downs
from newretail.marketing.models import Campaign

WIDTH, HEIGHT = 340, 170
LEFT, RIGHT, TOP, BOTTOM = 66, 14, 22, 34
LINE, LIMIT, TODAY = "#1b4965", "#adb5bd", "#e76f51"


@dataclass(frozen=True)
class Words:
    """What the chart says, in the reader's language."""

    title: str  # "Coupons left to issue"
    limit: str  # "limit"
    today: str  # "today: {value} left"
    end: str  # "at the end: {value} left"


def count(value: Decimal) -> str:
    return f"{int(value):,}"


def _axis(shown: Callable[[Decimal], str], value: Decimal) -> str:
    """An axis label: money in whole yuan (`¥800,000`), counts as they are."""
    return f"¥{value:,.0f}" if shown is yuan else shown(value)


def _text(x: float, y: float, value: str, anchor: str = "start", fill: str = "#495057") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" fill="{fill}" '
        f'text-anchor="{anchor}">{escape(value)}</text>'
    )


def burn_down_svg(chart: BurnDown, words: Words, shown: Callable[[Decimal], str]) -> Markup:
    """The chart: x the stage's days (its opening at the left edge, the end of its last day at
    the right), y from zero to the limit."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([chart.limit, *chart.left, Decimal(1)])
    bottom = min([Decimal(0), *chart.left])

    def x(index: int) -> float:
        return LEFT + plot_w * index / len(chart.days)

    def y(value: Decimal) -> float:
        return TOP + float(plot_h * (top - value) / (top - bottom))

    label = f"{words.title}: {shown(chart.left[-1])} / {shown(chart.limit)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="burn-down" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'data-measure="{chart.measure}" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        _text(LEFT, 13, words.title, fill="#212529"),
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#dee2e6"/>',
        f'<line x1="{LEFT}" y1="{y(bottom):.1f}" x2="{LEFT + plot_w}" y2="{y(bottom):.1f}" '
        f'stroke="#dee2e6"/>',
        _text(LEFT - 4, y(Decimal(0)) + 4, _axis(shown, Decimal(0)), "end"),
        f'<line class="burn-limit" x1="{LEFT}" y1="{y(chart.limit):.1f}" x2="{LEFT + plot_w}" '
        f'y2="{y(chart.limit):.1f}" stroke="{LIMIT}" stroke-dasharray="4 3"/>',
        _text(LEFT - 4, y(chart.limit) + 4, _axis(shown, chart.limit), "end"),
        _text(LEFT + plot_w, y(chart.limit) - 4, words.limit, "end"),
    ]
    first, last = chart.days[0], chart.days[-1]
    parts.append(_text(LEFT, HEIGHT - 18, first.isoformat()))
    if last != first:
        parts.append(_text(LEFT + plot_w, HEIGHT - 18, last.isoformat(), "end"))
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(chart.left))
    values = ",".join(str(v) for v in chart.left)
    parts.append(
        f'<polyline class="burn-left" points="{points}" fill="none" stroke="{LINE}" '
        f'stroke-width="2" data-left="{values}"/>'
    )
    for index, value in enumerate(chart.left[1:], start=1):
        day = chart.days[index - 1].isoformat()
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="2" fill="{LINE}">'
            f"<title>{escape(day)}: {escape(shown(value))}</title></circle>"
        )
    now_x, now_value = x(len(chart.left) - 1), chart.left[-1]
    if chart.today is not None:
        parts += [
            f'<line class="burn-today" x1="{now_x:.1f}" y1="{TOP}" x2="{now_x:.1f}" '
            f'y2="{TOP + plot_h}" stroke="{TODAY}" stroke-dasharray="2 2"/>',
            f'<circle cx="{now_x:.1f}" cy="{y(now_value):.1f}" r="4" fill="{TODAY}"/>',
        ]
    note = words.today if chart.today is not None else words.end
    if chart.today is not None or len(chart.left) == len(chart.days) + 1:
        anchor = "end" if now_x > LEFT + plot_w / 2 else "start"
        parts.append(_text(now_x, HEIGHT - 4, note.format(value=shown(now_value)), anchor, TODAY))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (built from escaped parts)


def stage_charts(
    session: Session, campaign: Campaign, zone_name: str, now: datetime, t: Translate
) -> dict[uuid.UUID, list[Markup]]:
    """The burn-down charts of each stage with a limited budget, by stage id."""
    charts = {}
    for stage in campaign.stages:
        drawn = [
            burn_down_svg(
                chart,
                Words(
                    title=t(f"marketing.burn.left.{chart.measure}"),
                    limit=t("marketing.burn.limit"),
                    today=t("marketing.burn.today"),
                    end=t("marketing.burn.end"),
                ),
                yuan if chart.measure == "discounted" else count,
            )
            for chart in stage_burn_downs(session, stage, zone_name, now)
        ]
        if drawn:
            charts[stage.id] = drawn
    return charts
