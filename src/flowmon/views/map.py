"""The map: state choropleth (official boundaries or schematic tiles), office markers, flow lines.

Every function is pure: frames in, HoloViews elements (or their columns) out. Values arrive published
(``flowmon.privacy``: cell-key perturbation, nothing hidden); a state with no value at all reads "–". The
``hatch`` column stays in the states' source (always blank now) so that pages and tests keep finding the
states by their columns.

Layers, bottom to top: neighbouring countries (faint), states, flow lines and return arrows, office
markers, leader lines, labels. On official boundaries a label that does not fit its state (Khartoum, Abyei)
or would cover an office is moved out to a free place and tied to its state by a leader line
(``place_labels``).

The dashboard draws the geometry once and afterwards only rewrites the value columns of the plot's data
sources (``state_columns``, ``office_columns``) and the rows of the lines and arrows drawn over them
(``flow_columns``, ``return_columns``, ``leader_columns``): see ``flowmon.mapview``. Each layer's elements are
built from its column function (``flow_lines``, ``return_arrows``, ``leader_lines``), so a notebook's static
map, the first drawing of the live one and its updates show the same thing; an update builds no element.
"""

from __future__ import annotations

import html
import itertools
import math

import geopandas as gpd
import holoviews as hv
import numpy as np
import pandas as pd
import shapely
from bokeh.models import FixedTicker, NumeralTickFormatter

from flowmon import i18n
from flowmon.views.style import (
    BORDER_COLOR,
    CONTEXT_COLOR,
    CONTEXT_LINE_COLOR,
    OFFICE_COLOR,
    SEA_COLOR,
    SEQUENTIAL,
    STREAM_COLORS,
    SUPPRESSED_COLOR,
    ZERO_COLOR,
    format_count,
)

POLYGON_VALUE_COLUMNS = ("value", "shown", "hatch")
OFFICE_VALUE_COLUMNS = ("value", "shown", "size", "status", "fill")
HOVER_STATE = [("State", "@name_en"), ("الولاية", "@name_ar"), ("Pcode", "@pcode"), ("Count", "@shown")]
HATCH = "/"
# A layer's columns as its drawn Bokeh source holds them: name -> values, in the element's dimension order.
Columns = dict[str, np.ndarray]
# Arrowheads' ``angle`` style: HoloViews takes a mapped angle in degrees and hands Bokeh radians; the heads'
# angles are radians already (as the live map writes them on a change and the HTML export draws them).
HEAD_ANGLE = np.rad2deg(hv.dim("angle"))


def count_format() -> NumeralTickFormatter:
    """A fresh tick formatter: Bokeh models belong to one document, so each plot gets its own."""
    return NumeralTickFormatter(format="0,0")


SUDAN_CENTRE = (30.2, 15.6)


def _parts(geometry) -> list:
    return list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]


def polygon_records(shapes: gpd.GeoDataFrame, attributes: list[str]) -> list[dict]:
    """GeoDataFrame rows as HoloViews polygon dicts (x, y, holes), NaN between the parts of a state."""
    records = []
    for row in shapes.itertuples(index=False):
        xs, ys, holes = [], [], []
        for i, part in enumerate(_parts(row.geometry)):
            x, y = part.exterior.coords.xy
            if i:
                xs.append([np.nan])
                ys.append([np.nan])
            xs.append(np.asarray(x))
            ys.append(np.asarray(y))
            holes.append([np.asarray(ring.coords) for ring in part.interiors])
        record = {"x": np.concatenate(xs), "y": np.concatenate(ys), "holes": holes}
        record.update({name: getattr(row, name) for name in attributes})
        records.append(record)
    return records


def polygon_columns(shapes: gpd.GeoDataFrame) -> dict[str, list]:
    """``xs``, ``ys`` of every shape as Bokeh's ``multi_polygons`` draws them: per shape its polygons, per
    polygon its exterior ring then its holes (arrays: sent to the browser as binary, not as JSON numbers)."""
    xs, ys = [], []
    for geometry in shapes.geometry:
        parts = _parts(geometry)
        rings = [[np.asarray(ring.coords) for ring in (part.exterior, *part.interiors)] for part in parts]
        xs.append([[ring[:, 0] for ring in polygon] for polygon in rings])
        ys.append([[ring[:, 1] for ring in polygon] for polygon in rings])
    return {"xs": xs, "ys": ys}


