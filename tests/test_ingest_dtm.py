"""DTM master lists into flows: every state mapped, totals preserved, files that do not add up reported."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from flowmon import schema, store
from flowmon.ingest import ingest_files

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


@pytest.fixture(scope="module")
def dtm_file(shared_data) -> Path:
    return shared_data / "dtm" / "raw_idps_state_data.csv"


def file_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def file_totals(path: Path) -> pd.DataFrame:
    """The file's own numbers, read plainly: data from row 6, name, pcode, IDPs and the origin columns."""
    rows = file_rows(path)
    header = rows[3]
    data = pd.DataFrame(rows[5:], columns=header)
    return data


def test_the_dtm_master_list_ingests_with_every_state_mapped_and_its_total_preserved(dtm_file, data_dir):
    result = ingest_files("displacement", [dtm_file], data_dir)
    assert result.exit_code == 0
    (report,) = result.report["files"]
    assert (report["rows"], report["accepted"], report["rejected"]) == (18, 18, 0)
    assert report["unmatched_names"] == {}

    flows = store.load(data_dir)["flows"]
    plain = file_totals(dtm_file)
    assert flows["individuals"].sum() == plain["IDPs"].astype(int).sum() == 6_552_118
    by_destination = flows.groupby("destination_pcode", observed=True)["individuals"].sum()
    expected = plain.set_index("STATE CODE")["IDPs"].astype(int)
    assert by_destination.sort_index().to_dict() == expected.sort_index().to_dict()
    origin_headers = plain.columns[4:16]
    assert flows["origin_pcode"].nunique() == len(origin_headers) == 12
    assert flows["destination_pcode"].nunique() == 18
    khartoum_to_river_nile = flows.query("origin_pcode == 'SD01' and destination_pcode == 'SD16'")
    assert khartoum_to_river_nile["individuals"].tolist() == [689_530]
    assert set(flows["period"]) == {pd.Timestamp("2024-03-25")}
    assert set(flows["population_type"]) == {"idp"}
    assert set(flows["source"]) == {"DTM SUDAN: IDP Master List 25-03-2024"}
    assert flows["households"].isna().all()
    assert "households are given per state of displacement only" in " ".join(result.files[0].notes)


def test_a_row_that_does_not_add_up_is_reported_and_not_stored(dtm_file, data_dir, tmp_path):
    rows = file_rows(dtm_file)
    gedaref = next(i for i, row in enumerate(rows) if row[:1] == ["Gedaref"])
    khartoum = rows[3].index("Khartoum")
    rows[gedaref][khartoum] = str(int(rows[gedaref][khartoum]) - 1000)  # origins now 1,000 short of the total
    path = tmp_path / "dtm_short.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(rows)

    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 1
    (report,) = result.report["files"]
    (rejection,) = report["rejections"]
    assert (
        rejection["row"] == gedaref + 1 and rejection["column"] == "IDPs" and rejection["value"] == "429171"
    )
    assert "add up to 428,171, not to this total (-1,000)" in rejection["reason"]
    flows = store.load(data_dir)["flows"]
    assert "SD12" not in set(flows["destination_pcode"])
    assert flows["individuals"].sum() == 6_552_118 - 429_171  # the stored rows still add up to their totals


def test_total_row_is_checked_and_not_stored(dtm_file, data_dir, tmp_path):
    rows = file_rows(dtm_file)
    width = len(rows[3])
    sums = [sum(int(row[c]) for row in rows[5:]) for c in range(2, width)]
    good = tmp_path / "with_total.csv"
    bad = tmp_path / "with_wrong_total.csv"
    for path, delta in ((good, 0), (bad, 5)):
        total = ["Total", "", *[str(s) for s in sums]]
        total[2] = str(sums[0] + delta)
        with open(path, "w", encoding="utf-8-sig", newline="") as file:
            csv.writer(file).writerows([*rows, total])
    result = ingest_files("displacement", [good], data_dir)
    assert result.exit_code == 0 and result.files[0].rows == 18
    assert any("total row" in note for note in result.files[0].notes)
    result = ingest_files("displacement", [bad], tmp_path / "other")
    (rejection,) = result.report["files"][0]["rejections"]
    assert rejection["row"] == len(rows) + 1 and "the rows above add up to 6,552,118" in rejection["reason"]


