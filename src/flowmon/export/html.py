"""``flowmon export html``: one self-contained file with the map, its selectors and a month player.

The file is a standalone Bokeh document: Bokeh's JavaScript is inlined (``Resources(mode="inline")``), so it
opens from disk with no server and no internet, and plain Bokeh widgets with ``CustomJS`` keep it free of
Panel's CDN stylesheets. The figures are pre-aggregated and suppressed (``flowmon.export.frames``): per map
indicator, the whole period and each month, the 19 state values with their suppressed flags. The state
polygons are embedded once (official boundaries when installed in the data folder, else the schematic
tiles); the selectors and the player only rewrite the value columns.

Nothing record-level is in the file: no record id, no row of the tables, only the figures shown.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from bokeh.embed import file_html
from bokeh.events import DocumentReady
from bokeh.layouts import column, row
from bokeh.models import (
    Button,
    ColorBar,
    ColumnDataSource,
    CustomJS,
    DataRange1d,
    Div,
    HoverTool,
    LogColorMapper,
    NumeralTickFormatter,
    Select,
    Slider,
    Toggle,
)
from bokeh.plotting import figure
from bokeh.resources import Resources

from flowmon import __version__, geo, i18n, viewdata
from flowmon.export import view as views
from flowmon.export.frames import MapFrames, map_frames
from flowmon.filters import INDICATOR_STREAM, Filters
from flowmon.views import crossing_map
from flowmon.views import map as maps
from flowmon.views.style import (
    BORDER_COLOR,
    CONTEXT_COLOR,
    CONTEXT_LINE_COLOR,
    DIRECTION_COLORS,
    HIGH_CONTRAST,
    OFFICE_COLOR,
    SEQUENTIAL,
    STREAM_COLORS,
    SUPPRESSED_COLOR,
    ZERO_COLOR,
)

PLAY_INTERVAL_MS = 1500
ACCENT = "#0033a0"  # IOM blue, as the dashboard's header
# Labels switch to white where the fill is dark: the upper 40% of the (log) colour range, as on the dashboard.
DARK_FROM = 0.6

# Shared by every callback: redraw the map for the chosen indicator and frame (0 = whole period).
UPDATE_JS = """
const data = window.__flowmon_data || (window.__flowmon_data = JSON.parse(payload.data.json[0]));
function fmt(v) { return v === null ? "*" : v.toLocaleString("en-US"); }
function redraw() {
  const d = data.indicators[indicator.value];
  const f = frame.value;
  const values = d.values[f], hidden = d.suppressed[f];
  const high = f === 0 ? d.high_period : d.high_month;
  const value = [], shown = [], hatch = [], label = [], ink = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    value.push(v === null ? NaN : v);
    shown.push(fmt(v));
    hatch.push(hidden[i] ? "/" : " ");
    label.push(data.names[i] + "\\n" + fmt(v));
    const dark = v !== null && Math.log(Math.max(v, 1)) / Math.log(high) > data.dark_from;
    ink.push(dark ? "#ffffff" : "#111111");  // a callout is a chip in its state's colour: the same ink
  }
  source.data = Object.assign({}, source.data, {value: value, shown: shown, hatch: hatch, label: label,
                                                 ink: ink});
  mapper.high = high;
  colorbar.title = d.unit;
  colorbar.ticker.ticks = d.ticks[f];
  colorbar.visible = !d.notes[f];
  scale_note.text = d.notes[f] ? "<b>" + d.notes[f] + "</b> " + data.words.no_scale : "";
  const layer = d.layers[f];
  offices.data = Object.assign({}, offices.data, layer.offices);
  for (const name of Object.keys(layers)) {
    layers[name].data = layer[name];
  }
  title.text = d.titles[f];
  period.text = data.frames[f] + '<div style="font-size:55%;font-weight:400;color:#444">' +
                data.captions[f] + "</div>";
  const t = d.totals[f];
  total.text = d.label + ": <b>" + (t === null ? "* (" + data.words.hidden + ")" : fmt(t)) + "</b> " + d.unit;
  window.__flowmon_drawn = (window.__flowmon_drawn || 0) + 1;
}
"""
STREAM_JS = """
const choices = data.streams[stream.value];
indicator.options = choices;
if (indicator.value === choices[0][0]) { redraw(); } else { indicator.value = choices[0][0]; }
"""
STEP_JS = """
const months = frame.end;
if (step === 0) { frame.value = 0; }
else if (step > 0) { frame.value = frame.value >= months ? 1 : frame.value + 1; }
else { frame.value = frame.value <= 1 ? months : frame.value - 1; }
"""
PLAY_JS = """
if (play.active) {
  play.label = pause_label;
  if (frame.value === 0) { frame.value = 1; }
  window.__flowmon_timer = setInterval(() => {
    frame.value = frame.value >= frame.end ? 1 : frame.value + 1;
  }, interval);
} else {
  clearInterval(window.__flowmon_timer);
  play.label = play_label;
}
"""
KEYS_JS = """
document.addEventListener("keydown", (event) => {
  const target = event.composedPath()[0];  // inside Bokeh's shadow DOM, not its host element
  const tag = target && target.tagName;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(tag)) { return; }  // their own keys
  if (event.key === "ArrowRight") { frame.value = frame.value >= frame.end ? 1 : frame.value + 1; }
  else if (event.key === "ArrowLeft") { frame.value = frame.value <= 1 ? frame.end : frame.value - 1; }
  else if (event.key === " " && tag !== "BUTTON") { play.active = !play.active; event.preventDefault(); }
  else { return; }
});
"""


def _number(value: float) -> int | None:
    return None if math.isnan(value) else int(value)


def _frame_names(session, months: tuple[str, ...]) -> list[str]:
    """What the player shows: the period ("January–June 2025"), then each month ("March 2025")."""
    view = session.view
    language = view.language
    return [viewdata.period_words(view.filters.period, language),
            *(i18n.month_name(pd.Period(m, "M"), language) for m in months)]  # fmt: skip


def _captions(months: tuple[str, ...], language: str = "en") -> list[str]:
    def month_of(i: int) -> str:
        return i18n.text("export.month_of", language).format(i=i, n=len(months))

    return [i18n.text("export.whole_period", language), *(month_of(i) for i in range(1, len(months) + 1))]


def payload(
    session,
    frames: MapFrames,
    names: list[str],
    pcodes: list[str] | None = None,
    layers: dict | None = None,
) -> dict:
    """What the page's JavaScript reads: frame names, state names, and per indicator its figures.

    ``pcodes`` are the drawn states (a boundary file may lack some: their figures stay out of the map);
    ``layers`` the offices, flow lines and return arrows of each indicator and frame (``map_layers``).
    """
    columns = [frames.pcodes.index(p) for p in (pcodes or frames.pcodes)]
    language = session.view.language
    indicators = {}
    streams: dict[str, list[list[str]]] = {}
    for indicator, figures in frames.indicators.items():
        stream = INDICATOR_STREAM[indicator]
        streams.setdefault(stream, []).append([indicator, i18n.text(f"choice.{indicator}", language)])
        values = figures.values[:, columns]
        months = values[1:]
        high_period, high_month = _high(values[0]), _high(months)
        unit = i18n.text(f"unit.{stream}", language)
        indicators[indicator] = {
            "stream": stream,
            "label": html.escape(i18n.text(stream, language)),
            "unit": unit,
            "values": [[_number(v) for v in row_] for row_ in values],
            "suppressed": figures.suppressed[:, columns].tolist(),
            "ticks": [maps.color_ticks(high_period if f == 0 else high_month) for f in range(len(values))],
            "notes": [html.escape(maps.scale_note(row_, unit, language)) for row_ in values],
            "layers": (layers or {}).get(indicator, []),
            "totals": [_number(v) for v in figures.totals],
            "titles": [html.escape(t) for t in figures.titles],
            # One colour scale for all months (so that months compare), its own for the whole period.
            "high_period": high_period,
            "high_month": high_month,
        }
    return {
        "frames": [html.escape(n) for n in _frame_names(session, frames.months)],
        "captions": _captions(frames.months, language),
        "words": {
            "hidden": i18n.text("export.hidden", language),
            "no_scale": i18n.text("key.no_scale", language),
        },
        "names": names,
        "streams": streams,
        "indicators": indicators,
        "dark_from": DARK_FROM,
    }


def _high(values: np.ndarray) -> float:
    """The top of the log colour scale (which starts at 1; zero is drawn apart, below it)."""
    top = np.nanmax(values) if np.isfinite(values).any() else 0.0
    return float(top) if top > 1 else 2.0


def _polygon_columns(shapes: gpd.GeoDataFrame) -> dict[str, list]:
    """``maps.polygon_columns`` as plain numbers: the file's JSON carries them as lists."""
    return {key: [[[ring.tolist() for ring in polygon] for polygon in shape] for shape in column]
            for key, column in maps.polygon_columns(shapes).items()}  # fmt: skip