def label_points(shapes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where each state's label goes: the tile centre, or a point inside the state's largest part."""
    if {"x", "y"} <= set(shapes.columns):
        return shapes[["pcode", "x", "y"]].reset_index(drop=True)
    points = shapes.geometry.map(lambda g: max(_parts(g), key=lambda p: p.area).representative_point())
    return pd.DataFrame(
        {"pcode": shapes["pcode"].to_numpy(), "x": points.x.to_numpy(), "y": points.y.to_numpy()}
    )


def wrap(name: str) -> str:
    """State names on two lines ("North\nKordofan") so they fit a tile."""
    words = name.split()
    return name if len(words) < 2 else f"{' '.join(words[:-1])}\n{words[-1]}"


def tile_size(shapes: gpd.GeoDataFrame) -> float:
    # shapely's area: the tiles' degrees are schematic units, not a projection to warn about.
    return float(np.sqrt(np.median(shapely.area(shapes.geometry.to_numpy()))))


def label_offset(shapes: gpd.GeoDataFrame) -> float:
    """On tiles, labels sit in the upper part of the tile and offices below them."""
    return 0.12 * tile_size(shapes) if {"x", "y"} <= set(shapes.columns) else 0.0


def state_columns(pcodes: pd.Series, values: pd.DataFrame, names: pd.Series) -> dict[str, list]:
    """The per-state columns that change with the filters, in the order of ``pcodes``.

    ``values`` has ``pcode``, ``value`` (NaN where suppressed) and ``suppressed``; ``names`` are the label
    names aligned with ``pcodes``.
    """
    indexed = values.set_index("pcode").reindex(pcodes)
    value = indexed["value"].astype("float64")
    suppressed = indexed["suppressed"].fillna(False).astype(bool)
    # A state with no row at all (its stream not selected) reads "–"; "*" is kept for hidden counts.
    shown = [
        format_count(v) if hidden or pd.notna(v) else "–" for v, hidden in zip(value, suppressed, strict=True)
    ]
    # On the log scale, the upper 40% of the colour range is dark: those states get white text.
    top = value.max(skipna=True)
    share = np.log(value.clip(lower=1)) / np.log(top) if pd.notna(top) and top > 1 else value * 0
    dark = share > 0.6
    return {
        "value": value.to_numpy(),
        "shown": shown,
        "ink": np.where(dark, "#ffffff", "#111111").tolist(),
        "hatch": np.where(suppressed, HATCH, " ").tolist(),
        "label": [f"{wrap(n)}\n{s}" for n, s in zip(names, shown, strict=True)],
    }


def hatch_hook(plot, element) -> None:
    """Hatch the states whose ``hatch`` column says so: HoloViews has no option for a hatch field."""
    glyph = plot.handles["glyph"]
    glyph.hatch_pattern = {"field": "hatch"}
    glyph.hatch_color = "#333333"
    glyph.hatch_alpha = 0.7
    glyph.hatch_scale = 10


def color_limits(values: pd.Series) -> tuple[float, float]:
    top = values.max(skipna=True)
    return (1.0, float(top) if pd.notna(top) and top > 1 else 2.0)


def color_ticks(high: float) -> list[float]:
    """Distinct round ticks for a log colour bar from 1 to ``high``: powers of ten, with 2 and 5 between
    them when the range is short (a bar of 1 to 40 reads 1, 2, 5, 10, 20)."""
    if not high > 1:
        return [1.0]
    top = math.floor(math.log10(high))
    steps = (1,) if top >= 2 else (1, 2, 5)
    ticks = [float(m * 10**k) for k in range(top + 1) for m in steps if m * 10**k <= high]
    return ticks or [1.0]


def color_ticker(high: float) -> FixedTicker:
    """A fresh ticker per plot (Bokeh models belong to one document)."""
    return FixedTicker(ticks=color_ticks(high), minor_ticks=[])


def scale_note(values, unit: str = "", language: str = "en") -> str:
    """What to say instead of a colour bar when a scale would mislead: "" when a bar is meaningful.

    Every state zero (or none counted), or a single value among the states: a bar from 1 to that value
    would only repeat it, with invented steps between.
    """
    numbers = pd.Series(values, dtype="float64").dropna()
    positive = sorted(set(numbers[numbers > 0]))
    if not len(numbers):
        return i18n.text("scale.none", language)
    if not positive:
        return i18n.text("scale.zero", language).format(unit=unit).strip()
    if len(positive) == 1:
        states = int((numbers == positive[0]).sum())
        where = (
            i18n.text("scale.everywhere", language)
            if states == len(numbers)
            else i18n.text("scale.some", language).format(states=states, total=len(numbers))
        )
        value = format_count(positive[0])
        return " ".join(i18n.text("scale.one", language).format(value=value, unit=unit, where=where).split())
    return ""


def label_box(text: str, font_px: float) -> tuple[float, float]:
    """The size of a bold, centred multi-line label in pixels (Helvetica-like widths, a little generous)."""
    lines = text.split("\n")
    return max(len(line) for line in lines) * 0.62 * font_px + 4, len(lines) * 1.25 * font_px + 2


def _box(x: float, y: float, w: float, h: float):
    return shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def place_labels(
    shapes: gpd.GeoDataFrame,
    texts: list[str],
    *,
    unit_px: float,
    font_px: float,
    obstacles: pd.DataFrame | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> pd.DataFrame:
    """Where each state's label goes on real boundaries: ``pcode``, ``x``, ``y`` (the label's centre),
    ``ax``, ``ay`` (the point in the state it names) and ``callout`` (True when it was moved out).

    ``unit_px`` is how many pixels one map unit (a degree) spans; ``obstacles`` (``x``, ``y``, ``r`` in
    pixels) are office markers no label may cover. A label stays on its state when its box lies (almost)
    inside the state and clear of obstacles and of the labels placed before it; otherwise it goes to the
    nearest free place around the state (inside ``bounds``), tied back by a leader line. Deterministic.
    """
    base = shapes.reset_index(drop=True)
    anchors = label_points(base)
    sizes = [label_box(t, font_px) for t in texts]
    blocked = []
    if obstacles is not None and len(obstacles):
        for row in obstacles.itertuples(index=False):
            blocked.append(shapely.Point(row.x, row.y).buffer((row.r + 2) / unit_px))
    blocked_union = shapely.union_all(blocked) if blocked else shapely.Polygon()
    placed: list = []
    result = {i: None for i in range(len(base))}

    def clear(box) -> bool:
        return not box.intersects(blocked_union) and not any(box.intersects(b) for b in placed)

    def inside(box) -> bool:
        if bounds is None:
            return True
        xmin, ymin, xmax, ymax = bounds
        bx0, by0, bx1, by1 = box.bounds
        return bx0 >= xmin and bx1 <= xmax and by0 >= ymin and by1 <= ymax

    # Largest states first: they have the most room and keep their labels; small ones then find space.
    order = np.argsort(-shapely.area(base.geometry.to_numpy()), kind="stable")
    callouts = []
    for i in order:
        w, h = (v / unit_px for v in sizes[i])
        geometry = base.geometry.iloc[i]
        ax, ay = anchors.loc[i, "x"], anchors.loc[i, "y"]
        # Inside the state: the anchor, then a few nudges (clear of an office in the state's middle).
        nudges = [(0, 0)] + [(dx * w / 2, dy * h) for dy in (0, 0.6, -0.6, 1.1, -1.1) for dx in (0, -1, 1)]
        for dx, dy in nudges:
            box = _box(ax + dx, ay + dy, w, h)
            # On its state: the box almost all inside, and its centre (where a click selects the state).
            centre = shapely.Point(ax + dx, ay + dy)
            fits = box.difference(geometry).area <= 0.15 * box.area and geometry.contains(centre)
            if fits and clear(box) and inside(box):
                result[i] = (ax + dx, ay + dy, False)
                placed.append(box)
                break
        else:
            callouts.append(i)
    everything = shapely.union_all(base.geometry.to_numpy())
    for i in callouts:
        w, h = (v / unit_px for v in sizes[i])
        ax, ay = anchors.loc[i, "x"], anchors.loc[i, "y"]
        best = None
        for radius in np.arange(1.0, 8.0, 0.5):
            for angle in np.linspace(0, 2 * math.pi, 24, endpoint=False):
                # Rings of candidates at growing distance: the first free one, preferring few states covered.
                x = ax + math.cos(angle) * (radius * h + w / 2 * abs(math.cos(angle)))
                y = ay + math.sin(angle) * radius * h
                box = _box(x, y, w, h)
                if not (clear(box) and inside(box)):
                    continue
                cost = radius + 2 * box.intersection(everything).area / box.area
                if best is None or cost < best[0]:
                    best = (cost, x, y, box)
            if best is not None and best[0] <= radius + 0.5:
                break
        if best is None:  # nowhere free: stay on the state rather than vanish
            result[i] = (ax, ay, False)
            continue
        _, x, y, box = best
        result[i] = (x, y, True)
        placed.append(box)
    rows = [(base["pcode"].iloc[i], *result[i][:2], anchors.loc[i, "x"], anchors.loc[i, "y"], result[i][2],
             sizes[i][0] / unit_px, sizes[i][1] / unit_px) for i in range(len(base))]  # fmt: skip
    return pd.DataFrame(rows, columns=["pcode", "x", "y", "ax", "ay", "callout", "w", "h"])


def with_chips(shapes: gpd.GeoDataFrame, placed: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The states with each called-out label's box added to its state: the callout is a chip in the state's
    colour (a click or hover there is the state's), tied to it by a leader line."""
    if placed is None or not placed["callout"].any():
        return shapes
    chips = placed.set_index("pcode")
    geometry = [
        shapely.union(g, _box(*chips.loc[p, ["x", "y", "w", "h"]])) if chips.loc[p, "callout"] else g
        for p, g in zip(shapes["pcode"], shapes.geometry, strict=True)
    ]
    return shapes.set_geometry(geometry)