def test_dtm_workbook_with_read_me_sheet(dtm_file, data_dir, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Read Me"
    book.active["A1"] = "DTM Sudan IDP master list: see the HDX page."
    sheet = book.create_sheet("IDPs admin1")
    for row in file_rows(dtm_file):
        sheet.append([int(c) if c.isdigit() else (c or None) for c in row])
    path = tmp_path / "dtm.xlsx"
    book.save(path)
    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 0 and result.files[0].rows == 18
    assert store.load(data_dir)["flows"]["individuals"].sum() == 6_552_118


def test_the_same_round_again_from_another_file_is_a_duplicate_or_a_conflict(dtm_file, data_dir, tmp_path):
    ingest_files("displacement", [dtm_file], data_dir)
    rows = file_rows(dtm_file)
    rows[0][0] += " (re-issued)"
    same = tmp_path / "reissued.csv"
    with open(same, "w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(rows)
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    result = ingest_files("displacement", [same], data_dir)
    assert result.exit_code == 0  # every state is already stored with the same figures: nothing new
    assert result.report["files"][0]["rejections"] == []
    assert any("are already stored from DTM SUDAN" in note for note in result.files[0].notes)
    assert "nothing new to store" in result.summary()
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before

    # One state with other figures is a conflict: its row is rejected with both totals, the rest duplicates.
    river_nile = next(i for i, row in enumerate(rows) if row[:2] == ["River Nile", "SD16"])
    rows[river_nile][2] = str(int(rows[river_nile][2]) + 10)
    rows[river_nile][4] = str(int(rows[river_nile][4]) + 10)  # an origin column
    rows[river_nile][16] = str(int(rows[river_nile][16]) + 10)  # Sudanese
    changed = tmp_path / "changed.csv"
    with open(changed, "w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(rows)
    result = ingest_files("displacement", [changed], data_dir)
    assert result.exit_code == 1
    (rejection,) = result.report["files"][0]["rejections"]
    assert rejection["row"] == river_nile + 1
    assert rejection["reason"].startswith("conflict: SD16 in the round of 2024-03-25")
    assert "are already stored from DTM SUDAN" in rejection["reason"]
    assert {p.name: p.read_bytes() for p in data_dir.iterdir() if p.suffix == ".parquet"} == {
        k: v for k, v in before.items() if k.endswith(".parquet")
    }


def test_long_format_returnees(data_dir):
    result = ingest_files("displacement", [FIXTURES / "dtm_returnees_long.csv"], data_dir)
    assert result.exit_code == 1
    (report,) = result.report["files"]
    assert [(r["row"], r["column"], r["value"]) for r in report["rejections"]] == [
        (7, "State of origin", "Kordofan"),
        (8, "Returnees", "10"),
    ]
    assert report["unmatched_names"] == {"Kordofan": 1}
    flows = store.load(data_dir)["flows"].set_index(["origin_pcode", "destination_pcode"])
    assert set(flows["population_type"]) == {"returnee"}
    assert set(flows["period"]) == {pd.Timestamp("2025-01-15")}
    assert flows.loc[("SD15", "SD01"), "individuals"] == 4500
    assert flows.loc[("SD01", "SD16"), "households"] == 240
    assert pd.isna(flows.loc[("SD14", "SD15"), "households"])
    assert flows["individuals"].sum() == 8090 - 80 - 10


def test_period_option_and_missing_round_date(data_dir, tmp_path):
    path = tmp_path / "matrix.csv"
    path.write_text(
        "State of displacement,IDPs,Khartoum,Aj Jazirah\nRiver Nile,30,10,20\nKassala,7,7,0\n",
        encoding="utf-8",
    )
    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 2 and "--period" in result.files[0].fatal
    result = ingest_files("displacement", [path], data_dir, period="2024-06")
    assert result.exit_code == 0
    flows = store.load(data_dir)["flows"]
    assert set(flows["period"]) == {pd.Timestamp("2024-06-01")} and flows["individuals"].sum() == 37
    assert schema.validate(flows, "flows")[1].empty


def test_sub_state_rows_are_summed_per_state_pair(data_dir, tmp_path):
    path = tmp_path / "localities.csv"
    path.write_text(
        "DTM locality list 2024-07-01\n"
        "State of origin,State of displacement,Locality,IDPs\n"
        "Khartoum,River Nile,Ad Damar,100\nKhartoum,River Nile,Atbara,50\nSennar,River Nile,Berber,5\n",
        encoding="utf-8",
    )
    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 0
    flows = store.load(data_dir)["flows"].set_index("origin_pcode")["individuals"]
    assert flows.to_dict() == {"SD01": 150, "SD14": 5}


def test_an_origin_that_is_not_a_state_is_never_invented(data_dir, tmp_path):
    path = tmp_path / "with_unknown_origin.csv"
    path.write_text(
        "IDP master list 2024-08-01,,,,\n"
        ",,STATE OF ORIGIN,,\n"
        "State of displacement,IDPs,Khartoum,Sennar,Unknown\n"
        "River Nile,35,10,20,5\n"
        "Kassala,7,7,0,0\n",
        encoding="utf-8",
    )
    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 1
    (rejection,) = result.report["files"][0]["rejections"]
    assert (rejection["row"], rejection["column"], rejection["value"]) == (4, "Unknown", "5")
    assert "cannot be given an origin" in rejection["reason"]
    flows = store.load(data_dir)["flows"]
    assert set(flows["destination_pcode"]) == {"SD11"} and flows["individuals"].sum() == 7


def test_two_origin_columns_for_one_state_are_not_merged(data_dir, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text(
        "IDP master list 2024-08-01\n"
        "State of displacement,IDPs,Gedaref,Gedarif\n"
        "Kassala,7,7,0\n"
        "Sennar,9,4,5\n",
        encoding="utf-8",
    )
    result = ingest_files("displacement", [path], data_dir)
    (rejection,) = result.report["files"][0]["rejections"]
    assert (rejection["row"], rejection["column"]) == (4, "Gedarif")
    assert "names the same state as 'Gedaref' (SD12)" in rejection["reason"]
    assert store.load(data_dir)["flows"]["individuals"].sum() == 7
