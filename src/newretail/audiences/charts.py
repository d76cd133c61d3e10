"""Server-side SVG charts of audiences: sizes over time and insight bars (no JavaScript).

Only counts already passed through the privacy floor reach these functions; hidden sizes
are gaps in the line and hidden cells one grey bar without a number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from newretail.core import localtime
from newretail.databank import charts as databank_charts

BAR = "#219ebc"
HIDDEN = "#adb5bd"


def sizes(history: Sequence[Mapping[str, Any]], label: str, zone: str | None) -> Markup:
    """The size at each refresh as a line (hidden sizes are gaps), at local times."""
    x_labels = [localtime.format_local_time(h["refreshed_at"], zone) for h in history]
    return databank_charts.lines(x_labels, {label: [h["size"] for h in history]}, height=180)


def bars(
    dimension: Mapping[str, Any],
    label: Callable[[str | None], str],
    hidden_label: str,
    width: int = 420,
) -> Markup:
    """Horizontal bars for one insight dimension (values named by `label`); the suppressed
    cells as one grey bar."""
    cells: list[tuple[str, int | None, str]] = [
        (label(c["value"]), c["members"], BAR) for c in dimension["cells"]
    ]
    hidden = dimension["suppressed"]
    if hidden["cells"]:
        cells.append((hidden_label.format(cells=hidden["cells"]), hidden["members"], HIDDEN))
    top = max([c[1] or 0 for c in cells] + [1])
    row = 22
    height = row * len(cells) + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="audience-bars" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for index, (name, count, colour) in enumerate(cells):
        y = 3 + index * row
        length = (width - 200) * (count or 0) / top
        parts.append(
            f'<text x="4" y="{y + 14}" font-size="12">{escape(name[:24])}</text>'
            f'<rect x="140" y="{y}" width="{length:.1f}" height="{row - 6}" fill="{colour}"/>'
            f'<text x="{144 + length:.1f}" y="{y + 14}" font-size="11">'
            f"{'' if count is None else count}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (built from escaped parts)