def source_columns(table: pd.DataFrame) -> Columns:
    """A layer's rows as the columns of its drawn source: what HoloViews' ``dframe`` of an element built on
    ``table`` gives back, without building the element."""
    return {str(c): table[c].to_numpy() for c in table.columns}


def leader_columns(placed: pd.DataFrame | None) -> Columns:
    """The leader lines' columns (``x0, y0, x1, y1``): from each moved label back to its state (none where
    no label was placed: tiles)."""
    if placed is None:
        placed = pd.DataFrame({"ax": [], "ay": [], "x": [], "y": [], "callout": []}, dtype=float)
    moved = placed[placed["callout"].astype(bool)]
    table = pd.DataFrame({"x0": moved["ax"], "y0": moved["ay"], "x1": moved["x"], "y1": moved["y"]},
                         columns=["x0", "y0", "x1", "y1"])  # fmt: skip
    return source_columns(table)


def leader_lines(placed: pd.DataFrame) -> hv.Segments:
    """Thin lines from a moved label back to its state (the same columns when there is none)."""
    return hv.Segments(pd.DataFrame(leader_columns(placed)), ["x0", "y0", "x1", "y1"], label="leaders").opts(
        color="#333333", line_width=1, alpha=0.8
    )


def choropleth(
    shapes: gpd.GeoDataFrame,
    values: pd.DataFrame,
    *,
    title: str = "",
    unit: str = "people",
    language: str = "en",
    label_names: bool = True,
    palette: list[str] = SEQUENTIAL,
    font_size: str = "8pt",
    label_at: pd.DataFrame | None = None,
) -> hv.Overlay:
    """The states coloured by ``values`` (pcode, value, suppressed), labelled with name and count.

    ``label_at`` (``pcode``, ``x``, ``y``, from ``place_labels``) puts the labels elsewhere than the states'
    own points (callouts on real boundaries).
    """
    name_column = "name_ar" if language == "ar" else "name_en"
    base = shapes.reset_index(drop=True)
    columns = state_columns(base["pcode"], values, base[name_column])
    table = base.assign(**columns)
    # What the polygons draw and their hover shows (the labels' words and ink are the labels' own columns):
    # every dimension more costs each page's first plotting time.
    vdims = ["pcode", "name_en", "name_ar", *POLYGON_VALUE_COLUMNS]
    polygons = hv.Polygons(polygon_records(table, vdims), vdims=vdims, label="states").opts(
        color="value",
        cmap=palette,
        # Caseloads are skewed (one state can hold most of them): a log scale keeps the rest readable.
        cnorm="log",
        clim=color_limits(table["value"]),
        # Zero is "none", not "a few": drawn pale, below the scale.
        clabel=unit,
        colorbar_opts={"formatter": count_format(), "ticker": color_ticker(color_limits(table["value"])[1])},
        clipping_colors={"NaN": SUPPRESSED_COLOR, "min": ZERO_COLOR},
        colorbar=True,
        line_color=BORDER_COLOR,
        line_width=1.5,
        hooks=[hatch_hook],
        tools=["hover", "tap"],
        hover_tooltips=HOVER_STATE,
        nonselection_alpha=0.55,
        title=title,
    )
    if label_at is None:
        points = label_points(base)
        points = points.assign(y=points["y"] + label_offset(base))
    else:
        points = label_at.set_index("pcode").reindex(base["pcode"]).reset_index()[["pcode", "x", "y"]]
    points = points.assign(
        label=columns["label"] if label_names else columns["shown"],
        # A called-out label stands on a chip in its state's colour: its ink follows the value there too.
        ink=columns["ink"],
    )
    labels = hv.Labels(points, ["x", "y"], ["label", "pcode", "ink"]).opts(
        text_font_size=font_size, text_color="ink", text_font_style="bold"
    )
    return polygons * labels


