"""The office table: codes, dates, spellings, and points that fall inside their states."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flowmon import geo
from flowmon.geo.offices import OFFICE_COLUMNS, check_offices
from flowmon.schema import office_codes

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
COD_AB = SHARED_DATA / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json"
PLACES = SHARED_DATA / "places" / "iom_sudan_locations.csv"


def test_office_table_columns_and_types() -> None:
    table = geo.offices()
    assert list(table.columns) == list(OFFICE_COLUMNS)
    assert pd.api.types.is_datetime64_any_dtype(table["opened"])
    assert pd.api.types.is_datetime64_any_dtype(table["closed"])
    assert table["code"].is_unique
    assert tuple(table["code"]) == office_codes()
    assert table["opened"].notna().all()
    assert (table["closed"].isna() | (table["closed"] >= table["opened"])).all()


def test_offices_cover_the_design_s_locations() -> None:
    table = geo.offices().set_index("code")
    # Country office + MRRC in Khartoum, Darfur, Kordofan and Abyei sub-offices, Port Sudan.
    assert table.loc["KRT", "state_pcode"] == "SD01"
    assert table.loc["KRT", "opened"] == pd.Timestamp("2015-10-01")
    assert table.loc["PZU", "state_pcode"] == "SD10"
    assert {"SD02", "SD03", "SD04"} <= set(table.loc[table["type"] == "sub-office", "state_pcode"])
    assert {"SD07", "SD18", "SD19"} <= set(table["state_pcode"])


def test_office_points_fall_inside_their_states() -> None:
    if not COD_AB.exists():
        pytest.skip(f"{COD_AB} not present")
    import geopandas as gpd

    states = gpd.read_file(COD_AB)[["ADM1_PCODE", "geometry"]]
    table = geo.offices()
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326)
    joined = gpd.sjoin(points, states, predicate="within", how="left")
    wrong = joined[joined["ADM1_PCODE"] != joined["state_pcode"]]
    assert wrong.empty, wrong[["code", "state_pcode", "ADM1_PCODE"]]


def test_office_coordinates_agree_with_the_places_file() -> None:
    if not PLACES.exists():
        pytest.skip(f"{PLACES} not present")
    places = pd.read_csv(PLACES)
    merged = geo.offices().merge(
        places, left_on="town", right_on="location", how="left", validate="one_to_one"
    )
    assert merged["location"].notna().all(), "every office town is in the places file"
    assert ((merged["lat_x"] - merged["lat_y"]).abs() < 0.01).all()
    assert ((merged["lon_x"] - merged["lon_y"]).abs() < 0.01).all()
    assert (merged["state_pcode"] == merged["ADM1_PCODE"]).all()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Khartoum", "KRT"),
        ("KRT", "KRT"),
        ("krt", "KRT"),
        ("Port Sudan", "PZU"),
        ("port_sudan", "PZU"),
        ("بورتسودان", "PZU"),
        ("Bur Sudan", "PZU"),
        ("El Fasher", "FSH"),
        ("Al Fashir", "FSH"),
        ("Al-Junaynah", "GEN"),
        ("Ad-Damazin", "DMZ"),
        ("Zalingei", "ZAL"),
        ("Abyei", "ABY"),
    ],
)
def test_office_code_reads_codes_names_and_spellings(name: str, code: str) -> None:
    assert geo.office_code(name) == code


@pytest.mark.parametrize("name", ["Omdurman", "Cairo", "", "XYZ", "Darfur"])
def test_office_code_returns_none_for_places_without_an_office(name: str) -> None:
    assert geo.office_code(name) is None


def test_open_on_follows_opening_and_closing_dates() -> None:
    before_war = set(geo.open_on("2022-06-01")["code"])
    after = set(geo.open_on("2024-06-01")["code"])
    assert "KRT" in before_war and "PZU" not in before_war
    assert "PZU" in after and "KRT" not in after


def test_a_bad_office_row_is_named_by_file_row_and_column() -> None:
    table = geo.offices()
    table.loc[3, "state_pcode"] = "SD42"
    with pytest.raises(ValueError, match=r"offices\.csv row 5, column state_pcode: 'SD42'"):
        check_offices(table, "offices.csv")
    table = geo.offices()
    table.loc[0, "lat"], table.loc[0, "lon"] = table.loc[0, "lon"], table.loc[0, "lat"]
    with pytest.raises(ValueError, match=r"row 2, column lon"):
        check_offices(table, "offices.csv")
