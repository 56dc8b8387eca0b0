"""Charts drawn on the server as inline SVG (console and storefront): nothing fetched at run time, readable
without JavaScript.

Labels are escaped here (the result is marked safe for the templates)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 640, 200, 28


def _frame(title: str, left: int = PAD) -> list[str]:
    """The opening of every chart: the accessible title and the x axis starting at ``left``."""
    return [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
            f"<title>{escape(title)}</title>",
            f'<line x1="{left}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>']


def bar_chart(values: Sequence[int], labels: Sequence[str], title: str) -> Markup:
    """One bar per value (e.g. orders in each hour of the day), a label under every third bar."""
    top = max([*values, 1])
    step = (WIDTH - 2 * PAD) / max(1, len(values))
    parts = [*_frame(title), f'<text x="{PAD}" y="14" class="tick">{top}</text>']
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = (HEIGHT - 2 * PAD) * value / top
        x = PAD + i * step
        parts.append(f'<rect x="{x + 2:.1f}" y="{HEIGHT - PAD - height:.1f}" width="{max(1.0, step - 4):.1f}" '
                     f'height="{height:.1f}" class="bar"><title>{escape(label)}: {value}</title></rect>')
        if i % 3 == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 8}" class="tick" text-anchor="middle">'
                         f"{escape(label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(points: Sequence[tuple[float, int]], top: int, title: str, x_label: str) -> Markup:
    """A rising line of (x, y) points from 0 to ``top`` (e.g. units sold since a sale started)."""
    span = max([p[0] for p in points] + [1.0])
    top = max(top, 1)

    def xy(x: float, y: int) -> str:
        return f"{PAD + (WIDTH - 2 * PAD) * x / span:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * y / top:.1f}"

    line = " ".join(xy(x, y) for x, y in points)
    return Markup(
        "".join(_frame(title)) +
        f'<line x1="{PAD}" y1="{PAD}" x2="{WIDTH - PAD}" y2="{PAD}" class="goal"/>'
        f'<text x="{PAD}" y="{PAD - 6}" class="tick">{top}</text>'
        f'<polyline points="{line}" class="line"/>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">{escape(x_label)}</text>'
        "</svg>")


def trend_chart(points: Sequence[tuple[str, Decimal]], title: str, unit: str = "") -> Markup:
    """A line through (label, value) points, oldest first (e.g. the fund's seven-day yield of each day),
    scaled between the lowest and the highest value (written in a gutter on the left); the first and last
    labels under the axis, each point with its label and value as a tooltip."""
    left, floor = 72, HEIGHT - PAD - 10  # the gutter for the values; the lowest point sits above the axis
    values = [value for _label, value in points]
    low, high = (min(values), max(values)) if values else (Decimal(0), Decimal(1))
    if high == low:  # a flat line sits in the middle
        low, high = low - 1, high + 1
    step = (WIDTH - PAD - left) / max(1, len(points) - 1)

    def xy(i: int, value: Decimal) -> tuple[float, float]:
        share = float((value - low) / (high - low))
        return left + i * step if len(points) > 1 else (left + WIDTH - PAD) / 2, floor - (floor - PAD) * share

    parts = [*_frame(title, left),
             f'<line x1="{left}" y1="{PAD}" x2="{WIDTH - PAD}" y2="{PAD}" class="goal"/>',
             *(f'<text x="{left - 8}" y="{y + 4}" class="tick" text-anchor="end">{escape(f"{value}{unit}")}</text>'
               for y, value in ((PAD, high), (floor, low)))]
    if points:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
        parts.append(f'<polyline points="{line}" class="line"/>')
        for i, (label, value) in enumerate(points):
            x, y = xy(i, value)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot">'
                         f"<title>{escape(label)}: {escape(str(value))}{escape(unit)}</title></circle>")
        parts.append(f'<text x="{left}" y="{HEIGHT - 8}" class="tick">{escape(points[0][0])}</text>')
        if len(points) > 1:
            parts.append(f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">'
                         f"{escape(points[-1][0])}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