def context_outlines(outlines: gpd.GeoDataFrame | None) -> hv.Polygons:
    """Neighbouring countries in light grey, for orientation only."""
    if outlines is None or outlines.empty:
        return hv.Polygons([]).opts(alpha=0)
    records = polygon_records(outlines.rename(columns={"name": "country"}), ["country"])
    return hv.Polygons(records, vdims=["country"]).opts(
        color=CONTEXT_COLOR, line_color=CONTEXT_LINE_COLOR, line_width=0.8, tools=[]
    )


def office_columns(offices: pd.DataFrame, values: pd.DataFrame, *, scale: float = 1.0) -> dict[str, list]:
    """Per-office value columns (size by caseload, hollow when the office was closed in the period).

    ``values`` has ``office``, ``value``, ``suppressed``; ``offices`` has ``code`` and ``open`` (bool).
    """
    indexed = values.set_index("office").reindex(offices["code"])
    value = indexed["value"].astype("float64")
    top = value.max(skipna=True)
    share = np.sqrt(value.fillna(0) / top) if pd.notna(top) and top > 0 else value.fillna(0) * 0
    size = (8 + 22 * share) * scale
    is_open = offices["open"].to_numpy(dtype=bool)
    return {
        "value": value.to_numpy(),
        "shown": [format_count(v) for v in value],
        "size": size.to_numpy(),
        "status": np.where(is_open, "open", "closed in this period").tolist(),
        "fill": np.where(is_open, "#222222", "#ffffff").tolist(),
    }


def office_markers(offices: pd.DataFrame, values: pd.DataFrame, *, scale: float = 1.0) -> hv.Points:
    """Offices at ``x``, ``y``, sized by ``values``; closed offices hollow."""
    offices = offices.reset_index(drop=True)
    table = offices.assign(**office_columns(offices, values, scale=scale))
    vdims = ["code", "name", "type", *OFFICE_VALUE_COLUMNS]
    return hv.Points(table, ["x", "y"], vdims, label="offices").opts(
        size="size",
        fill_color="fill",
        line_color="#222222",
        line_width=2,
        fill_alpha=0.75,
        tools=["hover"],
        hover_tooltips=[("Office", "@name (@code)"), ("Type", "@type"), ("Cases", "@shown"), ("", "@status")],
    )


def _arrowheads(x0, y0, x1, y1) -> pd.DataFrame:
    """Triangles at the destination end, pointing along the line (Bokeh's triangle points up)."""
    angle = np.arctan2(np.asarray(y1) - y0, np.asarray(x1) - x0) - math.pi / 2
    return pd.DataFrame({"x": np.asarray(x1, dtype=float), "y": np.asarray(y1, dtype=float), "angle": angle})


