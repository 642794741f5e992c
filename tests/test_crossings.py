"""Cross-border movements: the points table, the crossings table, its ingest, counting and release.

Totals are counted by hand from the fixtures (tests/fixtures/ingest/fmr_*.csv):

fmr_daily_long.csv (rows 4-14 of the file; rows 11-14 bad): out at Argeen 120 + 80 + 45 + 15 = 260 (all in
May 2024, Sudanese 245 and South Sudanese 15; female 165), in at Ashkeet 30 + 25 = 55 (Sudanese 30, Egyptian
25), transit at Wadi Halfa 60: 375 people in 7 rows.
fmr_monthly_wide.csv: in 1200 + 300 (May 2023) + 900 + 250 (June 2023) = 2650; out 8500 + 2100 + 4000 (May)
+ 7600 (June) = 22200, in 8 rows (blank cells are nobody).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowmon import crossings, privacy, recordkeys, schema, store
from flowmon.cli import main
from flowmon.filters import Filters
from flowmon.geo.crossing_points import POINT_COLUMNS, check_points, crossing_points
from flowmon.ingest import ingest_files

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
LONG = FIXTURES / "fmr_daily_long.csv"
WIDE = FIXTURES / "fmr_monthly_wide.csv"
COD_AB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cod-ab"
COD_AB = COD_AB / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json"


# ------------------------------------------------------------------------------------------------ points


def test_points_lie_inside_their_state() -> None:
    if not COD_AB.exists():
        pytest.skip(f"{COD_AB} not present")
    import geopandas as gpd

    states = gpd.read_file(COD_AB)[["ADM1_PCODE", "geometry"]]
    table = crossing_points()
    points = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326)
    joined = gpd.sjoin(points, states, predicate="within", how="left")
    wrong = joined[joined["ADM1_PCODE"] != joined["state_pcode"]]
    assert wrong.empty, wrong[["code", "state_pcode", "ADM1_PCODE"]]


def test_points_table_has_the_main_crossings() -> None:
    table = crossing_points().set_index("code")
    assert list(crossing_points().columns) == list(POINT_COLUMNS)
    assert tuple(table.index) == schema.point_codes()
    assert table.loc[["ARG", "ASH", "WHF"], "country_across"].eq("EGY").all()
    assert table.loc["ADR", ["state_pcode", "country_across"]].tolist() == ["SD04", "TCD"]
    assert table.loc["GAL", ["state_pcode", "country_across"]].tolist() == ["SD12", "ETH"]
    assert table.loc["JOD", ["state_pcode", "country_across"]].tolist() == ["SD09", "SSD"]
    assert table["name_ar"].str.len().gt(0).all()


def test_a_bad_points_table_names_row_and_column() -> None:
    table = crossing_points()
    table.loc[2, "country_across"] = "XXX"
    with pytest.raises(ValueError, match=r"points.csv row 4, column country_across: 'XXX'"):
        check_points(table, "points.csv")
    table = crossing_points()
    table.loc[0, "lat"] = 2.0
    with pytest.raises(ValueError, match="row 2, column lat"):
        check_points(table, "points.csv")


# ------------------------------------------------------------------------------------------------ schema


def _row(**changes) -> dict:
    row = {
        "date": "2024-05-01", "point": "ARG", "direction": "out", "count": 10, "nationality": "SDN",
        "sex": "female", "age_group": "18-59", "origin": "SD01", "destination": "EGY", "transport": "bus",
        "source": "test",
    }  # fmt: skip
    return row | changes


def test_schema_accepts_countries_and_states_as_places_and_rejects_bad_codes() -> None:
    frame = pd.DataFrame(
        [_row(), _row(point="XYZ"), _row(direction="up"), _row(destination="SD99"), _row(count=-1),
         _row(transport="rocket"), _row(origin="EGY", destination="SD17", direction="in")],
        index=range(2, 9),
    )  # fmt: skip
    accepted, rejections = schema.validate(frame, "crossings")
    assert list(accepted.index) == [2, 8]
    assert rejections[["row", "column"]].values.tolist() == [
        [3, "point"], [4, "direction"], [5, "destination"], [6, "count"], [7, "transport"],
    ]  # fmt: skip
    assert accepted["destination"].dtype.categories.isin(["EGY", "SD17", "UNK"]).sum() == 3


# ------------------------------------------------------------------------------------------------ ingest


def test_ingest_long_daily_export_counts_by_hand(data_dir, capsys) -> None:
    code = main(["ingest", "crossings", str(LONG), "--data-dir", str(data_dir)])
    out = capsys.readouterr().out
    assert code == 1  # four bad rows
    assert "11 rows, 7 accepted, 4 rejected" in out
    assert "row 11, column 'Flow Monitoring Point': 'Nowhere'" in out
    assert "row 12, column 'Direction': 'sideways'" in out
    assert "row 13, column 'Individuals': '-4'" in out
    assert "row 14, column 'Origin': 'Atlantis'" in out
    table = store.load(data_dir)["crossings"]
    assert len(table) == 7 and table["count"].sum() == 375
    by = table.groupby(["point", "direction"], observed=True)["count"].sum()
    assert by.to_dict() == {("ARG", "out"): 260, ("ASH", "in"): 55, ("WHF", "transit"): 60}
    assert table.loc[table["nationality"] == "SSD", "count"].sum() == 15
    # Arabic words and names: row 6 (أرقين, خروج) is Argeen going out, row 8 (دخول) is coming in.
    assert ((table["count"] == 45) & (table["point"] == "ARG") & (table["direction"] == "out")).sum() == 1
    assert ((table["count"] == 25) & (table["direction"] == "in") & (table["origin"] == "EGY")).sum() == 1
    assert table[recordkeys.RECORD_KEY].notna().all()
    assert store.read_manifest(data_dir)["sources"][0]["stream"] == "crossing"


def test_ingest_wide_monthly_export_counts_by_hand(data_dir) -> None:
    result = ingest_files("crossings", [WIDE], data_dir)
    assert result.exit_code == 0
    table = store.load(data_dir)["crossings"]
    assert len(table) == 8
    assert table.loc[table["direction"] == "in", "count"].sum() == 2650
    assert table.loc[table["direction"] == "out", "count"].sum() == 22200
    assert set(table["date"]) == {pd.Timestamp("2023-05-01"), pd.Timestamp("2023-06-01")}
    # "Metema" is the town across from Gallabat.
    assert table.loc[(table["point"] == "GAL") & (table["date"] == "2023-06-01"), "count"].sum() == 250


def test_ingest_xlsx_gives_the_same_rows(tmp_path) -> None:
    workbook = tmp_path / "fmr.xlsx"
    pd.read_csv(WIDE, dtype=str).to_excel(workbook, index=False, sheet_name="FMR")
    result = ingest_files("crossings", [workbook], tmp_path / "data")
    assert result.exit_code == 0
    table = store.load(tmp_path / "data")["crossings"]
    assert table["count"].sum() == 2650 + 22200


def test_the_same_rows_again_are_a_note_and_other_figures_a_conflict(data_dir, tmp_path) -> None:
    assert ingest_files("crossings", [WIDE], data_dir).exit_code == 0
    keys = store.load(data_dir)["crossings"][recordkeys.RECORD_KEY].tolist()
    again = tmp_path / "again.csv"
    shutil.copy(WIDE, again)
    with again.open("a", encoding="utf-8") as file:
        file.write("2023-07,Kurmuk,10,20,Sudan\n")
    result = ingest_files("crossings", [again], data_dir)
    assert result.exit_code == 0 and result.stored == {"crossings": 2}
    assert any("already stored with the same figures" in n for n in result.files[0].notes)
    conflict = tmp_path / "conflict.csv"
    conflict.write_text(
        "Month,Point,Incoming,Nationality\n2023-05,Adre,1300,Sudan\n2023-08,Adre,5,Sudan\n", encoding="utf-8"
    )
    result = ingest_files("crossings", [conflict], data_dir)
    assert result.exit_code == 1
    assert result.files[0].rejections[0]["row"] == 2
    assert "1,300 here, 1,200 already stored" in result.files[0].rejections[0]["reason"]
    table = store.load(data_dir)["crossings"]
    assert table["count"].sum() == 2650 + 22200 + 30 + 5
    assert table[recordkeys.RECORD_KEY].tolist()[:8] == keys  # stored keys never change


def test_a_file_without_a_point_column_stores_nothing(data_dir, tmp_path) -> None:
    assert ingest_files("crossings", [WIDE], data_dir).exit_code == 0
    before = (data_dir / "crossings.parquet").read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Direction,Individuals\n2024-05-01,in,5\n", encoding="utf-8")
    result = ingest_files("crossings", [LONG, bad], data_dir)
    assert result.exit_code == 2
    assert "no column for point" in result.files[1].fatal
    assert (data_dir / "crossings.parquet").read_bytes() == before


def test_rows_of_one_group_are_added_up(data_dir, tmp_path) -> None:
    split = tmp_path / "split.csv"
    split.write_text(
        "Date,FMP,Direction,Individuals,Origin locality\n"
        "2024-01-03,Joda,out,40,Kosti\n2024-01-03,Joda,out,15,Rabak\n",
        encoding="utf-8",
    )
    result = ingest_files("crossings", [split], data_dir)
    assert result.exit_code == 0 and result.stored == {"crossings": 1}
    assert store.load(data_dir)["crossings"]["count"].tolist() == [55]


# ------------------------------------------------------------------------------------------------ counting


@pytest.fixture
def fixture_store(data_dir) -> Path:
    assert ingest_files("crossings", [LONG, WIDE], data_dir).exit_code == 1
    return data_dir


def _table(folder: Path) -> pd.DataFrame:
    return store.load(folder)["crossings"]


def test_kpis_by_hand(fixture_store) -> None:
    table = _table(fixture_store)
    kpis = crossings.count(table, Filters(period="2024-05"))["kpis"].set_index("measure")
    assert kpis["value"].to_dict() == {"in": 55, "out": 260, "transit": 60, "all": 375}
    assert kpis.at["all", "days"] == 31
    assert kpis.at["all", "previous"] == 0  # April 2024: no crossings, but within the data
    year = crossings.count(table, Filters(period="2023"))["kpis"].set_index("measure")
    assert year["value"].to_dict() == {"in": 2650, "out": 22200, "transit": 0, "all": 24850}
    # The data run from May 2023 to May 2024: of 2023 they cover May to December (months without a
    # crossing inside that span are real zeros).
    assert year.at["all", "days"] == 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31
    assert year["previous"].isna().all()  # 2022 is before the data: no fair comparison


def test_cell_keys_are_the_records_keys_times_counts(fixture_store) -> None:
    table = _table(fixture_store)
    counted = crossings.count(table, Filters(period="2024-05"))
    may = table[table["date"].dt.to_period("M") == pd.Period("2024-05", "M")]
    for direction, rows in may.groupby("direction", observed=True):
        expected = int((rows[recordkeys.RECORD_KEY].astype(int) * rows["count"]).sum() % 256)
        got = counted["by_direction"].set_index("direction").at[direction, "ckey"]
        assert got == expected


def test_filters_point_direction_state_nationality_sex(fixture_store) -> None:
    table = _table(fixture_store)
    may = Filters(period="2024-05")

    def total(filters=may, **kw) -> int:
        kpis = crossings.count(table, filters, **kw)["kpis"].set_index("measure")
        return int(kpis.at["all", "value"])

    assert total(point="ARG") == 260
    assert total(direction="in") == 55
    assert total(Filters(period="2024-05", state="SD17")) == 375  # all three points are in Northern
    assert total(Filters(period="2024-05", state="SD04")) == 0
    assert total(Filters(period="2024-05", nationality="SDN")) == 120 + 80 + 45 + 30 + 60
    assert total(Filters(period="2024-05", sex="female")) == 120 + 45 + 60
    assert total(Filters(period="2023-Q2"), point="GAL") == 300 + 2100 + 250
    with pytest.raises(ValueError, match="point: unknown value 'XXX'"):
        crossings.count(table, may, point="XXX")
    with pytest.raises(ValueError, match="direction"):
        crossings.count(table, may, direction="up")


def test_tables_by_point_period_nationality_destination(fixture_store) -> None:
    table = _table(fixture_store)
    counted = crossings.count(table, Filters(period="2023-Q2", granularity="month"))
    by_point = counted["by_point"].set_index(["point", "direction"])["value"]
    assert by_point[("ADR", "out")] == 16100 and by_point[("ADR", "all")] == 18200
    assert by_point[("ARG", "all")] == 0  # every point is listed, zeros included
    assert len(counted["by_point"]) == len(schema.point_codes()) * 4
    by_period = counted["by_period"].set_index(["period", "direction"])["value"]
    assert by_period[(pd.Timestamp("2023-04-01"), "all")] == 0
    assert by_period[(pd.Timestamp("2023-05-01"), "out")] == 8500 + 2100 + 4000
    assert by_period[(pd.Timestamp("2023-06-01"), "in")] == 900 + 250
    nationality = counted["by_nationality"].set_index(["nationality", "direction"])["value"]
    assert nationality[("SDN", "all")] == 1200 + 8500 + 900 + 7600
    assert nationality[("SSD", "out")] == 4000
    assert set(counted["by_destination"]["destination"]) == {"UNK"}


def test_publish_protects_every_count_and_derives_the_card(fixture_store) -> None:
    table = _table(fixture_store)
    counted = crossings.count(table, Filters(period="2024-05"))
    published = crossings.publish(counted, data_dir=fixture_store)
    for name in crossings.TABLES:
        assert "ckey" not in published[name].columns and "previous_ckey" not in published[name].columns
        values = published[name]["value"].dropna().astype(int)
        assert not values.between(1, privacy.K_FLOORS["crossing"] - 1).any()
    kpis = published["kpis"].set_index("measure")["value"]
    true = counted["kpis"].set_index("measure")["value"]
    assert (abs(kpis - true) <= 10).all()
    # One cell, one published number, whichever table shows it.
    assert published["by_direction"].set_index("direction").at["out", "value"] == kpis["out"]
    by_point = published["by_point"].set_index(["point", "direction"])["value"]
    card = published["card"].set_index("measure")
    assert card.at["net", "value"] == kpis["in"] - kpis["out"]
    assert card.at["daily average", "value"] == round(kpis["all"] / 31, 1)
    assert by_point[("ARG", "out")] >= 0
    # Counted again, the same records give the same published numbers.
    again = crossings.publish(crossings.count(table, Filters(period="2024-05")), data_dir=fixture_store)
    pd.testing.assert_frame_equal(again["by_point"], published["by_point"])


def test_release_refuses_crossings_without_cell_keys() -> None:
    table = pd.DataFrame({"stream": ["crossing"], "value": [12]})
    with pytest.raises(ValueError, match="no cell keys"):
        privacy.release(table)
    assert privacy.footnote(["crossing"]) != ""


def test_top_ranks_published_numbers(fixture_store) -> None:
    table = _table(fixture_store)
    published = crossings.publish(crossings.count(table, Filters(period="2023")), data_dir=fixture_store)
    top = crossings.top(published["by_nationality"], "out", n=2)
    assert top["nationality"].tolist() == ["SDN", "SSD"]
    assert top["value"].is_monotonic_decreasing


def test_map_points_and_arrows(fixture_store) -> None:
    table = _table(fixture_store)
    published = crossings.publish(crossings.count(table, Filters(period="2023")), data_dir=fixture_store)
    points = crossings.map_points(published["by_point"]).set_index("code")
    assert len(points) == len(schema.point_codes())
    assert points.at["ADR", "all"] > points.at["GAL", "all"] > 0
    arrows = crossings.arrows(published["by_point"])
    adre = arrows[arrows["point"] == "ADR"].set_index("direction")
    # Out of Sudan heads west from Adre into Chad; into Sudan comes from there.
    assert adre.at["out", "x1"] < adre.at["out", "x0"] == points.at["ADR", "lon"]
    assert adre.at["in", "x1"] == points.at["ADR", "lon"] and adre.at["in", "x0"] < adre.at["in", "x1"]
    assert set(arrows["direction"]) <= {"in", "out"} and (arrows["value"] > 0).all()


def test_demo_store_counts_quickly(demo_dir) -> None:
    import time

    table = store.load(demo_dir)["crossings"]
    assert len(table) > 0 and table[recordkeys.RECORD_KEY].notna().all()
    started = time.perf_counter()
    counted = crossings.count(table, Filters(period="2023"))
    published = crossings.publish(counted, data_dir=demo_dir)
    assert time.perf_counter() - started < 2.0
    kpis = published["kpis"].set_index("measure")["value"]
    assert kpis["out"] > 10 * kpis["in"]  # 2023: the war's outflows
    assert np.isfinite(published["card"].set_index("measure").at["daily average", "value"])


# ------------------------------------------------------------------------------------------------ the view


def _view(folder: Path, **filters):
    from flowmon import viewdata
    from flowmon.datastore import open_dataset

    query = {"stream": ("crossing",), "indicator": "crossing", **filters}
    return viewdata.build(open_dataset(folder), Filters(**query))


def test_view_numbers_are_the_published_hand_counted_cells(fixture_store) -> None:
    from conftest import published

    table = _table(fixture_store)
    may = table[table["date"].dt.to_period("M") == pd.Period("2024-05", "M")]
    view = _view(fixture_store, period="2024-05")

    def cell(rows) -> int:
        return published(rows, "crossing", data_dir=fixture_store)

    # Hand count (module docstring): 375 people in May 2024, 55 in, 260 out, 60 transit.
    assert int(may["count"].sum()) == 375
    kpis = view.crossings["kpis"].set_index("measure")["value"]
    assert kpis["all"] == cell(may) and kpis["in"] == cell(may[may["direction"] == "in"])
    assert view.kpi("crossing")["value"] == kpis["all"]  # the page's total is the "all" cell itself
    card = view.crossings["card"].set_index("measure")["value"]
    assert card["net"] == kpis["in"] - kpis["out"]
    assert card["daily average"] == round(kpis["all"] / 31, 1)
    # All three points (Argeen, Ashkeet, Wadi Halfa) lie in Northern (SD17): its state cell is all of May.
    assert view.map_values().set_index("pcode").at["SD17", "value"] == cell(may)
    assert (view.map_values().set_index("pcode").drop("SD17")["value"] == 0).all()
    by_point = view.crossings["by_point"].set_index(["point", "direction"])["value"]
    assert by_point[("ARG", "out")] == cell(may[may["point"] == "ARG"])  # 260, all out
    assert by_point[("ASH", "in")] == cell(may[may["point"] == "ASH"])  # 55


def test_point_and_direction_select_their_cells(fixture_store) -> None:
    from conftest import published

    table = _table(fixture_store)
    may = table[table["date"].dt.to_period("M") == pd.Period("2024-05", "M")]
    view = _view(fixture_store, period="2024-05", point="ARG", direction="out")
    arg_out = may[(may["point"] == "ARG") & (may["direction"] == "out")]
    assert int(arg_out["count"].sum()) == 260
    assert view.kpi("crossing")["value"] == published(arg_out, "crossing", data_dir=fixture_store)
    assert view.crossing_direction == "out"
    assert view.crossings["by_point"]["point"].unique().tolist() == ["ARG"]
    assert "Argeen" in view.title and "out of Sudan" in view.title
    top = crossings.top(view.crossings["by_nationality"], "out")
    assert top["nationality"].tolist() == ["SDN", "SSD"]  # 245 and 15 (published: 15 may move)


def test_crossings_are_counted_only_when_the_view_shows_them(fixture_store) -> None:
    from flowmon import viewdata
    from flowmon.datastore import open_dataset

    dataset = open_dataset(fixture_store)
    assert "crossing" in dataset.streams_present
    assert viewdata.build(dataset, Filters(period="2024-05")).crossings == {}
    # The map on crossings shows them, whatever the streams.
    assert viewdata.build(dataset, Filters(period="2024-05", indicator="crossing")).crossings


def test_links_with_point_and_direction(fixture_store) -> None:
    from flowmon import viewdata
    from flowmon.datastore import open_dataset
    from flowmon.filters import parse_query, resolve

    choices = viewdata.choices(open_dataset(fixture_store))
    filters, notices = resolve(
        parse_query("?stream=crossing&point=ARG&direction=out&period=2024-05"), choices
    )
    assert (filters.point, filters.direction, filters.crossings) == ("ARG", "out", True) and not notices
    assert Filters.from_query(filters.to_query()) == filters
    filters, notices = resolve({"point": "ARG,ASH", "stream": "crossing"}, choices)
    assert filters.point == "ARG" and notices == ["One point or all: showing ARG only."]
    filters, notices = resolve({"point": "ARG", "direction": "in"}, choices)  # no crossings shown
    assert filters.point is None and filters.direction is None and len(notices) == 2
    with pytest.raises(ValueError, match="point: unknown value 'XXX'"):
        resolve({"stream": "crossing", "point": "XXX"}, choices)
    with pytest.raises(ValueError, match="direction: unknown value 'up'"):
        resolve({"stream": "crossing", "direction": "up"}, choices)


def test_a_viewer_limited_to_offices_sees_the_same_crossings(demo_dir) -> None:
    """Crossings belong to no office and are not case records (DTM flow monitoring, as displacement): a
    viewer limited to some offices sees them whole, with the same published numbers as everyone."""
    from flowmon import viewdata
    from flowmon.datastore import open_dataset

    everyone = open_dataset(demo_dir)
    scoped = everyone.scoped(("KRT",))
    assert len(scoped.events) < len(everyone.events)
    filters = Filters(period="2025", stream=("crossing",), indicator="crossing")
    mine, all_of_it = viewdata.build(scoped, filters), viewdata.build(everyone, filters)
    for name in ("card", "by_point", "by_state"):
        pd.testing.assert_frame_equal(mine.crossings[name], all_of_it.crossings[name])


def test_csv_export_has_the_crossing_tables_of_the_view(fixture_store, tmp_path) -> None:
    from flowmon.export.csv import CROSSING_TABLES
    from flowmon.export.view import session

    exported = session(fixture_store, {"stream": "crossing", "period": "2024-05", "direction": "out"})
    view = exported.view
    argv = ["export", "csv", "--data-dir", str(fixture_store), "--stream", "crossing", "--period", "2024-05",
            "--direction", "out", "--out", str(tmp_path / "c.csv")]  # fmt: skip
    assert main(argv) == 0
    rows = pd.read_csv(tmp_path / "c.csv", keep_default_na=False)
    assert set(CROSSING_TABLES) <= set(rows["table"])
    card = rows[rows["table"] == "crossing_card"].set_index("key")["value"].astype(float)
    expected = view.crossings["card"].set_index("measure")["value"].astype(float)
    assert card.to_dict() == expected.to_dict()
    total = rows[(rows["table"] == "total") & (rows["stream"] == "crossing")]["value"].astype(int)
    assert total.tolist() == [view.kpi("crossing")["value"]]
    points = rows[rows["table"] == "crossing_point"]
    assert set(points["direction"]) == set(crossings.MEASURES)
    assert not {"record_key", "ckey"} & set(rows.columns)


def test_the_key_names_the_arrows_drawn(fixture_store) -> None:
    from flowmon import i18n
    from flowmon.views import crossing_map

    words = {key: i18n.text(f"crossing.{key}_key") for key in ("points", "arrows", "arrows_in", "arrows_out")}
    # Argeen in May 2024: 260 people out, none in: one arrow colour, and words for that direction alone.
    only_out = crossing_map.legend_html(_view(fixture_store, period="2024-05", point="ARG"), words=words)
    assert words["arrows_out"] in only_out and words["arrows"] not in only_out
    colors = crossing_map.DIRECTION_COLORS
    assert colors["out"] in only_out and colors["in"] not in only_out
    both = crossing_map.legend_html(_view(fixture_store, period="2024-05"), words=words)
    assert words["arrows"] in both and colors["in"] in both
