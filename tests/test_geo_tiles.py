"""The schematic tile map: 19 equal tiles whose neighbours match the real map's."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import shapely

from flowmon import geo
from flowmon.geo.tiles import layout_score, shared_edges
from flowmon.schema import STATE_PCODES

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
COD_AB = SHARED_DATA / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json"
DARFUR = ("SD02", "SD03", "SD04", "SD05", "SD06")


@pytest.fixture(scope="module")
def cod_ab():
    if not COD_AB.exists():
        pytest.skip(f"{COD_AB} not present")
    import geopandas as gpd

    return gpd.read_file(COD_AB).rename(columns={"ADM1_PCODE": "pcode"})


def test_one_equal_tile_per_pcode() -> None:
    tiles = geo.tiles()
    assert tuple(tiles["pcode"]) == STATE_PCODES
    assert list(tiles.columns[:4]) == ["pcode", "name_en", "name_ar", "geometry"]
    assert tiles.geometry.is_valid.all()
    areas = shapely.area(tiles.geometry.values)
    assert areas.max() - areas.min() < 1e-9 * areas.max()
    for a, b in itertools.combinations(tiles.geometry, 2):
        assert a.intersection(b).area < 1e-9


def test_tiles_sit_over_sudan_with_their_centres() -> None:
    tiles = geo.tiles()
    minx, miny, maxx, maxy = tiles.total_bounds
    assert 20 < minx < maxx < 40 and 7 < miny < maxy < 24
    centroids = shapely.centroid(tiles.geometry.values)
    assert (abs(shapely.get_x(centroids) - tiles["x"]) < 1e-9).all()
    assert (abs(shapely.get_y(centroids) - tiles["y"]) < 1e-9).all()


def test_layout_keeps_the_real_map_s_orientation() -> None:
    tiles = geo.tiles().set_index("pcode")
    khartoum = tiles.loc["SD01"]
    assert (tiles.loc[list(DARFUR), "x"] < khartoum["x"]).all(), "Darfur lies west of Khartoum"
    red_sea = tiles.loc["SD10"]
    assert red_sea["y"] == tiles["y"].max() or red_sea["x"] == tiles["x"].max(), "Red Sea is the north-east"
    assert red_sea["x"] > khartoum["x"] and red_sea["y"] > khartoum["y"]
    assert tiles.loc["SD19", "y"] == tiles["y"].min(), "Abyei on the southern edge"
    assert tiles.loc["SD02", "y"] > tiles.loc["SD03", "y"], "North Darfur north of South Darfur"
    assert tiles.loc["SD17", "y"] > tiles.loc["SD13", "y"], "Northern north of North Kordofan"
    # Khartoum is central: within a tile's width or two of the middle of the map.
    minx, miny, maxx, maxy = geo.tiles().total_bounds
    assert abs(khartoum["x"] - (minx + maxx) / 2) < 4 and abs(khartoum["y"] - (miny + maxy) / 2) < 4


def test_tile_neighbours_match_the_cod_ab_map(cod_ab) -> None:
    score = layout_score(cod_ab)
    print(f"tiles keep {score.kept}/{score.true_pairs} neighbours, {score.false_pairs} false; {score.missed}")
    assert score.true_pairs >= 30
    assert score.share_kept >= 0.85, score.missed
    assert score.false_pairs <= 5


def test_shared_edges_ignore_states_that_touch_at_a_point(cod_ab) -> None:
    pairs = shared_edges(cod_ab, min_length=0.01)
    assert frozenset(("SD01", "SD15")) in pairs  # Khartoum and Aj Jazirah share a long border
    assert frozenset(("SD01", "SD11")) not in pairs  # Khartoum and Kassala meet at one point


def test_office_points_on_tiles_fall_inside_their_state_s_tile() -> None:
    from flowmon.geo.tiles import office_points_on_tiles

    tiles = geo.tiles().set_index("pcode")
    placed = office_points_on_tiles()
    assert list(placed["code"]) == list(geo.offices()["code"])
    for row in placed.itertuples():
        assert tiles.geometry[row.state_pcode].contains(shapely.Point(row.x, row.y)), row.code
    # Two offices in one state get two distinct points, both inside the tile.
    two = geo.offices().assign(state_pcode="SD01")[:2]
    points = office_points_on_tiles(two)
    assert points[["x", "y"]].drop_duplicates().shape[0] == 2
    assert all(
        tiles.geometry["SD01"].contains(shapely.Point(x, y)) for x, y in zip(points.x, points.y, strict=True)
    )
