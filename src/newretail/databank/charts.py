"""Server-side SVG charts for the console: stage funnel, flow Sankey and trend lines.

No JavaScript and nothing from a CDN: each chart is a self-contained <svg> string whose
text is escaped here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

COLOURS = {"A": "#8ecae6", "I": "#219ebc", "P": "#fb8500", "L": "#d62828", "none": "#adb5bd"}
SERIES = ["#1b4965", "#e76f51", "#2a9d8f", "#6a4c93"]


def _text(x: float, y: float, value: str, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(value)}</text>"
    )


def funnel(
    counts: Mapping[str, int | None],
    labels: Mapping[str, str],
    below_floor: str = "",
    width: int = 520,
) -> Markup:
    """Horizontal bars, widest stage first, each labelled with its count; a count hidden by
    the crowd floor (None) has no bar and reads `below_floor` ("< 50")."""
    stages = ["A", "I", "P", "L"]
    top = max([counts.get(s) or 0 for s in stages] + [1])
    row, height = 34, 34 * len(stages) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="databank-funnel" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for index, stage in enumerate(stages):
        found = counts.get(stage, 0)
        value = below_floor if found is None else found
        bar = (width - 260) * (found or 0) / top
        x = 130 + (width - 260 - bar) / 2
        y = 5 + index * row
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{bar:.1f}" height="{row - 6}" '
            f'fill="{COLOURS[stage]}" data-stage="{stage}"><title>{escape(labels[stage])}: '
            f"{value}</title></rect>"
        )
        parts.append(_text(5, y + 19, labels[stage]))
        parts.append(_text(width - 5, y + 19, str(value), anchor="end"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (built from escaped parts)


def sankey(
    flow: Mapping[str, object], labels: Mapping[str, str], width: int = 620, height: int = 320
) -> Markup:
    """Start stages (plus "new") on the left, end stages (plus "churned") on the right."""
    stages = ["A", "I", "P", "L"]
    links: list[tuple[str, str, int]] = []
    cells = flow.get("stages", [])
    assert isinstance(cells, list)
    for cell in cells:
        source = str(cell["stage"])
        if cell["stayed"]:
            links.append((source, source, int(cell["stayed"])))
        for target, members in dict(cell["moved"]).items():
            if members:
                links.append((source, str(target), int(members)))
        if cell["churned"]:
            links.append((source, "none", int(cell["churned"])))
    new = flow.get("new", {})
    assert isinstance(new, dict)
    for target, members in new.items():
        if members:
            links.append(("none", str(target), int(members)))
    left = [*stages, "none"]
    right = [*stages, "none"]
    out_total = {n: sum(v for s, _, v in links if s == n) for n in left}
    in_total = {n: sum(v for _, t, v in links if t == n) for n in right}
    total = max(sum(out_total.values()), sum(in_total.values()), 1)
    gap, node_w, margin = 8, 14, 90
    usable = height - gap * (len(left) + 1)
    scale = usable / total

    def layout(totals: Mapping[str, int]) -> dict[str, float]:
        y, positions = float(gap), {}
        for name in left:
            positions[name] = y
            y += totals[name] * scale + gap
        return positions

    ly, ry = layout(out_total), layout(in_total)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="databank-sankey" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    x0, x1 = margin, width - margin - node_w
    cursor_left, cursor_right = dict(ly), dict(ry)
    for source, target, members in links:
        thickness = members * scale
        y0 = cursor_left[source] + thickness / 2
        y1 = cursor_right[target] + thickness / 2
        cursor_left[source] += thickness
        cursor_right[target] += thickness
        mid = (x0 + node_w + x1) / 2
        name = f"{labels[source]} → {labels[target]}: {members}"
        parts.append(
            f'<path d="M{x0 + node_w:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} '
            f'{x1:.1f},{y1:.1f}" stroke="{COLOURS[source]}" stroke-opacity="0.45" '
            f'stroke-width="{max(thickness, 1):.1f}" fill="none" class="flow-link">'
            f"<title>{escape(name)}</title></path>"
        )
    # the nodes: the start date's stages on the left (labels before), the end date's on the right
    for names, x, ys, totals, label_x, anchor in (
        (left, x0, ly, out_total, x0 - 4, "end"),
        (right, x1, ry, in_total, x1 + node_w + 4, "start"),
    ):
        for name in names:
            h = totals[name] * scale
            if h:
                parts.append(
                    f'<rect x="{x}" y="{ys[name]:.1f}" width="{node_w}" height="{h:.1f}" '
                    f'fill="{COLOURS[name]}"/>'
                )
                parts.append(_text(label_x, ys[name] + h / 2 + 4, labels[name], anchor, 11))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (built from escaped parts)


def lines(
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    width: int = 620,
    height: int = 220,
) -> Markup:
    """One polyline per series over shared x labels; gaps where a value is missing."""
    left, right, top, bottom = 50, 110, 10, 30
    values = [v for vs in series.values() for v in vs if v is not None]
    high = max([*values, 0.0]) or 1.0
    count = max(len(x_labels) - 1, 1)

    def point(i: int, v: float) -> tuple[float, float]:
        x = left + (width - left - right) * i / count
        y = top + (height - top - bottom) * (1 - v / high)
        return x, y

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="databank-lines" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
        'stroke="#999"/>',
        _text(left - 4, top + 10, f"{high:g}", "end", 10),
        _text(left - 4, height - bottom, "0", "end", 10),
    ]
    if x_labels:
        parts.append(_text(left, height - 10, x_labels[0], "start", 10))
        parts.append(_text(width - right, height - 10, x_labels[-1], "end", 10))
    for index, (name, vs) in enumerate(series.items()):
        colour = COLOURS.get(name, SERIES[index % len(SERIES)])
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(vs):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = point(i, float(v))
            segment.append(f"{x:.1f},{y:.1f}")
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="2" data-series="{escape(name)}"/>'
            )
        parts.append(
            f'<rect x="{width - right + 10}" y="{top + index * 16}" width="10" height="10" '
            f'fill="{colour}"/>'
        )
        parts.append(_text(width - right + 24, top + index * 16 + 9, name, "start", 11))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (built from escaped parts)