def _shorten(x0, y0, x1, y1, fraction: float = 0.82):
    """Stop short of the destination's centre so the arrowhead and label stay readable."""
    return x0 + (x1 - x0) * fraction, y0 + (y1 - y0) * fraction


def _width(values: pd.Series, widest: float = 14.0) -> np.ndarray:
    top = values.max() if len(values) else 0
    return (1.5 + widest * np.sqrt(values / top)).to_numpy() if top > 0 else np.full(len(values), 1.5)


def _line_columns(table: pd.DataFrame) -> tuple[Columns, Columns]:
    """The columns of lines from (x0, y0) to (x1, y1) and of the triangles at their ends."""
    heads = _arrowheads(table["x0"], table["y0"], table["x1"], table["y1"])
    return source_columns(table), source_columns(heads)


def _lines(
    lines: Columns, heads: Columns, vdims: list[str], color: str, tooltips: list[tuple[str, str]],
    scale: float = 1.0,
) -> tuple[hv.Segments, hv.Points]:  # fmt: skip
    """Lines from (x0, y0) to (x1, y1) with a triangle at the end; the same columns even when empty."""
    segments = hv.Segments(pd.DataFrame(lines), ["x0", "y0", "x1", "y1"], [*vdims, "width"]).opts(
        line_width="width", color=color, alpha=0.75, tools=["hover"], hover_tooltips=tooltips
    )
    heads = hv.Points(pd.DataFrame(heads), ["x", "y"], ["angle"]).opts(
        marker="triangle", angle=HEAD_ANGLE, size=14 * scale, color=color, line_color="white"
    )
    return segments, heads


FLOW_COLUMNS = ["x0", "y0", "x1", "y1", "from", "to", "people", "width"]
RETURN_COLUMNS = ["x0", "y0", "x1", "y1", "country", "people", "width"]


def flow_columns(
    flows: pd.DataFrame,
    points: pd.DataFrame,
    *,
    origin: str = "origin_pcode",
    destination: str = "destination_pcode",
    scale: float = 1.0,
) -> tuple[Columns, Columns]:
    """The columns of state-to-state flows (``origin``, ``destination``, ``value``) drawn as lines whose width
    is the people moved: the lines (``FLOW_COLUMNS``) and their arrowheads (``x, y, angle``).

    ``points`` gives ``pcode``, ``x``, ``y`` for every state. Suppressed flows are not drawn. Each line is
    shifted a little to its left so that A->B and B->A stay apart.
    """
    shown = flows[flows["value"].notna() & (flows["value"] > 0) & (flows[origin] != flows[destination])]
    at = points.set_index("pcode")[["x", "y"]]
    x0, y0 = at["x"].reindex(shown[origin]).to_numpy(), at["y"].reindex(shown[origin]).to_numpy()
    xd, yd = at["x"].reindex(shown[destination]).to_numpy(), at["y"].reindex(shown[destination]).to_numpy()
    dx, dy = xd - x0, yd - y0
    length = np.hypot(dx, dy)
    length[length == 0] = 1
    nx, ny = -dy / length * 0.12, dx / length * 0.12
    x0, y0, xd, yd = x0 + nx, y0 + ny, xd + nx, yd + ny
    x1, y1 = _shorten(x0, y0, xd, yd)
    table = pd.DataFrame({
        "x0": x0, "y0": y0, "x1": x1, "y1": y1, "from": shown[origin].astype(str).to_numpy(),
        "to": shown[destination].astype(str).to_numpy(), "people": [format_count(v) for v in shown["value"]],
        "width": _width(shown["value"].astype("float64")) * scale,
    }, columns=FLOW_COLUMNS)  # fmt: skip
    return _line_columns(table)


def flow_lines(
    flows: pd.DataFrame,
    points: pd.DataFrame,
    *,
    origin: str = "origin_pcode",
    destination: str = "destination_pcode",
    color: str = STREAM_COLORS["displacement"],
    scale: float = 1.0,
) -> hv.Overlay:
    """The lines and arrowheads of ``flow_columns`` in ``color``, with hover."""
    lines, heads = flow_columns(flows, points, origin=origin, destination=destination, scale=scale)
    tooltips = [("From", "@from"), ("To", "@to"), ("People", "@people")]
    segments, heads = _lines(lines, heads, ["from", "to", "people"], color, tooltips, scale)
    return segments * heads


def _label_radii(angle: np.ndarray, base: float = 1.5, step: float = 0.28, close: float = 0.3) -> np.ndarray:
    """How far out each country label goes: labels in nearly the same direction are staggered outwards."""
    radii = np.full(len(angle), base)
    order = np.argsort(angle)
    for previous, current in itertools.pairwise(order):
        if angle[current] - angle[previous] < close:
            radii[current] = radii[previous] + step
    return radii


