"""Trends and breakdowns: stacked bars over time, ranked horizontal bars.

Pure builders turn published frames into a ``Chart`` (the bars' columns, their categories, title and words);
``figure`` draws a Chart as a plain Bokeh figure and ``redraw`` puts another Chart into a drawn figure in
place: the whole data source and the category range change together in one update, so a filter change
sends a few kilobytes instead of a new figure (and builds no plot on the server).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from bokeh.models import (
    ColumnDataSource,
    FactorRange,
    HoverTool,
    Legend,
    LegendItem,
    NumeralTickFormatter,
    Range1d,
)
from bokeh.plotting import figure as bokeh_figure

from flowmon.views.style import STREAM_COLORS, STREAM_LABELS, format_count

# The axis and hover words in English; a caller passes ``words`` in the page's language (flowmon.i18n).
WORDS = {"people": "people", "period": "Period", "stream": "Stream", "partial": "partial", "label": "Name"}
# Headroom above the longest bar, so its end is not drawn against the frame.
HEADROOM = 1.05
# Characters of period labels (with the gap between two) that lie flat under a trend chart in the dashboard's
# side column: six months ("2026-01" ... "2026-06") do; twelve ran into one another ("2025-012025-02").
FLAT_LABEL_CHARS = 60


@dataclass(frozen=True)
class Chart:
    """What one bar chart shows: bars as columns (``category``, ``bottom``, ``top``, ``color``, ``shown``,
    ``group``), the categories in axis order, and every word drawn."""

    kind: str  # "trend" (vertical, stacked) or "ranked" (horizontal, largest on top)
    title: str
    categories: list[str]
    columns: dict[str, list] = field(repr=False)
    tooltips: list[tuple[str, str]]
    value_label: str
    rotate: bool = False  # long or many periods: the axis labels slanted

    @property
    def value_end(self) -> float:
        """The value axis' end: a zero-length axis makes Bokeh's ticker draw "0 0 0 -0" and, in a live
        chart updated to it, loop without end in the browser (the tab freezes)."""
        top = max(self.columns["top"], default=0)
        return float(top) * HEADROOM if top > 0 else 1.0


def period_labels(periods: pd.Series, freq: str = "M") -> pd.Series:
    """2024-01, 2024Q1 or 2024: short enough for an axis and sortable as text."""
    if periods.empty or isinstance(periods.iloc[0], pd.Period | str):
        return periods.astype(str)
    return pd.to_datetime(periods).dt.to_period(freq).astype(str)


def trend(
    table: pd.DataFrame,
    *,
    freq: str = "M",
    title: str = "",
    labels: dict[str, str] | None = None,
    partial: set[str] | frozenset[str] = frozenset(),
    words: dict[str, str] | None = None,
    colors: dict[str, str] | None = None,
) -> Chart:
    """People per period, stacked by stream. ``table``: period, stream, value, suppressed.

    ``colors`` (with ``labels``) stack other groups than streams: crossings by direction put the direction
    in ``stream``. Streams stack in the palette's order, the same in every period.

    Periods named in ``partial`` (the data covers only some of their months) are marked "(partial)" on the
    axis, so a one-month year is not read as a collapse. A hidden cell stacks as nothing and says ``*``.
    """
    labels = {**STREAM_LABELS, **(labels or {})}
    words = {**WORDS, **(words or {})}
    palette = colors or STREAM_COLORS
    rank = {stream: i for i, stream in enumerate(palette)}
    if table.empty:
        table = pd.DataFrame({"period": [], "stream": [], "value": [], "suppressed": []})
    names = period_labels(table["period"], freq)
    data = pd.DataFrame({
        "category": [f"{name} ({words['partial']})" if name in partial else name for name in names],
        "stream": table["stream"].to_numpy(),
        "value": table["value"].astype("Float64").fillna(0).to_numpy(dtype=float),
        "shown": [format_count(v) for v in table["value"]],
        "order": table["stream"].map(rank).to_numpy(),
        "time": pd.Series(table["period"]).astype(str).to_numpy(),
    })  # fmt: skip
    data = data[data["stream"].isin(list(palette))].sort_values(["time", "order"], kind="stable")
    top = data.groupby("category", sort=False)["value"].cumsum()
    columns = {
        "category": data["category"].tolist(),
        "bottom": (top - data["value"]).tolist(),
        "top": top.tolist(),
        "color": [palette[s] for s in data["stream"]],
        "shown": data["shown"].tolist(),
        "group": [labels[s] for s in data["stream"]],
    }
    categories = list(dict.fromkeys(columns["category"]))
    tooltips = [
        (words["period"], "@category"),
        (words["stream"], "@group"),
        (words["people"].capitalize(), "@shown"),
    ]
    rotate = sum(len(name) + 2 for name in categories) > FLAT_LABEL_CHARS
    return Chart("trend", title, categories, columns, tooltips, words["people"], rotate=rotate)


def ranked_bars(
    table: pd.DataFrame,
    label: str,
    *,
    title: str = "",
    color: str = "#4d4d4d",
    top: int = 10,
    words: dict[str, str] | None = None,
) -> Chart:
    """The ``top`` largest rows of ``table`` (``label`` column, ``value``, ``suppressed``), largest on top.

    Suppressed rows stay in the chart as a zero-length bar marked ``*`` so a reader sees they exist. Two
    rows worded alike (two unknown countries) stay two bars.
    """
    words = {**WORDS, **(words or {})}
    data = pd.DataFrame({
        "name": table[label].astype(str).to_numpy(),
        "value": table["value"].astype("Float64").fillna(0).to_numpy(dtype=float),
        "shown": [format_count(v) for v in table["value"]],
    })  # fmt: skip
    data = data.sort_values("value", ascending=False, kind="stable").head(top)
    data = data.assign(name=_distinct(data["name"].tolist())).iloc[::-1]  # numbered from the largest
    names = data["name"].tolist()
    columns = {
        "category": names,
        "bottom": [0.0] * len(names),
        "top": data["value"].tolist(),
        "color": [color] * len(names),
        "shown": data["shown"].tolist(),
        "group": names,
    }
    tooltips = [(label.replace("_", " ").capitalize(), "@category"), (words["people"].capitalize(), "@shown")]
    return Chart("ranked", title, names, columns, tooltips, words["people"])


def _distinct(names: list[str]) -> list[str]:
    """Category names once each (a Bokeh axis refuses a name twice): a repeat gets its ordinal."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def figure(chart: Chart, *, height: int = 300):
    """A Bokeh figure drawing ``chart``; ``redraw`` puts another chart of the same kind into it."""
    source = ColumnDataSource(_source_data(chart))
    categories = FactorRange(factors=list(chart.categories))
    values = Range1d(start=0, end=chart.value_end)
    common = {"height": height, "sizing_mode": "stretch_width", "toolbar_location": None, "tools": "",
              "title": chart.title, "min_border_left": 8}  # fmt: skip
    if chart.kind == "trend":
        plot = bokeh_figure(x_range=categories, y_range=values, **common)
        bars = plot.vbar(x="category", bottom="bottom", top="top", width=0.8, source=source,
                         fill_color="color", line_color=None)  # fmt: skip
        # Grouped in the browser from the source's "group" column: streams come and go with the data.
        key = LegendItem(label={"field": "group"}, renderers=[bars])
        plot.add_layout(Legend(items=[key], orientation="horizontal", location="center", border_line_alpha=0),
                        "above")  # fmt: skip
        value_axis, category_grid = plot.yaxis, plot.xgrid
    else:
        plot = bokeh_figure(y_range=categories, x_range=values, **common)
        bars = plot.hbar(y="category", left="bottom", right="top", height=0.8, source=source,
                         fill_color="color", line_color=None)  # fmt: skip
        value_axis, category_grid = plot.xaxis, plot.ygrid
    plot.add_tools(HoverTool(renderers=[bars], tooltips=list(chart.tooltips)))
    value_axis.formatter = NumeralTickFormatter(format="0,0")  # "200,000", not "2.000e+5"
    for axis in value_axis:  # people are whole: on a 0-1 axis (all bars 0 or suppressed) no "0 0 0 1 1 1"
        axis.ticker.min_interval = 1
    value_axis.axis_label = chart.value_label
    category_grid.grid_line_color = None
    plot.outline_line_color = None
    _set_rotation(plot, chart)
    return plot


def redraw(plot, chart: Chart) -> None:
    """Put ``chart`` into a figure ``figure`` drew: data, categories, value range and words in place.

    The source's data is replaced whole (bars come and go), never patched: Bokeh can paint a patched bar
    glyph against the previous row count ("Size mismatch" in the browser).
    """
    categories, values = (
        (plot.x_range, plot.y_range) if chart.kind == "trend" else (plot.y_range, plot.x_range)
    )
    renderer = plot.renderers[0]
    renderer.data_source.data = _source_data(chart)
    if list(categories.factors) != list(chart.categories):
        categories.factors = list(chart.categories)
    values.end = chart.value_end
    plot.title.text = chart.title
    next(tool for tool in plot.tools if isinstance(tool, HoverTool)).tooltips = list(chart.tooltips)
    (plot.yaxis if chart.kind == "trend" else plot.xaxis).axis_label = chart.value_label
    _set_rotation(plot, chart)


def _source_data(chart: Chart) -> dict[str, list]:
    return {key: list(values) for key, values in chart.columns.items()}


def _set_rotation(plot, chart: Chart) -> None:
    if chart.kind == "trend":
        plot.xaxis.major_label_orientation = math.pi / 3 if chart.rotate else "horizontal"