def _shapes(session, geometry: str) -> tuple[gpd.GeoDataFrame, bool]:
    dataset = session.dataset
    official = dataset.boundaries is not None and geometry in ("auto", "official")
    if geometry == "official" and dataset.boundaries is None:
        raise ValueError(f"{dataset.data_dir}: no official boundaries installed (flowmon geo import FILE)")
    shapes = dataset.boundaries if official else dataset.tiles
    return shapes.sort_values("pcode", ignore_index=True), not official


def _footer(session, streams: list[str], schematic: bool) -> str:
    """Sources and "as of" dates of ``streams``, the protection note, the map, the export."""
    view = session.view
    language = view.language

    def say(key: str) -> str:
        return i18n.text(key, language)

    sources = views.provenance(view)
    lines = []
    shown = [s for s in dict.fromkeys(streams) if s in sources]
    if shown:
        text = "; ".join(
            f"{say(s)}: {sources[s]['source']}, {say('as_of')} {sources[s]['as_of'] or say('export.unknown')}"
            for s in shown
        )
        lines.append(f"<b>{html.escape(say('sources'))}</b>: {html.escape(text)}.")
    lines.append(html.escape(f"{view.footnote} {say('export.each_month')}".strip()))
    lines.append(html.escape(say("export.map_tiles" if schematic else "export.map_official")))
    today = dt.date.today()
    date = f"{today.day:02d} {i18n.month_name(pd.Period(today, 'M'), language)}"
    lines.append(html.escape(say("export.only_aggregated").format(version=__version__, date=date)))
    return "<br>".join(lines)


