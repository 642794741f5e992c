"""Cross-border movements on the map: crossing points sized by people, arrows across the border by direction.

Pure, as ``flowmon.views.map``: a view's published tables in, HoloViews elements (or their columns) out,
shared by the live map (``flowmon.mapview``) and the HTML/PNG export, so both draw the same thing. The
elements (``layers``) are built from the columns (``layer_columns``) that the live map writes on a change.
Every number is a published cell of ``flowmon.crossings.publish`` (``by_point``): nothing is added up here.

Where a point is drawn: at its coordinates on official boundaries; on the schematic tiles (where position is
not geographic) at the edge of its state's tile that faces the country across, several points of one state
fanned out. Arrows start at the point and head towards the country across (out of Sudan) or come from it
(into Sudan), with their width by people; transit is in the point's size and hover only, it crosses no border.
"""

from __future__ import annotations

import functools
import math

import holoviews as hv
import numpy as np
import pandas as pd

from flowmon import crossings
from flowmon.views import map as maps
from flowmon.views.style import DIRECTION_COLORS, format_count

POINT_COLUMNS = ["x", "y", "code", "name", "name_ar", "in", "out", "transit", "all", "shown", "size"]
ARROW_COLUMNS = ["x0", "y0", "x1", "y1", "point", "people", "width"]
ARROW_DIRECTIONS = ("out", "in")
# Arrow length: degrees on official boundaries (short enough to stay inside the map's frame at the northern
# border); a share of the tile spacing on tiles.
ARROW_DEGREES = 0.8
ARROW_TILES = 0.55


def positions(schematic: bool) -> pd.DataFrame:
    """``code, x, y, lon, lat`` of every crossing point as the map draws it."""
    return _positions(schematic).copy()


@functools.cache  # fixed reference geometry: worked out once per process, not per session and change
def _positions(schematic: bool) -> pd.DataFrame:
    table = crossings.points()
    if not schematic:
        return table.assign(x=table["lon"], y=table["lat"])[["code", "x", "y", "lon", "lat"]]
    from flowmon.geo.countries import country_point
    from flowmon.geo.tiles import tile_spacing, tiles

    centres = tiles().set_index("pcode")[["x", "y"]]
    ring = tile_spacing() * 0.36
    rows = []
    for pcode, group in table.groupby("state_pcode", sort=False):
        cx, cy = centres.loc[pcode, "x"], centres.loc[pcode, "y"]
        for k, point in enumerate(group.itertuples(index=False)):
            lon, lat = country_point(point.country_across)
            angle = math.atan2(lat - point.lat, lon - point.lon) + (k - (len(group) - 1) / 2) * 0.45
            rows.append((point.code, cx + ring * math.cos(angle), cy + ring * math.sin(angle)))
    placed = pd.DataFrame(rows, columns=["code", "x", "y"]).set_index("code").loc[table["code"]]
    return table.assign(x=placed["x"].to_numpy(), y=placed["y"].to_numpy())[["code", "x", "y", "lon", "lat"]]


def has_points(view) -> bool:
    """Whether ``view`` has published crossing points (every crossing layer is empty otherwise)."""
    table = getattr(view, "crossings", {}).get("by_point")
    return table is not None and not table.empty


def point_values(view) -> pd.DataFrame:
    """``flowmon.crossings.map_points`` of the view's published ``by_point`` (no row when the view shows no
    crossings)."""
    table = getattr(view, "crossings", {}).get("by_point")
    if table is None or table.empty:
        return pd.DataFrame(columns=["code", "name", "name_ar", *crossings.MEASURES])
    return crossings.map_points(table)


