"""The schematic tile map: one equal hexagon per state, laid out so that neighbours stay neighbours.

The layout lives in ``geo/tiles.csv`` as ``pcode, col, row`` on a pointy-top hexagon grid whose odd rows are
shifted half a tile east, row 0 in the south. It was found by a search over placements that rewards every pair
of COD-AB neighbours whose tiles share an edge, penalises tiles that touch without the states touching, and
keeps each tile near its state's place on the real map (Darfur west, Red Sea north-east, Khartoum central,
Abyei on the southern edge). :func:`layout_score` measures it against any boundaries.

Tiles are drawn in degrees over Sudan's extent so that they can share axes with office points, but they are a
schematic: a tile's area and position say nothing exact about its state.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

from flowmon._resources import reference_path
from flowmon.geo.gazetteer import states
from flowmon.schema import STATE_PCODES

if TYPE_CHECKING:
    import geopandas as gpd

# Sudan's extent (west, south, east, north) in degrees: the tile map is scaled to fit it and centred on it.
SUDAN_EXTENT = (21.8, 8.6, 38.6, 23.1)


@cache
def layout() -> pd.DataFrame:
    """The tile layout: ``pcode``, ``col``, ``row`` (one row per pcode, SD01..SD19)."""
    path = reference_path("tiles.csv")
    table = pd.read_csv(path, dtype={"pcode": str, "col": int, "row": int})
    if sorted(table["pcode"]) != list(STATE_PCODES):
        raise ValueError(f"{path}: needs one row for each of SD01..SD19, has {sorted(table['pcode'])}")
    cells = list(zip(table["col"], table["row"], strict=True))
    if len(set(cells)) != len(cells):
        raise ValueError(f"{path}: two states share a tile")
    return table.sort_values("pcode", ignore_index=True)


# Tiles are drawn on an integer lattice, counted in half a tile spacing east and a quarter of a hexagon's
# radius north, and only then scaled: two tiles compute exactly the same floats for the corners they share.


def _lattice(col: int, row: int) -> tuple[int, int]:
    return 2 * col + (row & 1), 3 * row


@cache
def _grid() -> tuple[float, float, float]:
    """``(lon, lat, spacing)``: where lattice point (0, 0) lies and the distance between tile centres."""
    table = layout()
    centres = [_lattice(c, r) for c, r in zip(table["col"], table["row"], strict=True)]
    west, east = min(x for x, _ in centres) - 1, max(x for x, _ in centres) + 1
    south, north = min(y for _, y in centres) - 2, max(y for _, y in centres) + 2
    # Lattice units in degrees: x unit = spacing / 2, y unit = spacing / (2 * sqrt(3)).
    min_lon, min_lat, max_lon, max_lat = SUDAN_EXTENT
    spacing = min(
        2 * (max_lon - min_lon) / (east - west), 2 * math.sqrt(3) * (max_lat - min_lat) / (north - south)
    )
    lon = (min_lon + max_lon) / 2 - (west + east) / 2 * spacing / 2
    lat = (min_lat + max_lat) / 2 - (south + north) / 2 * spacing / (2 * math.sqrt(3))
    return lon, lat, spacing


def tile_spacing() -> float:
    """The distance between the centres of neighbouring tiles, in degrees."""
    return _grid()[2]


def _lattice_point(half_x: int, quarter_y: int) -> tuple[float, float]:
    lon, lat, spacing = _grid()
    return lon + half_x * spacing / 2, lat + quarter_y * spacing / (2 * math.sqrt(3))


def _centre(col: int, row: int) -> tuple[float, float]:
    return _lattice_point(*_lattice(col, row))


def _hexagon_vertices(col: int, row: int) -> list[tuple[float, float]]:
    half_x, quarter_y = _lattice(col, row)
    corners = [(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1)]
    return [_lattice_point(half_x + dx, quarter_y + dy) for dx, dy in corners]


def tiles() -> gpd.GeoDataFrame:
    """One hexagon per state: ``pcode``, ``name_en``, ``name_ar``, ``geometry``, its centre ``x``, ``y``."""
    return _tiles().copy()  # a copy: callers may add columns


@cache  # fixed reference geometry: made once per process, not on every map drawn
def _tiles() -> gpd.GeoDataFrame:
    import geopandas as gpd
    from shapely.geometry import Polygon

    table = layout().merge(states(), on="pcode", validate="one_to_one")
    polygons = [Polygon(_hexagon_vertices(c, r)) for c, r in zip(table["col"], table["row"], strict=True)]
    frame = gpd.GeoDataFrame(table[["pcode", "name_en", "name_ar"]], geometry=polygons, crs="EPSG:4326")
    centres = [_centre(c, r) for c, r in zip(table["col"], table["row"], strict=True)]
    frame["x"] = [x for x, _ in centres]
    frame["y"] = [y for _, y in centres]
    return frame


def shared_edges(frame: gpd.GeoDataFrame, min_length: float = 1e-3) -> set[frozenset[str]]:
    """Pairs of pcodes whose polygons share a border longer than ``min_length`` (touching at a point is not
    enough)."""
    geometries = dict(zip(frame["pcode"], frame.geometry, strict=True))
    pairs = set()
    for (a, geom_a), (b, geom_b) in itertools.combinations(geometries.items(), 2):
        if geom_a.intersects(geom_b) and geom_a.intersection(geom_b).length > min_length:
            pairs.add(frozenset((a, b)))
    return pairs


@dataclass(frozen=True)
class LayoutScore:
    """How well the tiles keep the real map's neighbours: ``kept`` of ``true_pairs`` neighbouring states share
    a tile edge; ``false_pairs`` tile neighbours are not neighbours on the map."""

    kept: int
    true_pairs: int
    false_pairs: int
    missed: tuple[tuple[str, str], ...]

    @property
    def share_kept(self) -> float:
        return self.kept / self.true_pairs if self.true_pairs else 1.0


def layout_score(boundaries: gpd.GeoDataFrame) -> LayoutScore:
    """Compare the tile map's neighbours with those of ``boundaries`` (``pcode`` and polygons)."""
    true = shared_edges(boundaries, min_length=0.01)
    tiled = shared_edges(tiles())
    missed = tuple(sorted(tuple(sorted(pair)) for pair in true - tiled))
    return LayoutScore(
        kept=len(true & tiled), true_pairs=len(true), false_pairs=len(tiled - true), missed=missed
    )


def office_points_on_tiles(offices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where to draw offices on the tile map: ``code``, ``state_pcode``, ``x``, ``y`` inside their tile.

    A state's offices sit on a small ring below the tile's centre (leaving the centre for the label), in the
    order of the office table; a lone office sits on the ring's lowest point.
    """
    from flowmon.geo.offices import offices as office_table

    table = office_table() if offices is None else offices
    centres = tiles().set_index("pcode")[["x", "y"]]
    ring = tile_spacing() * 0.28
    rows = []
    for pcode, group in table.groupby("state_pcode", sort=False):
        cx, cy = centres.loc[pcode, "x"], centres.loc[pcode, "y"]
        for k, code in enumerate(group["code"]):
            # Spread along the lower half of the ring: -90 degrees for one office, fanning out for more.
            angle = -math.pi / 2 + (k - (len(group) - 1) / 2) * (math.pi / 4)
            rows.append((code, pcode, cx + ring * math.cos(angle), cy + ring * math.sin(angle)))
    placed = pd.DataFrame(rows, columns=["code", "state_pcode", "x", "y"])
    return placed.set_index("code").loc[list(table["code"])].reset_index()