FONT = "Helvetica, Arial, sans-serif"


def _text(name: str, px: float, **styles: str) -> Div:
    styles = {"font-family": FONT, "color": "#111", "font-size": f"{round(px)}px", **styles}
    # disable_math: Bokeh would fetch MathJax from a CDN for a text that looks like TeX.
    return Div(text="", name=name, disable_math=True, styles=styles)


def _columns(frame: pd.DataFrame) -> dict[str, list]:
    """A frame as JSON-safe columns (no NaN: JSON.parse refuses it)."""
    return {str(c): [None if isinstance(v, float) and math.isnan(v) else v for v in frame[c].tolist()]
            for c in frame.columns}  # fmt: skip


def office_positions(session, schematic: bool) -> pd.DataFrame:
    """Offices where the dashboard draws them: on tiles below the label, else at their coordinates."""
    offices = session.dataset.offices.copy()
    if not schematic:
        return offices.assign(x=offices["lon"], y=offices["lat"])
    placed = geo.office_points_on_tiles(offices).set_index("code")
    return offices.assign(x=placed.loc[offices["code"], "x"].to_numpy(),
                          y=placed.loc[offices["code"], "y"].to_numpy())  # fmt: skip


def frame_views(session, months: tuple[str, ...]) -> list:
    """The view, then each month's view (as ``flowmon.export.frames`` counts them)."""
    view = session.view
    return [view] + [
        viewdata.build(session.dataset, view.filters.replace(period=month), operator_k=session.operator_k,
                       language=view.language)
        for month in months
    ]  # fmt: skip


