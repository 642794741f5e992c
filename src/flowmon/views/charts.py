"""Trends and breakdowns: stacked bars over time, ranked horizontal bars. Pure: frames in, elements out."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
from bokeh.models import NumeralTickFormatter

from flowmon.views.style import STREAM_COLORS, STREAM_LABELS, format_count

# The axis and hover words in English; a caller passes ``words`` in the page's language (flowmon.i18n).
WORDS = {"people": "people", "period": "Period", "stream": "Stream", "partial": "partial"}


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
    height: int = 300,
    labels: dict[str, str] | None = None,
    partial: set[str] | frozenset[str] = frozenset(),
    words: dict[str, str] | None = None,
    colors: dict[str, str] | None = None,
) -> hv.Bars:
    """People per period, stacked by stream. ``table``: period, stream, value, suppressed.

    ``colors`` (with ``labels``) stack other groups than streams: crossings by direction put the direction
    in ``stream``.

    Periods named in ``partial`` (the data covers only some of their months) are marked "(partial)" on the
    axis, so a one-month year is not read as a collapse. An empty table gives one empty bar (HoloViews
    cannot stack nothing), so a live chart can stay drawn.
    """
    labels = {**STREAM_LABELS, **(labels or {})}
    words = {**WORDS, **(words or {})}
    if table.empty:
        first = next(iter(colors or STREAM_COLORS))
        table = pd.DataFrame({"period": ["–"], "stream": [first], "value": [0], "suppressed": [False]})
    names = period_labels(table["period"], freq)
    data = table.assign(
        period=[f"{name} ({words['partial']})" if name in partial else name for name in names],
        stream_label=table["stream"].map(labels),
        shown=[format_count(v) for v in table["value"]],
        value=table["value"].fillna(0),
    )
    palette = colors or STREAM_COLORS
    streams = [s for s in palette if s in set(table["stream"])]
    cmap = {labels[s]: palette[s] for s in streams}
    return _nonzero_range(hv.Bars(data, ["period", "stream_label"], ["value", "shown"])).opts(
        stacked=True,
        cmap=cmap,
        color="stream_label",
        responsive=True,
        height=height,
        title=title,
        xlabel="",
        ylabel=words["people"],
        xrotation=60 if data["period"].nunique() > 12 else 0,
        legend_position="top",
        legend_opts={"orientation": "horizontal"},
        tools=["hover"],
        hover_tooltips=[
            (words["period"], "@period"),
            (words["stream"], "@stream_label"),
            (words["people"].capitalize(), "@shown"),
        ],
        line_color=None,
        yformatter=NumeralTickFormatter(format="0,0"),
        show_grid=True,
        gridstyle={"xgrid_line_alpha": 0},
    )


def ranked_bars(
    table: pd.DataFrame,
    label: str,
    *,
    title: str = "",
    color: str = "#4d4d4d",
    top: int = 10,
    height: int = 280,
    words: dict[str, str] | None = None,
) -> hv.Bars:
    """The ``top`` largest rows of ``table`` (``label`` column, ``value``, ``suppressed``), largest on top.

    Suppressed rows stay in the chart as a zero-length bar marked ``*`` so a reader sees they exist.
    """
    words = {**WORDS, **(words or {})}
    data = table.assign(shown=[format_count(v) for v in table["value"]], value=table["value"].fillna(0))
    data = data.sort_values("value", ascending=False, kind="stable").head(top).iloc[::-1]
    return _nonzero_range(hv.Bars(data, label, ["value", "shown"])).opts(
        invert_axes=True,
        color=color,
        responsive=True,
        height=height,
        title=title,
        xlabel="",
        ylabel=words["people"],
        tools=["hover"],
        hover_tooltips=[
            (label.replace("_", " ").capitalize(), f"@{{{label}}}"),
            (words["people"].capitalize(), "@shown"),
        ],
        line_color=None,
        # The value axis (axes inverted): "200,000", not "2.000e+5".
        xformatter=NumeralTickFormatter(format="0,0"),
    )


def _nonzero_range(bars: hv.Bars) -> hv.Bars:
    """Bars whose values are all zero get a value range of 0 to 1.

    A zero-length range makes Bokeh's ticker draw "0 0 0 -0" and, when a live chart is updated to it from a
    drawn one, loop without end in the browser (the tab freezes).
    """
    values = bars.dimension_values("value")
    if len(values) and (values != 0).any():
        return bars
    return bars.redim.range(value=(0, 1))
