"""The map: state choropleth (official boundaries or schematic tiles), office markers, flow lines.

Every function is pure: frames in, HoloViews elements out. Values arrive already aggregated and suppressed
(``flowmon.privacy``): a hidden cell has ``value`` NaN and ``suppressed`` True, and is drawn hatched.

The dashboard draws the geometry once and afterwards only rewrites the value columns of the plot's data
sources (``state_columns``, ``office_columns``): see ``flowmon.app``. The column functions here are shared by
both paths, so a notebook's static map and the live one show the same thing.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import holoviews as hv
import numpy as np
import pandas as pd
import shapely
from bokeh.models import NumeralTickFormatter

from flowmon.views.style import (
    BORDER_COLOR,
    CONTEXT_COLOR,
    SEQUENTIAL,
    STREAM_COLORS,
    SUPPRESSED_COLOR,
    ZERO_COLOR,
    format_count,
)

STATE_VALUE_COLUMNS = ("value", "shown", "hatch", "label", "ink")
OFFICE_VALUE_COLUMNS = ("value", "shown", "size", "status", "fill")
HOVER_STATE = [("State", "@name_en"), ("الولاية", "@name_ar"), ("Pcode", "@pcode"), ("Count", "@shown")]
HATCH = "/"


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
    """Hatch the suppressed states (the ``hatch`` column): HoloViews has no option for a hatch field."""
    glyph = plot.handles["glyph"]
    glyph.hatch_pattern = {"field": "hatch"}
    glyph.hatch_color = "#333333"
    glyph.hatch_alpha = 0.7
    glyph.hatch_scale = 10


def color_limits(values: pd.Series) -> tuple[float, float]:
    top = values.max(skipna=True)
    return (1.0, float(top) if pd.notna(top) and top > 1 else 2.0)


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
) -> hv.Overlay:
    """The states coloured by ``values`` (pcode, value, suppressed), labelled with name and count."""
    name_column = "name_ar" if language == "ar" else "name_en"
    base = shapes.reset_index(drop=True)
    columns = state_columns(base["pcode"], values, base[name_column])
    table = base.assign(**columns)
    vdims = ["pcode", "name_en", "name_ar", *STATE_VALUE_COLUMNS]
    polygons = hv.Polygons(polygon_records(table, vdims), vdims=vdims, label="states").opts(
        color="value",
        cmap=palette,
        # Caseloads are skewed (one state can hold most of them): a log scale keeps the rest readable.
        cnorm="log",
        clim=color_limits(table["value"]),
        # Zero is "none", not "a few": drawn pale, below the scale.
        clabel=unit,
        colorbar_opts={"formatter": count_format()},
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
    points = label_points(base)
    points = points.assign(
        y=points["y"] + label_offset(base),
        label=columns["label"] if label_names else columns["shown"],
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
        color=CONTEXT_COLOR, line_color="#c8c8c8", line_width=1, tools=[]
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


def _lines(
    table: pd.DataFrame, vdims: list[str], color: str, tooltips: list[tuple[str, str]], scale: float = 1.0
) -> tuple[hv.Segments, hv.Points]:
    """Lines from (x0, y0) to (x1, y1) with a triangle at the end; the same columns even when empty."""
    segments = hv.Segments(table, ["x0", "y0", "x1", "y1"], [*vdims, "width"]).opts(
        line_width="width", color=color, alpha=0.75, tools=["hover"], hover_tooltips=tooltips
    )
    heads = hv.Points(
        _arrowheads(table["x0"], table["y0"], table["x1"], table["y1"]), ["x", "y"], ["angle"]
    ).opts(marker="triangle", angle="angle", size=14 * scale, color=color, line_color="white")
    return segments, heads


FLOW_COLUMNS = ["x0", "y0", "x1", "y1", "from", "to", "people", "width"]
RETURN_COLUMNS = ["x0", "y0", "x1", "y1", "country", "people", "width"]


def flow_lines(
    flows: pd.DataFrame,
    points: pd.DataFrame,
    *,
    origin: str = "origin_pcode",
    destination: str = "destination_pcode",
    color: str = STREAM_COLORS["displacement"],
    scale: float = 1.0,
) -> hv.Overlay:
    """State-to-state flows (``origin``, ``destination``, ``value``) as lines whose width is the people moved.

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
    tooltips = [("From", "@from"), ("To", "@to"), ("People", "@people")]
    segments, heads = _lines(table, ["from", "to", "people"], color, tooltips, scale)
    return segments * heads