def official_frame(shapes: gpd.GeoDataFrame, width: int | None = None, height: int | None = None):
    """The map's bounds on official boundaries and its pixels per degree, for a file of ``width`` x
    ``height`` (the full window: 1920 x 1080). As the dashboard: Sudan framed with a margin for arrows."""
    scale = (height or 1080) / 1080
    xmin, ymin, xmax, ymax = shapes.total_bounds
    extent = max(xmax - xmin, ymax - ymin)
    bounds = (xmin - 0.2 * extent, ymin - 0.06 * extent, xmax + 0.2 * extent, ymax + 0.06 * extent)
    frame_w, frame_h = (width or 1920) - 440 * scale - 120 * scale, (height or 1080) * 0.72
    return bounds, min(frame_w / (bounds[2] - bounds[0]), frame_h / (bounds[3] - bounds[1]))


def map_layers(session, frames: MapFrames, offices: pd.DataFrame, points: pd.DataFrame, scale: float,
               **placement) -> dict[str, list[dict]]:  # fmt: skip
    """Per indicator and frame, what the dashboard draws over the states: office sizes, displacement lines,
    return arrows, crossing points and arrows (the column functions of ``flowmon.views.map`` and
    ``flowmon.views.crossing_map`` that the live map draws, so the file looks like the view). ``placement``:
    on official boundaries, where the country labels may go (``flowmon.views.map.return_columns``)."""
    countries = session.dataset.countries
    views_ = frame_views(session, frames.months)
    layers: dict[str, list[dict]] = {}
    for indicator in frames.indicators:
        entries = []
        for view in views_:
            view = view.replace_indicator(indicator)
            is_open = view.offices_open.reindex(offices["code"]).fillna(True).to_numpy()
            columns = maps.office_columns(offices.assign(open=is_open), maps.office_values(view), scale=scale)
            flow = maps.flow_columns(maps.displacement_flows(view), points, scale=scale)
            ret = maps.return_columns(maps.return_flows(view), points, countries, scale=scale,
                                      language=view.language, **placement)  # fmt: skip
            flow, ret = [_columns(pd.DataFrame(c)) for c in flow], [_columns(pd.DataFrame(c)) for c in ret]
            entries.append({
                "offices": {k: columns[k] for k in ("shown", "status", "fill")}
                | {"size": [float(v) for v in columns["size"]]},
                "flow": flow[0], "flow_heads": flow[1],
                "ret": ret[0], "ret_heads": ret[1], "ret_labels": ret[2],
            } | {name: _columns(table) for name, table in crossing_map.layer_tables(
                view, schematic=placement.get("bounds") is None, scale=scale).items()})  # fmt: skip
        layers[indicator] = entries
    return layers