def point_table(
    view, placed: pd.DataFrame, *, scale: float = 1.0, values: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The points layer's rows (``POINT_COLUMNS``): each selected point, sized by the people of the view's
    direction (area by people: the square root of the share of the largest). ``values``: ``point_values``
    of the view, when the caller has it."""
    values = point_values(view) if values is None else values
    table = values.merge(placed[["code", "x", "y"]], on="code", how="inner")
    measure = view.crossing_direction
    shown = table[measure].astype("float64") if len(table) else pd.Series(dtype="float64")
    top = shown.max(skipna=True)
    share = np.sqrt(shown.fillna(0) / top) if pd.notna(top) and top > 0 else shown.fillna(0) * 0
    table = table.assign(shown=[format_count(v) for v in shown], size=((7 + 28 * share) * scale).to_numpy())
    for column in crossings.MEASURES:
        table[column] = [format_count(v) for v in table[column]]
    return table.reindex(columns=POINT_COLUMNS)


def point_markers(columns: maps.Columns, *, scale: float = 1.0) -> hv.Points:
    """Crossing points (``point_table``'s columns): diamonds sized by people, hover with every direction."""
    return hv.Points(pd.DataFrame(columns), ["x", "y"], POINT_COLUMNS[2:], label="crossing_points").opts(
        marker="diamond",
        size="size",
        fill_color=DIRECTION_COLORS["all"],
        line_color="#0b3954",
        line_width=1.5 * scale,
        fill_alpha=0.85,
        tools=["hover"],
        hover_tooltips=[("Crossing point", "@name (@code)"), ("", "@name_ar"), ("Shown", "@shown"),
                        ("In", "@in"), ("Out", "@out"), ("Transit", "@transit")],
    )  # fmt: skip


def arrow_tables(
    view, placed: pd.DataFrame, *, length: float, scale: float = 1.0, values: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Per direction (out, in), the arrows' rows (``ARROW_COLUMNS``): from ``flowmon.crossings.arrows``,
    moved to where the point is drawn and ``length`` long; width by people over both directions.
    ``values``: ``point_values`` of the view, when the caller has it."""
    table = getattr(view, "crossings", {}).get("by_point")
    empty = pd.DataFrame({c: [] for c in ARROW_COLUMNS})
    if table is None or table.empty:
        return {d: empty for d in ARROW_DIRECTIONS}
    arrows = crossings.point_arrows(point_values(view) if values is None else values, length=length)
    at = placed.set_index("code")
    shift_x = (at["x"] - at["lon"]).reindex(arrows["point"]).to_numpy()
    shift_y = (at["y"] - at["lat"]).reindex(arrows["point"]).to_numpy()
    values = arrows["value"].astype("float64")
    top = values.max() if len(values) else 0.0
    width = (1.5 + 12 * np.sqrt(values / top)).to_numpy() if top > 0 else np.full(len(values), 1.5)
    moved = pd.DataFrame({
        "x0": arrows["x0"] + shift_x, "y0": arrows["y0"] + shift_y,
        "x1": arrows["x1"] + shift_x, "y1": arrows["y1"] + shift_y,
        "point": arrows["point"].astype(str), "people": [format_count(v) for v in values],
        "width": width * scale, "direction": arrows["direction"],
    })  # fmt: skip
    return {d: moved[moved["direction"] == d][ARROW_COLUMNS].reset_index(drop=True) for d in ARROW_DIRECTIONS}


def _heads(table: pd.DataFrame) -> pd.DataFrame:
    angle = np.arctan2(table["y1"] - table["y0"], table["x1"] - table["x0"]) - math.pi / 2
    return pd.DataFrame({"x": table["x1"].astype(float), "y": table["y1"].astype(float), "angle": angle})


def arrow_layers(columns: dict[str, maps.Columns], *, scale: float = 1.0) -> list[hv.Element]:
    """Per direction: the lines and their arrowheads (``layer_columns`` by ``LAYERS`` name; the same columns
    when empty, so a live map can refill them)."""
    layers = []
    for direction in ARROW_DIRECTIONS:
        lines, heads = columns[f"cross_{direction}"], columns[f"cross_{direction}_heads"]
        color = DIRECTION_COLORS[direction]
        label = "Into Sudan at" if direction == "in" else "Out of Sudan at"
        tooltips = [(label, "@point"), ("People", "@people")]
        segments = hv.Segments(pd.DataFrame(lines), ["x0", "y0", "x1", "y1"], ["point", "people", "width"])
        style = {"line_width": "width", "color": color, "alpha": 0.8, "tools": ["hover"]}
        layers.append(segments.opts(hover_tooltips=tooltips, **style))
        layers.append(
            hv.Points(pd.DataFrame(heads), ["x", "y"], ["angle"]).opts(
                marker="triangle", angle=maps.HEAD_ANGLE, size=13 * scale, color=color, line_color="white"
            )
        )
    return layers


def layer_tables(view, *, schematic: bool, scale: float = 1.0) -> dict[str, pd.DataFrame]:
    """The rows of every crossing layer (``LAYERS``), as the live map and the HTML export draw them."""
    placed = positions(schematic)
    if schematic:
        from flowmon.geo.tiles import tile_spacing

        length = ARROW_TILES * tile_spacing()
    else:
        length = ARROW_DEGREES
    values = point_values(view)  # the published points, read once for the arrows and the points
    arrows = arrow_tables(view, placed, length=length, scale=scale, values=values)
    tables = {}
    for direction in ARROW_DIRECTIONS:
        tables[f"cross_{direction}"] = arrows[direction]
        tables[f"cross_{direction}_heads"] = _heads(arrows[direction])
    tables["cross_points"] = point_table(view, placed, scale=scale, values=values)
    return tables


LAYERS = ("cross_out", "cross_out_heads", "cross_in", "cross_in_heads", "cross_points")


def layer_columns(view, *, schematic: bool, scale: float = 1.0) -> list[maps.Columns]:
    """The columns of every crossing layer, in ``LAYERS`` order: what ``layers`` draws, without drawing."""
    tables = layer_tables(view, schematic=schematic, scale=scale)
    return [maps.source_columns(tables[name]) for name in LAYERS]


def layers(view, *, schematic: bool, scale: float = 1.0) -> hv.Overlay:
    """Everything crossings add to the map of ``view``: arrows under the points. Empty layers (with their
    columns) when the view shows no crossings."""
    columns = dict(zip(LAYERS, layer_columns(view, schematic=schematic, scale=scale), strict=True))
    return hv.Overlay(
        [*arrow_layers(columns, scale=scale), point_markers(columns["cross_points"], scale=scale)]
    )


def drawn_directions(columns: list[maps.Columns]) -> tuple[str, ...]:
    """The arrow directions (``ARROW_DIRECTIONS``) with at least one arrow in ``layer_columns``' output."""
    by_name = dict(zip(LAYERS, columns, strict=True))
    return tuple(d for d in ARROW_DIRECTIONS if len(by_name[f"cross_{d}"]["x0"]))


def legend_html(view, *, words: dict[str, str], size: int = 14, drawn: tuple[str, ...] | None = None) -> str:
    """The key's crossing items (points, arrows into and out of Sudan), or "" when none is drawn.

    ``drawn``: the arrow directions drawn, when the caller has them (``drawn_directions``); otherwise worked
    out from the view's published table.
    """
    if not getattr(view, "crossings", None):
        return ""

    diamond = f"background:{DIRECTION_COLORS['all']};transform:rotate(45deg) scale(.75)"
    items = [maps.key_item(maps.swatch(diamond, size), words["points"])]
    if drawn is None:
        table = view.crossings.get("by_point")
        drawn = () if table is None or table.empty else tuple(crossings.arrows(table)["direction"].unique())
    # The arrows drawn, in their colours: both directions, or the one the view shows.
    shown = [d for d in ARROW_DIRECTIONS[::-1] if d in drawn]
    if shown:
        key = "arrows" if len(shown) == 2 else f"arrows_{shown[0]}"
        swatches = "".join(maps.swatch(maps.key_line(DIRECTION_COLORS[d], size), size) for d in shown)
        items.append(maps.key_item(swatches, words.get(key, words["arrows"])))
    return f'<div class="fm-map-key fm-crossing-key">{"".join(items)}</div>'