def _label_radii(angle: np.ndarray, base: float = 1.5, step: float = 0.28, close: float = 0.3) -> np.ndarray:
    """How far out each country label goes: labels in nearly the same direction are staggered outwards."""
    radii = np.full(len(angle), base)
    order = np.argsort(angle)
    for previous, current in itertools.pairwise(order):
        if angle[current] - angle[previous] < close:
            radii[current] = radii[previous] + step
    return radii


def return_arrows(
    returns: pd.DataFrame,
    points: pd.DataFrame,
    countries: pd.DataFrame,
    *,
    reach: float | None = None,
    scale: float = 1.0,
) -> hv.Overlay:
    """Returns leaving Sudan: arrows from the map towards each country of return, width by people.

    ``returns`` has ``destination`` (ISO3) and ``value``; ``countries`` has ``iso3``, ``name``, ``lon``,
    ``lat``. Arrows point in the true direction of the country and stop just outside the drawn map (far
    countries would otherwise shrink Sudan to a dot), labelled with country and count.
    """
    shown = returns[returns["value"].notna() & (returns["value"] > 0)]
    shown = shown.groupby("destination", observed=True, as_index=False)["value"].sum()
    shown = shown.merge(countries, left_on="destination", right_on="iso3")
    xmin, xmax = points["x"].min(), points["x"].max()
    ymin, ymax = points["y"].min(), points["y"].max()
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    # Arrows run from just outside the drawn states outwards: the map stays readable underneath.
    reach = reach or 0.55 * max(xmax - xmin, ymax - ymin)
    angle = np.arctan2(shown["lat"].to_numpy() - SUDAN_CENTRE[1], shown["lon"].to_numpy() - SUDAN_CENTRE[0])
    start, end = 0.95 * reach, 1.35 * reach
    table = pd.DataFrame({
        "x0": cx + start * np.cos(angle), "y0": cy + start * np.sin(angle),
        "x1": cx + end * np.cos(angle), "y1": cy + end * np.sin(angle), "country": shown["name"].to_numpy(),
        "people": [format_count(v) for v in shown["value"]],
        "width": _width(shown["value"].astype("float64")) * scale,
    }, columns=RETURN_COLUMNS)  # fmt: skip
    tooltips = [("Returned to", "@country"), ("People", "@people")]
    segments, heads = _lines(table, ["country", "people"], STREAM_COLORS["return"], tooltips, scale)
    radius = _label_radii(angle) * reach
    text = pd.DataFrame({
        "x": cx + radius * np.cos(angle), "y": cy + radius * np.sin(angle),
        "text": [f"{c}\n{p}" for c, p in zip(table["country"], table["people"], strict=True)],
    }, columns=["x", "y", "text"])  # fmt: skip
    labels = hv.Labels(text, ["x", "y"], "text").opts(
        text_font_size=f"{round(9 * scale)}pt", text_color="#7a4d00", text_font_style="bold"
    )
    return segments * heads * labels


def map_frame(element: hv.Element, *, schematic: bool, height: int = 560) -> hv.Element:
    """Axes off, equal aspect (the width follows from the height), white or sea-blue background."""
    no_axes = {"xaxis": None, "yaxis": None}
    frame = {"frame_height": height - 60, "data_aspect": 1}
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
            bgcolor="#ffffff" if schematic else "#f7fbff",
        ),
    )