def _map(
    shapes: gpd.GeoDataFrame, palette: list[str], high: float, unit: str, scale: float, *, toolbar: bool,
    offices: pd.DataFrame, placed: pd.DataFrame | None, bounds=None, outlines=None,
):  # fmt: skip
    """The state map as the dashboard draws it: faint neighbours, states coloured by ``value``, lines and
    arrows, office markers, leader lines and labels (in that order), hover, colour bar."""
    names = shapes["name_en"].astype(str).tolist()
    if placed is None:
        points = maps.label_points(shapes)
        points = points.assign(y=points["y"] + maps.label_offset(shapes))
    else:
        points = placed
    source = ColumnDataSource(
        {
            **_polygon_columns(shapes),
            "pcode": shapes["pcode"].tolist(),
            "name_en": names,
            "name_ar": shapes["name_ar"].astype(str).tolist(),
            "lx": points["x"].tolist(),
            "ly": points["y"].tolist(),
            "value": [np.nan] * len(names),
            "shown": [""] * len(names),
            "hatch": [" "] * len(names),
            "label": [maps.wrap(name) for name in names],
            "ink": ["#111111"] * len(names),
        },
        name="state_values",  # the renderer drawing them is "states"
    )
    # As on the dashboard: a log scale (one state can hold most people), zero pale and apart below it,
    # hidden grey and hatched.
    mapper = LogColorMapper(
        palette=palette, low=1, high=high, low_color=ZERO_COLOR, nan_color=SUPPRESSED_COLOR
    )
    fig = figure(
        # Data ranges fitted to the states (and the margin kept for arrows), a degree as long across as up,
        # whatever the page's shape.
        x_range=DataRange1d(range_padding=0.03),
        y_range=DataRange1d(range_padding=0.03),
        match_aspect=True,
        tools="pan,wheel_zoom,reset,save",
        toolbar_location="above" if toolbar else None,
        background_fill_color="white",
        border_fill_color="white",
        outline_line_color=None,
        name="map",
        sizing_mode="stretch_both",  # whatever the title, the side panel and the footer leave
    )
    fig.axis.visible = False
    fig.grid.visible = False
    fig.toolbar.logo = None
    fitted = []
    if outlines is not None and not outlines.empty:
        context = ColumnDataSource(_polygon_columns(outlines))
        fig.multi_polygons(xs="xs", ys="ys", source=context, fill_color=CONTEXT_COLOR,
                           line_color=CONTEXT_LINE_COLOR, line_width=0.8)  # fmt: skip
    states = fig.multi_polygons(
        xs="xs", ys="ys", source=source, name="states",
        fill_color={"field": "value", "transform": mapper}, line_color=BORDER_COLOR, line_width=2,
        hatch_pattern={"field": "hatch"}, hatch_color="#555555", hatch_alpha=0.45, hatch_scale=18,
    )  # fmt: skip
    fitted.append(states)
    if bounds is not None:  # the frame's corners, unseen: the ranges keep the margin for arrows and callouts
        corners = {"x": [bounds[0], bounds[2]], "y": [bounds[1], bounds[3]]}
        fitted.append(fig.scatter(x="x", y="y", source=ColumnDataSource(corners), alpha=0, size=1))
    fig.x_range.renderers = fig.y_range.renderers = fitted
    layers = {}
    for name, color in (("flow", STREAM_COLORS["displacement"]), ("ret", STREAM_COLORS["return"])):
        empty = {"x0": [], "y0": [], "x1": [], "y1": [], "width": []}
        layers[name] = ColumnDataSource(empty, name=f"{name}_lines")
        fig.segment(x0="x0", y0="y0", x1="x1", y1="y1", line_width="width", line_color=color, line_alpha=0.75,
                    source=layers[name])  # fmt: skip
        layers[f"{name}_heads"] = ColumnDataSource({"x": [], "y": [], "angle": []}, name=f"{name}_heads")
        fig.scatter(x="x", y="y", angle="angle", marker="triangle", size=14 * scale, fill_color=color,
                    line_color="white", source=layers[f"{name}_heads"])  # fmt: skip
    layers.update(_crossing_glyphs(fig, scale))
    layers["ret_labels"] = ColumnDataSource({"x": [], "y": [], "text": []}, name="ret_labels")
    fig.text(x="x", y="y", text="text", source=layers["ret_labels"], text_align="center",
             text_baseline="middle", text_font_size=f"{round(13 * scale)}px", text_font_style="bold",
             text_color="#7a4d00")  # fmt: skip
    office_source = ColumnDataSource(
        {"x": offices["x"].tolist(), "y": offices["y"].tolist(), "name": offices["name"].astype(str).tolist(),
         "code": offices["code"].astype(str).tolist(), "size": [8.0] * len(offices),
         "shown": [""] * len(offices), "status": [""] * len(offices), "fill": ["#222222"] * len(offices)},
        name="offices",
    )  # fmt: skip
    office_glyphs = fig.scatter(x="x", y="y", size="size", fill_color="fill", fill_alpha=0.75,
                                line_color=OFFICE_COLOR, line_width=2, source=office_source)  # fmt: skip
    if placed is not None:
        moved = placed[placed["callout"]]
        leaders = {"x0": moved["ax"].tolist(), "y0": moved["ay"].tolist(), "x1": moved["x"].tolist(),
                   "y1": moved["y"].tolist()}  # fmt: skip
        fig.segment(x0="x0", y0="y0", x1="x1", y1="y1", line_color="#333333", line_width=1, line_alpha=0.8,
                    source=ColumnDataSource(leaders, name="leaders"))  # fmt: skip
    fig.text(
        x="lx", y="ly", text="label", source=source, text_align="center", text_baseline="middle",
        text_font_size=f"{round(15 * scale)}px", text_font_style="bold", text_color="ink", name="labels",
        padding=1, background_fill_color={"field": "value", "transform": mapper},  # as views.map_figure's
    )  # fmt: skip
    fig.add_tools(HoverTool(renderers=[states], tooltips=maps.HOVER_STATE))
    fig.add_tools(
        HoverTool(
            renderers=[office_glyphs],
            tooltips=[("Office", "@name (@code)"), ("Cases", "@shown"), ("", "@status")],
        )
    )
    colorbar = ColorBar(
        color_mapper=mapper, title=unit, title_text_font_size=f"{round(16 * scale)}px",
        major_label_text_font_size=f"{round(15 * scale)}px", width=round(22 * scale), name="colorbar",
        formatter=NumeralTickFormatter(format="0,0"), ticker=maps.color_ticker(high),
    )  # fmt: skip
    fig.add_layout(colorbar, "right")
    return fig, source, mapper, colorbar, office_source, layers