def _apart(x: np.ndarray, y: np.ndarray, half_w, h: float, limits: tuple[float, float]) -> np.ndarray:
    """Move labels up or down until no two overlap (country labels pushed against the frame's edge)."""
    y = np.array(y, dtype=float)
    half_w = np.broadcast_to(half_w, x.shape)
    for _ in range(20):
        moved = False
        for i, j in itertools.combinations(np.argsort(y), 2):
            if abs(x[i] - x[j]) < half_w[i] + half_w[j] and abs(y[i] - y[j]) < h:
                step = h - abs(y[i] - y[j])
                lower, upper = (i, j) if y[i] <= y[j] else (j, i)
                y[upper] += step / 2
                y[lower] -= step / 2
                moved = True
        y = np.clip(y, *limits)
        if not moved:
            break
    return y


# Where ``_clear_of`` looks for a free place, cheapest first: outwards (k half heights), up or down (j half
# heights, in halves: a label pressed against the frame's edge often misses a free place by a hair) and
# sideways (m half widths).
_STEPS = sorted(((k, j / 2, m) for k in range(12) for j in range(-16, 17) for m in (-1, 0, 1)),
                key=lambda kjm: kjm[0] * 0.5 + abs(kjm[1]) + 1.5 * abs(kjm[2]))  # fmt: skip
_STEP_K, _STEP_J, _STEP_M = np.array(_STEPS).T


