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

from flowmon import __version__, i18n, viewdata
from flowmon.datastore import INDICATORS
from flowmon.demo import SYNTHETIC_LABEL
from flowmon.export import view as views
from flowmon.export.frames import MapFrames, map_frames
from flowmon.filters import INDICATOR_STREAM, Filters
from flowmon.views import map as maps
from flowmon.views.style import (
    BORDER_COLOR,
    HIGH_CONTRAST,
    SEQUENTIAL,
    STREAM_LABELS,
    STREAM_UNITS,
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
    ink.push(dark ? "#ffffff" : "#111111");
  }
  source.data = Object.assign({}, source.data, {value: value, shown: shown, hatch: hatch, label: label,
                                                 ink: ink});
  mapper.high = high;
  colorbar.title = d.unit;
  title.text = d.titles[f];
  period.text = data.frames[f] + '<div style="font-size:55%;font-weight:400;color:#444">' +
                data.captions[f] + "</div>";
  const t = d.totals[f];
  total.text = d.label + ": <b>" + (t === null ? "* (hidden)" : fmt(t)) + "</b> " + d.unit;
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
  play.label = "❚❚ Pause";
  if (frame.value === 0) { frame.value = 1; }
  window.__flowmon_timer = setInterval(() => {
    frame.value = frame.value >= frame.end ? 1 : frame.value + 1;
  }, interval);
} else {
  clearInterval(window.__flowmon_timer);
  play.label = "▶ Play";
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
    return [viewdata.period_words(view.filters.period), *(i18n.month_name(pd.Period(m, "M")) for m in months)]


def _captions(months: tuple[str, ...]) -> list[str]:
    return ["whole period", *(f"month {i} of {len(months)}" for i in range(1, len(months) + 1))]


def payload(session, frames: MapFrames, names: list[str]) -> dict:
    """What the page's JavaScript reads: frame names, state names, and per indicator its figures."""
    indicators = {}
    streams: dict[str, list[list[str]]] = {}
    for indicator, figures in frames.indicators.items():
        stream = INDICATOR_STREAM[indicator]
        streams.setdefault(stream, []).append([indicator, INDICATORS[indicator]])
        months = figures.values[1:]
        indicators[indicator] = {
            "stream": stream,
            "label": html.escape(STREAM_LABELS[stream]),
            "unit": STREAM_UNITS[stream],
            "values": [[_number(v) for v in row_] for row_ in figures.values],
            "suppressed": figures.suppressed.tolist(),
            "totals": [_number(v) for v in figures.totals],
            "titles": [html.escape(t) for t in figures.titles],
            # One colour scale for all months (so that months compare), its own for the whole period.
            "high_period": _high(figures.values[0]),
            "high_month": _high(months),
        }
    return {
        "frames": [html.escape(n) for n in _frame_names(session, frames.months)],
        "captions": _captions(frames.months),
        "names": names,
        "streams": streams,
        "indicators": indicators,
        "dark_from": DARK_FROM,
    }


def _high(values: np.ndarray) -> float:
    """The top of the log colour scale (which starts at 1; zero is drawn apart, below it)."""
    top = np.nanmax(values) if np.isfinite(values).any() else 0.0
    return float(top) if top > 1 else 2.0


def _rings(geometry) -> list[list[list[float]]]:
    """A (multi)polygon as Bokeh ``multi_polygons`` wants it: polygons, each its exterior then its holes."""
    parts = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
    return [[ring.coords for ring in (part.exterior, *part.interiors)] for part in parts]


def _polygon_columns(shapes: gpd.GeoDataFrame) -> dict[str, list]:
    xs, ys = [], []
    for geometry in shapes.geometry:
        polygons = _rings(geometry)
        xs.append([[[float(x) for x, _ in ring] for ring in polygon] for polygon in polygons])
        ys.append([[[float(y) for _, y in ring] for ring in polygon] for polygon in polygons])
    return {"xs": xs, "ys": ys}


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
    sources = views.provenance(view)
    lines = []
    shown = [s for s in dict.fromkeys(streams) if s in sources]
    if shown:
        text = "; ".join(
            f"{STREAM_LABELS[s]}: {sources[s]['source']}, as of {sources[s]['as_of'] or 'unknown'}"
            for s in shown
        )
        lines.append(f"<b>Sources</b>: {html.escape(text)}.")
    lines.append(
        html.escape(view.footnote) + " Each month shows exactly what the dashboard shows for that month."
    )
    lines.append(
        "Map: schematic tiles, one equal hexagon per state (position and size are not geographic)."
        if schematic
        else "Map: OCHA COD-AB admin-1 boundaries."
    )
    lines.append(
        f"Only aggregated, protected figures are in this file; no individual record. Exported by flowmon "
        f"{__version__} on {dt.date.today():%d %B %Y}."
    )
    return "<br>".join(lines)


FONT = "Helvetica, Arial, sans-serif"


def _text(name: str, px: float, **styles: str) -> Div:
    styles = {"font-family": FONT, "color": "#111", "font-size": f"{round(px)}px", **styles}
    # disable_math: Bokeh would fetch MathJax from a CDN for a text that looks like TeX.
    return Div(text="", name=name, disable_math=True, styles=styles)


def _map(
    shapes: gpd.GeoDataFrame, palette: list[str], high: float, unit: str, scale: float, *, toolbar: bool
):
    """The state map: polygons coloured by ``value`` (hatched where hidden), labels, hover, colour bar."""
    names = shapes["name_en"].astype(str).tolist()
    points = maps.label_points(shapes)
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
        }
    )
    # As on the dashboard: a log scale (one state can hold most people), zero pale and apart below it,
    # hidden grey and hatched.
    mapper = LogColorMapper(
        palette=palette, low=1, high=high, low_color=ZERO_COLOR, nan_color=SUPPRESSED_COLOR
    )
    fig = figure(
        # Data ranges fitted to the states, a degree as long across as up, whatever the page's shape.
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
    states = fig.multi_polygons(
        xs="xs", ys="ys", source=source, name="states",
        fill_color={"field": "value", "transform": mapper}, line_color=BORDER_COLOR, line_width=2,
        hatch_pattern={"field": "hatch"}, hatch_color="#555555", hatch_alpha=0.45, hatch_scale=18,
    )  # fmt: skip
    fig.text(
        x="lx", y="ly", text="label", source=source, text_align="center", text_baseline="middle",
        text_font_size=f"{round(15 * scale)}px", text_font_style="bold", text_color="ink", name="labels",
    )  # fmt: skip
    fig.add_tools(HoverTool(renderers=[states], tooltips=maps.HOVER_STATE))
    colorbar = ColorBar(
        color_mapper=mapper, title=unit, title_text_font_size=f"{round(16 * scale)}px",
        major_label_text_font_size=f"{round(15 * scale)}px", width=round(22 * scale), name="colorbar",
        formatter=NumeralTickFormatter(format="0,0"),
    )  # fmt: skip
    fig.add_layout(colorbar, "right")
    return fig, source, mapper, colorbar


def _key(scale: float) -> Div:
    """What the pale states mean (the colour bar shows the counts; no figure is hidden)."""
    size = f"{round(22 * scale)}px"
    swatch = f"display:inline-block;width:{size};height:{size};vertical-align:middle;margin-right:8px;"
    key = _text("key", 18 * scale, **{"line-height": "1.7"})
    key.text = (
        f'<div><span style="{swatch}background:{ZERO_COLOR};border:1px solid #999"></span>none (0)</div>'
    )

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
    data = payload(session, frames, [maps.wrap(name) for name in shapes["name_en"].astype(str)])
    scale = (height or 1080) / 1080
    first = data["indicators"][chosen]
    # The dashboard's palette, or the projector's when the view comes from presentation mode.
    palette = HIGH_CONTRAST if present else SEQUENTIAL
    high, unit = first["high_period"], first["unit"]
    fig, source, mapper, colorbar = _map(shapes, palette, high, unit, scale, toolbar=controls)

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
    stream = Select(title="Stream", options=[[s, STREAM_LABELS[s]] for s in data["streams"]],
                    value=first["stream"], name="stream", width=side_width - 20)  # fmt: skip
    indicator = Select(title="Map shows", options=data["streams"][first["stream"]], value=chosen,
                       name="indicator", width=side_width - 20)  # fmt: skip
    frame = Slider(start=0, end=len(frames.months), value=0, step=1, title=None, show_value=False,
                   name="frame", width=side_width - 20)  # fmt: skip
    previous = Button(label="◀ Previous", name="previous", width=100)
    play = Toggle(label="▶ Play", name="play", width=90, button_type="primary")
    following = Button(label="Next ▶", name="next", width=85)
    whole = Button(label="Whole period", name="whole", width=110)

    # The figures travel once, in a model every callback refers to (a string argument would be copied).
    figures = ColumnDataSource({"json": [json.dumps(data)]}, name="figures")
    args = dict(
        payload=figures, source=source, mapper=mapper, colorbar=colorbar, title=title, period=period,
        total=total, indicator=indicator, frame=frame, stream=stream, play=play,
    )  # fmt: skip
    redraw = CustomJS(args=args, code=UPDATE_JS + "redraw();")
    frame.js_on_change("value", redraw)
    indicator.js_on_change("value", redraw)
    stream.js_on_change("value", CustomJS(args=args, code=UPDATE_JS + STREAM_JS))
    for button, step in ((previous, -1), (following, 1), (whole, 0)):
        button.js_on_event("button_click", CustomJS(args={**args, "step": step}, code=STEP_JS))
    play.js_on_change("active", CustomJS(args={**args, "interval": PLAY_INTERVAL_MS}, code=PLAY_JS))

    period.styles = {**period.styles, "border-left": f"8px solid {ACCENT}", "padding-left": "10px"}
    side = [period, total, _key(scale)]
    if controls:
        side += [frame, row(previous, play, following, whole), stream, indicator]
    parts = []
    if session.view.synthetic:
        emphasis = {"font-weight": "800", "letter-spacing": ".08em", "text-align": "center"}
        banner = _text("synthetic", 20 * scale, background="#b00020", color="#fff", padding="6px", **emphasis)
        banner.text = f"{SYNTHETIC_LABEL} — generated by flowmon demo, not real cases"
        banner.sizing_mode = "stretch_width"
        parts.append(banner)
    parts += [
        title,
        row(fig, column(*side, width=side_width, sizing_mode="stretch_height"), sizing_mode="stretch_both"),
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