def _crossing_glyphs(fig, scale: float) -> dict[str, ColumnDataSource]:
    """Crossing arrows (out, in) and points, filled per frame from ``crossing_map.layer_tables``."""
    sources = {}
    for direction in crossing_map.ARROW_DIRECTIONS:
        color = DIRECTION_COLORS[direction]
        name = f"cross_{direction}"
        sources[name] = ColumnDataSource({c: [] for c in crossing_map.ARROW_COLUMNS}, name=name)
        fig.segment(x0="x0", y0="y0", x1="x1", y1="y1", line_width="width", line_color=color, line_alpha=0.8,
                    source=sources[name])  # fmt: skip
        sources[f"{name}_heads"] = ColumnDataSource({"x": [], "y": [], "angle": []}, name=f"{name}_heads")
        fig.scatter(x="x", y="y", angle="angle", marker="triangle", size=13 * scale, fill_color=color,
                    line_color="white", source=sources[f"{name}_heads"])  # fmt: skip
    columns = {c: [] for c in crossing_map.POINT_COLUMNS}
    sources["cross_points"] = ColumnDataSource(columns, name="cross_points")
    points = fig.scatter(x="x", y="y", size="size", marker="diamond", fill_color=DIRECTION_COLORS["all"],
                         line_color="#0b3954", line_width=1.5 * scale, fill_alpha=0.85,
                         source=sources["cross_points"])  # fmt: skip
    tooltips = [("Crossing point", "@name (@code)"), ("", "@name_ar"), ("In", "@in"), ("Out", "@out"),
                ("Transit", "@transit")]  # fmt: skip
    fig.add_tools(HoverTool(renderers=[points], tooltips=tooltips))
    return sources


def _key(scale: float, *, flows: bool, returns: bool, missing: list[str], language: str = "en") -> Div:
    """The map's key, as the dashboard's: offices, zero, the lines drawn, states without a boundary."""
    key = _text("key", 16 * scale, **{"line-height": "1.7"})
    key.text = maps.legend_html(closed=True, flows=flows, returns=returns, missing=missing,
                                size=round(18 * scale), language=language)  # fmt: skip
    return key


