"""The live map as a plain Bokeh figure: every layer of ``flowmon.views.map`` drawn from its columns.

HoloViews took each page about 250 ms (official boundaries: 350 ms) to plot the map, most of it working out
ranges and hover columns of the states' polygons that the map never needed; a plain figure costs a few
tens of milliseconds. Every layer is one glyph on one source holding exactly the columns its column
function gives (``state_columns``, ``office_columns``, ``flow_columns``, ``return_columns``,
``leader_columns``, ``crossing_map.layer_columns``), so a filter change writes those functions' output
straight into the sources (``flowmon.mapview``). Every layer is drawn from the start, empty where a view
has no rows for it: an empty glyph costs next to nothing, and the map never has to be drawn again when a
view first shows lines or arrows.

The figure fills the width it is given (and, in presentation mode, the height) at the map's own aspect:
its ranges follow an invisible box, the ``extent``, and Bokeh widens them to the plot's shape
(``match_aspect``), so nothing of the map is cut on a narrow screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    DataRange1d,
    GlyphRenderer,
    HoverTool,
    LogColorMapper,
    MultiPolygons,
    Scatter,
    Segment,
    Text,
)
from bokeh.plotting import figure

from flowmon.views import crossing_map
from flowmon.views import map as maps
from flowmon.views.style import (
    BORDER_COLOR,
    CONTEXT_COLOR,
    CONTEXT_LINE_COLOR,
    DIRECTION_COLORS,
    OFFICE_COLOR,
    SEA_COLOR,
    STREAM_COLORS,
    SUPPRESSED_COLOR,
    ZERO_COLOR,
)

# The layers a change rewrites whole (rows come and go), in drawing order: displacement lines and their
# heads, return arrows, their heads and country labels, then the crossing layers (``crossing_map.LAYERS``).
FLOW_LAYERS = ("flow", "return", "crossing")
GROUP_LAYERS = {
    "flow": ("flow_lines", "flow_heads"),
    "return": ("return_lines", "return_heads", "return_labels"),
    "crossing": crossing_map.LAYERS,  # out, out heads, in, in heads, points
}
OFFICE_TOOLTIPS = [("Office", "@name (@code)"), ("Type", "@type"), ("Cases", "@shown"), ("", "@status")]
LAYER_TOOLTIPS = {  # by ``GROUP_LAYERS`` kind
    "flow_lines": [("From", "@from"), ("To", "@to"), ("People", "@people")],
    "return_lines": [("Returned to", "@country"), ("People", "@people")],
    "cross_out": [("Out of Sudan at", "@point"), ("People", "@people")],
    "cross_in": [("Into Sudan at", "@point"), ("People", "@people")],
    "cross_points": [("Crossing point", "@name (@code)"), ("", "@name_ar"), ("Shown", "@shown"),
                     ("In", "@in"), ("Out", "@out"), ("Transit", "@transit")],
}  # fmt: skip
RETURN_LABEL_COLOR = "#7a4d00"


@dataclass
class MapFigure:
    """A drawn map: the figure, and per layer name the glyph renderer whose source a change rewrites.

    Layer names: ``states``, ``labels``, ``offices``, ``leaders``, ``extent``, and per ``FLOW_LAYERS`` name
    its layers numbered in drawing order (``flow0``, ``flow1``, ``return0`` .. ``return2``, ``crossing0`` ..
    ``crossing4``).
    """

    figure: figure
    layers: dict[str, GlyphRenderer]
    color_mapper: LogColorMapper
    colorbar: ColorBar

    def source(self, name: str) -> ColumnDataSource:
        return self.layers[name].data_source

    def flow_sources(self, name: str) -> list[ColumnDataSource]:
        """The sources of the ``FLOW_LAYERS`` group ``name``, in drawing order."""
        return [self.source(f"{name}{i}") for i in range(len(GROUP_LAYERS[name]))]


def extent_columns(extent: tuple[float, float, float, float]) -> dict[str, list[float]]:
    """The corners of what the map must show: its ranges follow them (``match_aspect`` widens one side)."""
    xmin, ymin, xmax, ymax = extent
    return {"x": [xmin, xmax], "y": [ymin, ymax]}


def draw(
    *,
    states: dict,
    labels: dict,
    offices: dict,
    flows: dict[str, list[maps.Columns]],
    leaders: maps.Columns,
    extent: tuple[float, float, float, float],
    outlines: dict | None = None,
    palette: list[str],
    unit: str,
    color_high: float,
    label_px: float,
    scale: float = 1.0,
    schematic: bool,
    present: bool = False,
    height: int = 640,
) -> MapFigure:
    """The map, bottom to top: neighbouring countries (``outlines``: ``polygon_columns``), the states
    (``states``: ``polygon_columns`` with ``pcode, name_en, name_ar`` and ``state_columns``' value
    columns), lines and arrows (``flows``: per ``FLOW_LAYERS`` name its layers' columns), offices, leader
    lines, labels; hover on states, offices, lines and points. The states' source's selection fades the
    states not selected.

    ``present``: the plot fills its container both ways (a projector), else the width at ``height``.
    """
    fig = figure(
        x_range=DataRange1d(range_padding=0),
        y_range=DataRange1d(range_padding=0),
        x_axis_type=None,
        y_axis_type=None,
        match_aspect=True,
        aspect_scale=1,
        tools="pan,wheel_zoom,box_zoom,reset,save",
        active_scroll="wheel_zoom",
        toolbar_location="above",
        background_fill_color="#ffffff" if schematic else SEA_COLOR,
        border_fill_color="#ffffff",
        min_border=4,
        sizing_mode="stretch_both" if present else "stretch_width",
        **({} if present else {"height": height}),
    )  # fmt: skip
    fig.toolbar.logo = None
    layers: dict[str, GlyphRenderer] = {}
    if outlines is not None:
        context = MultiPolygons(fill_color=CONTEXT_COLOR, line_color=CONTEXT_LINE_COLOR, line_width=0.8)
        fig.add_glyph(ColumnDataSource(outlines), context)
    # Caseloads are skewed (one state can hold most of them): a log scale keeps the rest readable. Zero is
    # "none", not "a few": pale, below the scale; a state without a value grey.
    mapper = LogColorMapper(palette=palette, low=1, high=color_high, low_color=ZERO_COLOR,
                            nan_color=SUPPRESSED_COLOR)  # fmt: skip
    style = {"fill_color": {"field": "value", "transform": mapper}, "line_color": BORDER_COLOR,
             "line_width": 1.5, "hatch_pattern": {"field": "hatch"}, "hatch_color": "#333333",
             "hatch_scale": 10}  # fmt: skip
    layers["states"] = fig.add_glyph(
        ColumnDataSource(states), MultiPolygons(**style, hatch_alpha=0.7),
        # A selected state stands out: the others fade.
        nonselection_glyph=MultiPolygons(**style, fill_alpha=0.55, line_alpha=0.55, hatch_alpha=0.4),
    )  # fmt: skip
    hovered = {"states": maps.HOVER_STATE}
    for name in FLOW_LAYERS:
        for i, (kind, columns) in enumerate(zip(GROUP_LAYERS[name], flows[name], strict=True)):
            layers[f"{name}{i}"] = fig.add_glyph(ColumnDataSource(columns), _layer_glyph(kind, scale))
            if kind in LAYER_TOOLTIPS:
                hovered[f"{name}{i}"] = LAYER_TOOLTIPS[kind]
    offices_glyph = Scatter(
        size="size", fill_color="fill", fill_alpha=0.75, line_color=OFFICE_COLOR, line_width=2
    )
    layers["offices"] = fig.add_glyph(ColumnDataSource(offices), offices_glyph)
    hovered["offices"] = OFFICE_TOOLTIPS
    leader = Segment(line_color="#333333", line_width=1, line_alpha=0.8)
    layers["leaders"] = fig.add_glyph(ColumnDataSource(leaders), leader)
    # Each label on a chip of its state's own colour: unseen on the state, it keeps the words legible
    # where flow lines pass under them.
    label = {"text": "label", "text_color": "ink", "text_font_size": f"{label_px}px",
             "text_font_style": "bold", "text_align": "center", "text_baseline": "middle", "padding": 1,
             "background_fill_color": {"field": "value", "transform": mapper}}  # fmt: skip
    # On a faded state (another is selected) a chip would stand out: none.
    layers["labels"] = fig.add_glyph(ColumnDataSource(labels), Text(**label),
                                     nonselection_glyph=Text(**label, background_fill_alpha=0))  # fmt: skip
    # An invisible box the size of what must show: the ranges follow it, not the callouts or arrows.
    layers["extent"] = fig.add_glyph(
        ColumnDataSource(extent_columns(extent)), Scatter(size=1, fill_alpha=0, line_alpha=0)
    )
    fig.x_range.renderers = fig.y_range.renderers = [layers["extent"]]
    for name, tooltips in hovered.items():
        fig.add_tools(HoverTool(renderers=[layers[name]], tooltips=tooltips))
    colorbar = ColorBar(
        color_mapper=mapper, title=unit, formatter=maps.count_format(), ticker=maps.color_ticker(color_high),
        label_standoff=6, **colorbar_style(label_px if present else None),
    )  # fmt: skip
    fig.add_layout(colorbar, "right")
    return MapFigure(fig, layers, mapper, colorbar)


def colorbar_style(label_px: float | None) -> dict:
    """The colour bar's type and width: Bokeh's on the dashboard; on a projector a little larger than the
    states' labels (``label_px``), which follow the screen's size."""
    if label_px is None:
        return {"width": 14}
    size = f"{round(1.15 * label_px)}px"
    return {"major_label_text_font_size": size, "title_text_font_size": size, "width": round(1.5 * label_px)}


def _layer_glyph(kind: str, scale: float):
    """The glyph of a ``GROUP_LAYERS`` kind: lines, their arrowheads, the return arrows' labels or crossing
    points (drawn from the columns its column function gives)."""
    if kind == "cross_points":
        return Scatter(size="size", marker="diamond", fill_color=DIRECTION_COLORS["all"],
                       line_color="#0b3954", line_width=1.5 * scale, fill_alpha=0.85)  # fmt: skip
    if kind == "return_labels":
        size = f"{maps.return_label_pt(scale)}pt"
        return Text(text="text", text_color=RETURN_LABEL_COLOR, text_font_size=size, text_font_style="bold",
                    text_align="center", text_baseline="middle")  # fmt: skip
    if kind.startswith("cross_"):
        color, alpha, head = DIRECTION_COLORS[kind.split("_")[1]], 0.8, 13 * scale
    else:
        stream = "displacement" if kind.startswith("flow") else "return"
        color, alpha, head = STREAM_COLORS[stream], 0.75, 14 * scale
    if kind.endswith("_heads"):  # Bokeh's triangle points up; ``angle`` (radians) turns it along its line
        return Scatter(angle="angle", marker="triangle", size=head, fill_color=color, line_color="white")
    return Segment(line_width="width", line_color=color, line_alpha=alpha)