def _clear_of(
    x: np.ndarray,
    y: np.ndarray,
    half_w: np.ndarray,
    half_h: float,
    angle: np.ndarray,
    boxes: pd.DataFrame,
    bounds: tuple[float, float, float, float],
    land=None,
    markers: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Move each country label to the nearest place, outwards along its arrow, up, down or sideways from
    there, where it covers no state label (``boxes``: ``x``, ``y``, ``w``, ``h``) and no country label placed
    before it, inside ``bounds``; of those, one clear of ``markers`` (offices and crossing points: rows of
    centre and half sizes, as ``_half_boxes``) and off ``land`` (the states) where a place a little further
    is. A label with no free place stays where it was."""
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    half_w = np.broadcast_to(half_w, x.shape)
    # What is taken: the state labels, then each country label as it is placed (centre, half sizes).
    taken = np.vstack([_half_boxes(boxes), np.zeros((len(x), 4))])
    marks = np.zeros((0, 4)) if markers is None else markers
    for i in range(len(x)):
        # Every candidate place at once (a filter change places the labels again), in ``_STEPS`` order.
        cx = x[i] + _STEP_K * half_h * np.cos(angle[i]) + _STEP_M * half_w[i]
        cy = y[i] + _STEP_K * half_h * np.sin(angle[i]) + _STEP_J * half_h
        inside = ((bounds[0] + half_w[i] <= cx) & (cx <= bounds[2] - half_w[i])
                  & (bounds[1] + half_h <= cy) & (cy <= bounds[3] - half_h))  # fmt: skip
        free = np.flatnonzero(inside)
        free = free[~_covers(cx[free], cy[free], half_w[i], half_h, taken[: len(boxes) + i])]
        if len(free):
            # A name over an office hides part of it ("South S(o)dan"); a name over a state reads as the
            # state's: each only when nothing else is free.
            marked = _covers(cx[free], cy[free], half_w[i], half_h, marks)
            free = free[~marked] if (~marked).any() else free
            off_land = (c for c in free if not land.intersects(_box(cx[c], cy[c], 2 * half_w[i], 2 * half_h)))
            place = free[0] if land is None else next(off_land, free[0])
            x[i], y[i] = cx[place], cy[place]
        taken[len(boxes) + i] = (x[i], y[i], half_w[i], half_h)
    return x, y


def _half_boxes(boxes: pd.DataFrame) -> np.ndarray:
    """``boxes`` (``x``, ``y``, ``w``, ``h``) as rows of centre and half sizes."""
    return np.column_stack([boxes["x"], boxes["y"], boxes["w"] / 2, boxes["h"] / 2]).astype(float)


def _covers(cx: np.ndarray, cy: np.ndarray, half_w: float, half_h: float, taken: np.ndarray) -> np.ndarray:
    """Which candidate boxes (centres ``cx``, ``cy``; half sizes ``half_w``, ``half_h``) overlap any of the
    ``taken`` boxes (rows of ``_half_boxes``)."""
    near_x = np.abs(taken[:, 0] - cx[:, None]) < taken[:, 2] + half_w
    return (near_x & (np.abs(taken[:, 1] - cy[:, None]) < taken[:, 3] + half_h)).any(axis=1)


def return_columns(
    returns: pd.DataFrame,
    points: pd.DataFrame,
    countries: pd.DataFrame,
    *,
    reach: float | None = None,
    scale: float = 1.0,
    bounds: tuple[float, float, float, float] | None = None,
    unit_px: float | None = None,
    avoid: pd.DataFrame | None = None,
    markers: pd.DataFrame | None = None,
    land=None,
    language: str = "en",
) -> tuple[Columns, Columns, Columns]:
    """The columns of returns leaving Sudan: arrows from the map towards each country of return, width by
    people (``RETURN_COLUMNS``), their arrowheads (``x, y, angle``) and labels (``x, y, text``).

    ``returns`` has ``destination`` (ISO3) and ``value``; ``countries`` has ``iso3``, ``name``, ``lon``,
    ``lat``. Arrows point in the true direction of the country and stop just outside the drawn map (far
    countries would otherwise shrink Sudan to a dot), labelled with country and count; labels keep clear of
    the state labels in ``avoid`` (``x``, ``y``, ``w``, ``h``: called-out labels stand in the same margin)
    and, where they can, of the ``markers`` (``x``, ``y``, ``r`` in pixels, as ``place_labels``' obstacles)
    and off ``land`` (the states' shapely geometry).
    """
    shown = returns[returns["value"].notna() & (returns["value"] > 0)]
    shown = shown.groupby("destination", observed=True, as_index=False)["value"].sum()
    shown = shown.merge(countries, left_on="destination", right_on="iso3")
    names = zip(shown["iso3"], shown["name"], strict=True)
    shown["name"] = [i18n.country_name(iso3, language, name) for iso3, name in names]
    xmin, xmax = points["x"].min(), points["x"].max()
    ymin, ymax = points["y"].min(), points["y"].max()
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    # Arrows run from just outside the drawn states outwards: the map stays readable underneath.
    reach = reach or 0.55 * max(xmax - xmin, ymax - ymin)
    angle = np.arctan2(shown["lat"].to_numpy() - SUDAN_CENTRE[1], shown["lon"].to_numpy() - SUDAN_CENTRE[0])
    start, end = np.full(len(angle), 0.95 * reach), np.full(len(angle), 1.35 * reach)
    radius = _label_radii(angle) * reach
    if bounds is not None:
        # A map framed tightly on Sudan: from the edge of the states' box, a short way into the margin.
        cos, sin = np.cos(angle), np.sin(angle)
        with np.errstate(divide="ignore"):
            exit_at = np.minimum(np.abs((xmax - cx) / cos), np.abs((ymax - cy) / sin))
        margin = 0.12 * max(xmax - xmin, ymax - ymin)
        start, end = 0.9 * exit_at, 0.9 * exit_at + margin
        radius = exit_at + margin * (1.4 + _label_radii(angle, base=0, step=0.6))
    x0, y0 = cx + start * np.cos(angle), cy + start * np.sin(angle)
    x1, y1 = cx + end * np.cos(angle), cy + end * np.sin(angle)
    lx, ly = cx + radius * np.cos(angle), cy + radius * np.sin(angle)
    if bounds is not None:
        bx0, by0, bx1, by1 = bounds
        inset_x, inset_y = 0.07 * (bx1 - bx0), 0.035 * (by1 - by0)
        x1, y1 = np.clip(x1, bx0 + inset_x / 3, bx1 - inset_x / 3), np.clip(y1, by0 + inset_y, by1 - inset_y)
        if unit_px:  # each label whole inside the frame
            inset_x = np.array([country_label_half_size(name, scale, unit_px)[0] for name in shown["name"]])
            inset_y = country_label_half_size("", scale, unit_px)[1]  # the same for every name
        lx = np.clip(lx, bx0 + inset_x, bx1 - inset_x)
        ly = np.clip(ly, by0 + inset_y, by1 - inset_y)
        if unit_px and avoid is not None and len(avoid):
            half_w = np.broadcast_to(inset_x, lx.shape)
            if markers is not None:  # each circle as the square around it, in map units
                half = markers["r"].to_numpy(dtype=float) / unit_px
                markers = np.column_stack([markers["x"], markers["y"], half, half]).astype(float)
            lx, ly = _clear_of(lx, ly, half_w, inset_y, angle, avoid, bounds, land=land, markers=markers)
        elif unit_px:
            ly = _apart(lx, ly, inset_x, 2 * inset_y, (by0 + inset_y, by1 - inset_y))
    table = pd.DataFrame({
        "x0": x0, "y0": y0, "x1": x1, "y1": y1, "country": shown["name"].to_numpy(),
        "people": [format_count(v) for v in shown["value"]],
        "width": _width(shown["value"].astype("float64")) * scale,
    }, columns=RETURN_COLUMNS)  # fmt: skip
    text = pd.DataFrame({
        "x": lx, "y": ly,
        "text": [f"{c}\n{p}" for c, p in zip(table["country"], table["people"], strict=True)],
    }, columns=["x", "y", "text"])  # fmt: skip
    return (*_line_columns(table), source_columns(text))


def return_arrows(
    returns: pd.DataFrame, points: pd.DataFrame, countries: pd.DataFrame, *, scale: float = 1.0, **placement
) -> hv.Overlay:
    """The arrows, arrowheads and country labels of ``return_columns`` (``placement``: its other options)."""
    lines, heads, text = return_columns(returns, points, countries, scale=scale, **placement)
    tooltips = [("Returned to", "@country"), ("People", "@people")]
    segments, heads = _lines(lines, heads, ["country", "people"], STREAM_COLORS["return"], tooltips, scale)
    labels = hv.Labels(pd.DataFrame(text), ["x", "y"], "text").opts(
        text_font_size=f"{return_label_pt(scale)}pt", text_color="#7a4d00", text_font_style="bold"
    )
    return segments * heads * labels


def return_label_pt(scale: float) -> int:
    """The country labels' size in points for a map drawn at ``scale``."""
    return round(9 * min(scale, 1.15))


def country_label_half_size(name: str, scale: float, unit_px: float) -> tuple[float, float]:
    """Half the width and height, in map units, that a country's label (its name over its count) takes on
    a map drawn at ``scale`` with ``unit_px`` pixels per unit; a little generous."""
    font_px = return_label_pt(scale) * 4 / 3
    return max(len(name), 7) * 0.62 * font_px / 2 / unit_px + 0.1, 1.4 * font_px / unit_px


def map_frame(
    element: hv.Element, *, schematic: bool, height: int = 560, responsive: bool = False
) -> hv.Element:
    """Axes off, equal aspect, white or sea-blue background.

    Fixed: the width follows from the height. ``responsive``: the plot fills its container at the map's
    own aspect (presentation mode, whatever the screen).
    """
    no_axes = {"xaxis": None, "yaxis": None}
    frame = (
        {"responsive": True, "data_aspect": 1}
        if responsive
        else {"frame_height": height - 60, "data_aspect": 1}
    )
    return element.opts(
        hv.opts.Polygons(**no_axes, **frame),
        hv.opts.Points(**no_axes),
        hv.opts.Segments(**no_axes),
        hv.opts.Labels(**no_axes),
        hv.opts.Overlay(
            **no_axes,
            **frame,
            toolbar="above",
            active_tools=["wheel_zoom"],
            show_legend=False,
            bgcolor="#ffffff" if schematic else SEA_COLOR,
        ),
    )


def swatch(style: str, size: int) -> str:
    """A map key's sample: a ``size`` px square styled by ``style`` (a later ``height`` makes it a line)."""
    return (f'<span style="display:inline-block;width:{size}px;height:{size}px;vertical-align:middle;'
            f'margin:0 6px 0 14px;{style}"></span>')  # fmt: skip


def key_item(swatches: str, text: str) -> str:
    """One entry of a map key, its samples and words kept on one line."""
    return f'<span style="white-space:nowrap;display:inline-block">{swatches}{html.escape(text)}</span>'


def key_line(color: str, size: int) -> str:
    """The style of a key's line sample in ``color``."""
    return f"height:{max(3, size // 4)}px;background:{color}"


def legend_html(
    *,
    offices: bool = True,
    closed: bool = False,
    zero: bool = True,
    no_value: bool = False,
    flows: bool = False,
    returns: bool = False,
    note: str = "",
    missing: list[str] | tuple[str, ...] = (),
    size: int = 14,
    language: str = "en",
) -> str:
    """The map's key as HTML: office markers, zero, lines and arrows drawn now, and what a colour bar
    cannot say (``note``: one value, all zero) or what the boundary file lacks (``missing``: state names)."""

    def say(key: str) -> str:
        return i18n.text(key, language)

    entries = [  # (drawn now, sample style, sample width, words)
        (offices, f"border-radius:50%;background:{OFFICE_COLOR};opacity:.8;border:2px solid {OFFICE_COLOR}",
         size, "key.office"),
        (offices and closed, f"border-radius:50%;background:#fff;border:2px solid {OFFICE_COLOR}", size,
         "key.closed"),
        (zero, f"background:{ZERO_COLOR};border:1px solid #999", size, "key.zero"),
        (no_value, f"background:{SUPPRESSED_COLOR};border:1px solid #999", size, "key.no_value"),
        (flows, key_line(STREAM_COLORS["displacement"], size), size * 2, "key.flows"),
        (returns, key_line(STREAM_COLORS["return"], size), size * 2, "key.returns"),
    ]  # fmt: skip
    items = [key_item(swatch(style, width), say(key)) for drawn, style, width, key in entries if drawn]
    lines = [f'<div class="fm-map-key">{"".join(items)}</div>']
    if note:
        words = html.escape(say("key.no_scale"))
        lines.append(f'<div class="fm-map-scale"><b>{html.escape(note)}</b> {words}</div>')
    if missing:
        names = html.escape(say("key.missing").format(names=", ".join(missing)))
        lines.append(f'<div class="fm-map-missing">{names}</div>')
    return "".join(lines)


# --- what the map draws of a view (shared by the live map and the exports) ----------------------------


def office_values(view) -> pd.DataFrame:
    """``office, value, suppressed`` of the mapped stream (offices count cases: caseload for displacement)."""
    stream = view.filters.map_stream
    stream = "caseload" if stream == "displacement" else stream
    table = view["by_office"]
    return table[table["stream"] == stream][["office", "value", "suppressed"]]


def displacement_flows(view, top: int = 25) -> pd.DataFrame:
    """The state-to-state flows the map draws: the largest ``top`` (dozens of thin lines hide the map)."""
    empty = pd.DataFrame({"origin_pcode": [], "destination_pcode": [], "value": []})
    flows = view["state_flows"]
    if view.filters.map_stream != "displacement" or flows.empty:
        return empty
    return flows.sort_values("value", ascending=False).head(top)


def return_flows(view) -> pd.DataFrame:
    """Returns by country of return, drawn as arrows when the map shows returns."""
    empty = pd.DataFrame({"state_pcode": [], "destination": [], "value": []})
    flows = view["return_flows"]
    if view.filters.indicator != "return" or flows.empty:
        return empty
    return flows