def build(session, *, controls: bool = True, width: int | None = None, height: int | None = None,
          geometry: str = "auto", present: bool = False):  # fmt: skip
    """The Bokeh layout of the exported view, and the callback that draws it once the page is ready.

    Without ``width``/``height`` the layout fills the browser window. ``controls=False`` leaves out the
    selectors and the player (a picture for slides: one indicator, a projector's palette).
    """
    frames = map_frames(session)
    chosen = session.view.filters.indicator
    if chosen not in frames.indicators:
        raise ValueError(f"the map indicator {chosen!r} is not among the selected streams")
    shapes, schematic = _shapes(session, geometry)
    scale = (height or 1080) / 1080
    language = session.view.language
    arabic = language == "ar"
    names = [maps.wrap(name) for name in shapes["name_ar" if arabic else "name_en"].astype(str)]
    offices = office_positions(session, schematic)
    points = maps.label_points(shapes)
    bounds = placed = None
    placement = {}  # where the return arrows' country labels may go
    if not schematic:
        bounds, unit_px = official_frame(shapes, width, height)
        font_px = round(15 * scale)
        obstacles = offices.assign(r=15 * scale * 1.6 + 2)[["x", "y", "r"]]
        placed = maps.place_labels(shapes, [f"{n}\n000,000" for n in names], unit_px=unit_px, font_px=font_px,
                                   obstacles=obstacles, bounds=bounds)  # fmt: skip
        # As the dashboard: clear of the state labels, then of the offices and off the states where there is
        # room.
        land = shapely.union_all(shapes.geometry.to_numpy())
        shapely.prepare(land)
        placement = {"bounds": bounds, "unit_px": unit_px, "avoid": placed, "markers": obstacles,
                     "land": land}  # fmt: skip
    layers = map_layers(session, frames, offices, points, 1.6 * scale, **placement)
    data = payload(session, frames, names, list(shapes["pcode"]), layers)
    first = data["indicators"][chosen]
    # The dashboard's palette, or the projector's when the view comes from presentation mode.
    palette = HIGH_CONTRAST if present else SEQUENTIAL
    high, unit = first["high_period"], first["unit"]
    outlines = session.dataset.outlines if not schematic else None
    fig, source, mapper, colorbar, office_source, layer_sources = _map(
        maps.with_chips(shapes, placed), palette, high, unit, scale, toolbar=controls, offices=offices,
        placed=placed, bounds=bounds, outlines=outlines,
    )  # fmt: skip
    scale_note = _text("scale_note", 17 * scale)

    title = _text("title", 34 * scale, **{"font-weight": "700"})
    period = _text("period", 30 * scale, **{"font-weight": "700", "color": ACCENT})
    total = _text("total", 22 * scale)
    footer = _text(
        "footer", 15 * scale, color="#333", **{"border-top": "1px solid #bbb", "padding-top": "4px"}
    )
    # A picture shows one indicator; the page can switch to any of the selected streams.
    footer.text = _footer(session, list(data["streams"]) if controls else [first["stream"]], schematic)
    title.sizing_mode = footer.sizing_mode = "stretch_width"

    side_width = round(440 * scale)
    stream = Select(title=i18n.text("export.stream", language),
                    options=[[s, i18n.text(s, language)] for s in data["streams"]],
                    value=first["stream"], name="stream", width=side_width - 20)  # fmt: skip
    indicator = Select(title=i18n.text("widget.indicator", language), value=chosen, name="indicator",
                       options=data["streams"][first["stream"]], width=side_width - 20)  # fmt: skip
    frame = Slider(start=0, end=len(frames.months), value=0, step=1, title=None, show_value=False,
                   name="frame", width=side_width - 20)  # fmt: skip
    previous = Button(label=i18n.text("export.previous", language), name="previous", width=100)
    play = Toggle(label=i18n.text("export.play", language), name="play", width=90, button_type="primary")
    following = Button(label=i18n.text("export.next", language), name="next", width=85)
    whole = Button(label=i18n.text("export.whole", language), name="whole", width=110)

    # The figures travel once, in a model every callback refers to (a string argument would be copied).
    figures = ColumnDataSource({"json": [json.dumps(data)]}, name="figures")
    args = dict(
        payload=figures, source=source, mapper=mapper, colorbar=colorbar, title=title, period=period,
        total=total, indicator=indicator, frame=frame, stream=stream, play=play, offices=office_source,
        layers=layer_sources, scale_note=scale_note,
    )  # fmt: skip
    redraw = CustomJS(args=args, code=UPDATE_JS + "redraw();")
    frame.js_on_change("value", redraw)
    indicator.js_on_change("value", redraw)
    stream.js_on_change("value", CustomJS(args=args, code=UPDATE_JS + STREAM_JS))
    for button, step in ((previous, -1), (following, 1), (whole, 0)):
        button.js_on_event("button_click", CustomJS(args={**args, "step": step}, code=STEP_JS))
    labels = {f"{name}_label": i18n.text(f"export.{name}", language) for name in ("play", "pause")}
    play.js_on_change("active", CustomJS(args={**args, **labels, "interval": PLAY_INTERVAL_MS}, code=PLAY_JS))

    period.styles = {**period.styles, "border-left": f"8px solid {ACCENT}", "padding-left": "10px"}
    missing = [
        f"{name} ({pcode})"
        for pcode, name in zip(
            session.dataset.states["pcode"],
            session.dataset.states["name_ar" if arabic else "name_en"],
            strict=True,
        )
        if pcode in set(shapes.attrs.get("missing") or [])
    ]
    # The key names the lines this file can show: a picture's indicator only, a page's every indicator.
    shown = data["indicators"].values() if controls else [first]
    any_layer = {name: any(e[name]["x0"] for d in shown for e in d["layers"]) for name in ("flow", "ret")}
    key = _key(scale, flows=any_layer["flow"], returns=any_layer["ret"], missing=missing, language=language)
    words = {key: i18n.text(f"crossing.{key}_key", language)
             for key in ("points", "arrows", "arrows_in", "arrows_out")}  # fmt: skip
    key.text += crossing_map.legend_html(session.view, words=words, size=round(18 * scale))
    side = [period, total, scale_note, key]
    if controls:
        side += [frame, row(previous, play, following, whole), stream, indicator]
    parts = []
    if session.view.synthetic:
        emphasis = {"font-weight": "800", "letter-spacing": ".08em", "text-align": "center"}
        banner = _text("synthetic", 20 * scale, background="#b00020", color="#fff", padding="6px", **emphasis)
        banner.text = html.escape(i18n.text("synthetic", language))
        banner.sizing_mode = "stretch_width"
        parts.append(banner)
    if arabic:  # right to left: the words, and the side panel on the map's left
        for div in (title, period, total, scale_note, key, footer):
            div.styles = {**div.styles, "direction": "rtl", "text-align": "right"}
    panel = column(*side, width=side_width, sizing_mode="stretch_height")
    parts += [
        title,
        row(*([panel, fig] if arabic else [fig, panel]), sizing_mode="stretch_both"),
        footer,
    ]
    size = {"sizing_mode": "stretch_both"} if width is None else {"width": width, "height": height}
    layout = column(*parts, **size)
    # The first drawing, and the arrow keys and space bar, once the page is ready.
    ready = CustomJS(args=args, code=UPDATE_JS + "redraw();" + (KEYS_JS if controls else ""))
    return layout, ready


