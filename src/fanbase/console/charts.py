"""Charts drawn on the server as inline SVG: nothing fetched at run time, readable without JavaScript.

Labels are escaped here (the result is marked safe for the templates)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 640, 200, 28


def bar_chart(values: Sequence[int], labels: Sequence[str], title: str) -> Markup:
    """One bar per value (e.g. orders in each hour of the day), a label under every third bar."""
    top = max([*values, 1])
    step = (WIDTH - 2 * PAD) / max(1, len(values))
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
             f'<text x="{PAD}" y="14" class="tick">{top}</text>']
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
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{WIDTH - PAD}" y2="{PAD}" class="goal"/>'
        f'<text x="{PAD}" y="{PAD - 6}" class="tick">{top}</text>'
        f'<polyline points="{line}" class="line"/>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" class="tick" text-anchor="end">{escape(x_label)}</text>'
        "</svg>")
