"""Charts of the profile as inline SVG: printed as vectors, nothing to load, right to left in Arabic.

Each chart draws published numbers as given; a number written on a chart is one of them, never a sum.
"""

from __future__ import annotations

from html import escape

BLUE = "#0033a0"  # IOM blue
LIGHT = "#5b92e5"
GREY = "#8a8a8a"
FLOW_COLOURS = ("#0033a0", "#5b92e5", "#00a3e0", "#7b6fd0", "#2a9d8f", "#e07a1f", "#c0392b", "#6c757d")


def _number(value) -> str:
    return f"{int(value):,}"


def bars(items: list[tuple[str, int]], *, width: int = 330, rtl: bool = False, row: int = 20) -> str:
    """Horizontal bars, one per ``(label, value)``, longest first as given, with the value written."""
    if not items:
        return ""
    label_w = int(width * 0.38)
    value_w = 62
    bar_w = width - label_w - value_w - 8
    top = max((v for _, v in items), default=0) or 1
    height = row * len(items) + 4
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img">'
    ]
    for i, (label, value) in enumerate(items):
        y = i * row + 2
        length = max(bar_w * value / top, 1 if value else 0)
        if rtl:
            label_x, anchor = width, "end"
            bar_x = width - label_w - length
            value_x, value_anchor = bar_x - 4, "end"
        else:
            label_x, anchor = 0, "start"
            bar_x = label_w
            value_x, value_anchor = bar_x + length + 4, "start"
        parts.append(
            f'<text x="{label_x}" y="{y + row * 0.68:.1f}" text-anchor="{anchor}" class="label">'
            f"{escape(_clip(label, 30))}</text>"
            f'<rect x="{bar_x:.1f}" y="{y + 3}" width="{length:.1f}" height="{row - 7}" fill="{BLUE}"/>'
            f'<text x="{value_x:.1f}" y="{y + row * 0.68:.1f}" text-anchor="{value_anchor}" class="value">'
            f"{_number(value)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: list[int], *, width: int = 150, height: int = 34, rtl: bool = False) -> str:
    """A small line of a stream's monthly published numbers (time runs right to left in Arabic)."""
    if len(values) < 2:
        return ""
    top = max(values) or 1
    step = (width - 4) / (len(values) - 1)
    points = []
    for i, value in enumerate(values):
        x = 2 + i * step
        x = width - x if rtl else x
        points.append(f"{x:.1f},{height - 3 - (height - 6) * value / top:.1f}")
    return (
        f'<svg class="spark" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{LIGHT}" stroke-width="2"/></svg>'
    )


def sankey(
    flows: list[tuple[str, str, int]], *, width: int = 660, height: int = 330, rtl: bool = False
) -> str:
    """Origins on one side, destinations on the other, a band per flow as wide as its number of people.

    Node heights are only the stacking of the bands drawn (no total is written): the numbers are in the
    flow table beside the chart.
    """
    if not flows:
        return ""
    label_w = 120
    gap = 6
    origins = list(dict.fromkeys(o for o, _, _ in flows))
    destinations = list(dict.fromkeys(d for _, d, _ in flows))
    out_size = {o: sum(v for oo, _, v in flows if oo == o) for o in origins}
    in_size = {d: sum(v for _, dd, v in flows if dd == d) for d in destinations}
    scale = (height - gap * (max(len(origins), len(destinations)) - 1)) / max(
        sum(out_size.values()), sum(in_size.values()), 1
    )
    left_x, right_x = label_w, width - label_w
    node_w = 10

    def stack(names, sizes):
        y, tops = 0.0, {}
        for name in names:
            tops[name] = y
            y += sizes[name] * scale + gap
        return tops

    out_top, in_top = stack(origins, out_size), stack(destinations, in_size)
    out_used = dict.fromkeys(origins, 0.0)
    in_used = dict.fromkeys(destinations, 0.0)
    a_x, b_x = (right_x, left_x) if rtl else (left_x, right_x)  # where origins and destinations stand
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img">'
    ]
    colour = {o: FLOW_COLOURS[i % len(FLOW_COLOURS)] for i, o in enumerate(origins)}
    for origin, destination, value in flows:
        band = value * scale
        y0 = out_top[origin] + out_used[origin]
        y1 = in_top[destination] + in_used[destination]
        out_used[origin] += band
        in_used[destination] += band
        x0 = a_x + (node_w if not rtl else 0)
        x1 = b_x + (0 if not rtl else node_w)
        mid = (x0 + x1) / 2
        parts.append(
            f'<path d="M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f} '
            f"L{x1:.1f},{y1 + band:.1f} C{mid:.1f},{y1 + band:.1f} {mid:.1f},{y0 + band:.1f} "
            f'{x0:.1f},{y0 + band:.1f} Z" fill="{colour[origin]}" fill-opacity="0.45"/>'
        )
    for names, tops, sizes, x, outer in (
        (origins, out_top, out_size, a_x, True),
        (destinations, in_top, in_size, b_x, False),
    ):
        for name in names:
            h = max(sizes[name] * scale, 1)
            parts.append(
                f'<rect x="{x:.1f}" y="{tops[name]:.1f}" width="{node_w}" height="{h:.1f}" '
                f'fill="{colour.get(name, GREY) if outer else GREY}"/>'
            )
            if h < 7:  # too thin to label legibly: the flow table beside the chart names it
                continue
            on_left = x == left_x
            tx, anchor = (x - 4, "end") if on_left else (x + node_w + 4, "start")
            parts.append(
                f'<text x="{tx:.1f}" y="{tops[name] + h / 2 + 4:.1f}" text-anchor="{anchor}" '
                f'class="label">{escape(_clip(name, 18))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