class _InlineOnly(Resources):
    """Bokeh's own JavaScript inlined, and nothing else.

    Bokeh adds the ``__javascript__``/``__css__`` links of every model class that has been *imported*, used
    or not: with Panel imported, that is a relative ``static/extensions/panel/...`` script, which a file on
    disk cannot load. This document uses Bokeh's models only, so it needs none of them.
    """

    def _collect_external_resources(self, resource_attr) -> list[str]:
        return []

    def clone(self, *, components=None) -> Resources:
        copy = super().clone(components=components)  # Bokeh clones into its own class: keep ours
        copy.__class__ = _InlineOnly
        return copy


def html_document(session, *, controls: bool = True, width: int | None = None, height: int | None = None,
                  geometry: str = "auto", present: bool = False) -> str:  # fmt: skip
    """The whole HTML page (Bokeh's JavaScript inlined) for ``session``'s view."""
    from bokeh.document import Document

    layout, ready = build(session, controls=controls, width=width, height=height, geometry=geometry,
                          present=present)  # fmt: skip
    document = Document()
    document.add_root(layout)
    document.js_on_event(DocumentReady, ready)
    document.title = session.view.title
    page = file_html(document, resources=_InlineOnly(mode="inline"), title=session.view.title)
    return page.replace("<head>", '<head>\n<meta name="generator" content="flowmon export html">', 1)


def write_html(session, path: str | os.PathLike, **options) -> Path:
    """Write the self-contained HTML of ``session``'s view to ``path`` atomically."""
    return views.write_export(path, html_document(session, **options))


def export_html(
    data_dir: str | os.PathLike | None,
    filters: Filters | Mapping[str, str] | None,
    path: str | os.PathLike,
    *,
    indicator: str | None = None,
    k: int | None = None,
) -> Path:
    """Write the HTML of the view ``filters`` select over ``data_dir`` (a ``Filters`` or URL-style names)."""
    query = {**views.query_of(filters), **({"indicator": indicator} if indicator else {})}
    return write_html(views.session(data_dir, query, k), path)
