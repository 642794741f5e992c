"""Case exports into events: exactly the bad rows reported, the rest stored, nothing half-written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from flowmon import cli, store
from flowmon.ingest import ingest_files
from flowmon.ingest.pipeline import PROGRESS_MIN_ROWS, _progress

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
CASELOAD = FIXTURES / "caseload_mrrc_utf8bom.csv"
REFERRAL = FIXTURES / "referral_ctdc_cp1256.csv"

# The rows of caseload_mrrc_utf8bom.csv that are wrong, the column to look at, and what the reason says.
CASELOAD_REJECTED = {
    10: ("Date of Registration", "not a valid date"),
    11: ("State", "not a known state name"),
    12: ("Nationality", "not a country"),
    13: ("No. of individuals", "count must be at least 1"),
    14: ("Case No", "duplicate of row 6"),
    15: ("State", "the state name and the state pcode disagree"),
    16: ("Case No", "missing value"),
    17: ("Age", "age outside"),
    18: ("State", "closest: Khartoum"),
    22: ("Case No", "duplicate of row 6"),
}
TOTAL_ROW = 24  # "Total,,,,...": no date, office, state or service


def store_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_messy_caseload_export_rejects_exactly_the_bad_rows(data_dir):
    result = ingest_files("caseload", [CASELOAD], data_dir)
    assert result.exit_code == 1
    (report,) = result.report["files"]
    assert (report["rows"], report["accepted"], report["rejected"]) == (19, 8, 11)
    by_row = {}
    for item in report["rejections"]:
        by_row.setdefault(item["row"], []).append(item)
    assert set(by_row) == {*CASELOAD_REJECTED, TOTAL_ROW}
    for row, (column, reason) in CASELOAD_REJECTED.items():
        (item,) = by_row[row]
        assert item["column"] == column and reason in item["reason"], item
    assert {item["column"] for item in by_row[TOTAL_ROW]} == {
        "Date of Registration", "Office", "State Pcode", "Service",
    }  # fmt: skip
    assert by_row[13][0]["value"] == "-2" and by_row[11][0]["value"] == "Darfur"
    assert report["unmatched_names"] == {"Darfur": 1, "Khartuom": 1, "Wakanda": 1}

    events = store.load(data_dir)["events"].set_index(["record_id", "date"])
    assert len(events) == 8
    arabic_names = events.loc[("PZU-24-0003", pd.Timestamp("2024-02-05"))]
    assert (arabic_names["office"], arabic_names["state_pcode"], arabic_names["nationality"]) == (
        "PZU",
        "SD10",
        "ERI",
    )
    assert (arabic_names["sex"], arabic_names["age_group"], arabic_names["count"]) == ("female", "0-17", 3)
    assert arabic_names["category"] == "information session"
    serial = events.loc[("PZU-24-0005", pd.Timestamp("2024-02-09"))]  # Excel serial 45331
    assert (serial["nationality"], serial["sex"], serial["age_group"]) == ("UNK", "unknown", "unknown")
    # The same case id with different content is another event of that case, not a duplicate.
    assert len(events.loc["PZU-24-0002"]) == 2


def test_cli_report_has_exactly_the_issue_shape(data_dir, tmp_path, capsys):
    report_path = tmp_path / "report.json"
    code = cli.main(
        ["ingest", "caseload", str(CASELOAD), "--data-dir", str(data_dir), "--report", str(report_path)]
    )
    assert code == 1
    printed = capsys.readouterr().out
    assert "19 rows, 8 accepted, 11 rejected" in printed
    assert "row 10, column 'Date of Registration': '30/02/2024'" in printed
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert list(report) == ["files"]
    (entry,) = report["files"]
    assert list(entry) == ["path", "stream", "rows", "accepted", "rejected", "rejections", "unmatched_names"]
    assert all(list(item) == ["row", "column", "value", "reason"] for item in entry["rejections"])
    assert entry["rows"] == entry["accepted"] + entry["rejected"]


def test_cp1256_referrals_with_ctdc_codes(data_dir):
    result = ingest_files("referral", [REFERRAL], data_dir)
    assert result.exit_code == 1
    (report,) = result.report["files"]
    assert [(r["row"], r["column"], r["value"]) for r in report["rejections"]] == [
        (7, "الجنسية", "XX"),
        (9, "victim_purpose", "9"),
    ]
    events = store.load(data_dir)["events"].set_index("record_id")
    assert events.loc["CT-001", ["office", "state_pcode", "nationality", "sex", "age_group"]].tolist() == [
        "KSL", "SD11", "ERI", "female", "18-59",
    ]  # fmt: skip
    assert events.loc["CT-001", ["category", "referred_to"]].tolist() == ["forced labour", "shelter"]
    assert events.loc["CT-003", ["nationality", "age_group", "category", "referred_to"]].tolist() == [
        "UNK", "unknown", "unknown", "psychosocial",
    ]  # fmt: skip
    assert events.loc["CT-004", ["nationality", "age_group", "category"]].tolist() == [
        "UNK",
        "0-17",
        "forced marriage",
    ]
    assert pd.isna(events.loc["CT-004", "referred_to"])
    assert events.loc["CT-006", ["age_group", "category"]].tolist() == [
        "unknown",
        "other",
    ]  # 17--20 straddles 18


def test_ctdc_sample_conventions(shared_data, data_dir, tmp_path):
    """The CTDC sample has no dates, states or offices: add them, and every coded value must be understood."""
    sample = pd.read_csv(shared_data / "ctdc" / "human_traffick_sample_dataset.csv", dtype=str)
    export = sample.assign(
        case_id=[f"CTDC-{i:04d}" for i in range(len(sample))],
        date="15/06/2024",
        office="KSL",
        state="Kassala",
    )
    path = tmp_path / "ctdc.csv"
    export.to_csv(path, index=False)
    result = ingest_files("referral", [path], data_dir)
    (report,) = result.report["files"]
    assert report["rejections"] == [] and result.exit_code == 0
    events = store.load(data_dir)["events"]
    assert len(events) == len(sample)
    expected_minors = sample["age_range"].isin(["0--8", "9--17"]).sum()
    assert (events["age_group"] == "0-17").sum() == expected_minors
    assert (events["nationality"] == "UNK").sum() == sample["citizenship"].isin(["-99", "00"]).sum()
    assert (events["category"] == "unknown").sum() == (sample["victim_purpose"] == "-99").sum()
    assert set(events["sex"]) == {"female"}


def test_same_file_twice_changes_nothing(data_dir, tmp_path):
    assert ingest_files("caseload", [CASELOAD], data_dir).exit_code == 1
    before = store_files(data_dir)
    copy = tmp_path / "renamed copy.csv"
    shutil.copy(CASELOAD, copy)
    again = ingest_files("caseload", [CASELOAD, copy], data_dir)
    assert again.exit_code == 0
    assert [f.skipped for f in again.files] == [True, True]
    assert store_files(data_dir) == before


def test_records_already_stored_are_duplicates(data_dir, tmp_path):
    ingest_files("caseload", [CASELOAD], data_dir)
    later = tmp_path / "later.csv"
    lines = CASELOAD.read_text(encoding="utf-8-sig").splitlines()
    # A later export: another title, two records seen before (rows 5 and 20 of the first) and a new one.
    later.write_text(
        "\n".join(
            [
                "MRRC export, April",
                lines[3],
                lines[4],
                lines[19],
                "PZU-24-0100,02/04/2024,PZU,Red Sea,,ERI,F,30,Counselling,1",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = ingest_files("caseload", [later], data_dir)
    # An export that overlaps the last one is not at fault: the two stored records are a note, not rejections.
    assert result.exit_code == 0
    (report,) = result.report["files"]
    assert report["rejections"] == []
    assert report["accepted"] == 1
    assert any("2 rows are records already stored with the same content" in n for n in result.files[0].notes)
    assert len(store.load(data_dir)["events"]) == 9
    # The same records again, alone: nothing new, nothing wrong.
    again = tmp_path / "again.csv"
    again.write_text("\n".join(["MRRC export, May", lines[3], lines[4]]) + "\n", encoding="utf-8")
    assert ingest_files("caseload", [again], data_dir).exit_code == 0


def test_unreadable_or_unusable_file_leaves_the_store_untouched(data_dir, tmp_path):
    ingest_files("referral", [REFERRAL], data_dir)
    before = store_files(data_dir)
    no_office = tmp_path / "no_office.csv"
    no_office.write_text("Case No,Date,State,Service\nA-1,01/02/2024,Khartoum,screening\n")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    all_bad = tmp_path / "all_bad.csv"
    all_bad.write_text("Case No,Date,Office,State,Service\nA-1,99/99/2024,KRT,Khartoum,screening\n")
    for bad in (no_office, broken, all_bad, tmp_path / "missing.csv"):
        result = ingest_files("caseload", [CASELOAD, bad], data_dir)
        assert result.exit_code == 2, bad
        assert result.files[1].fatal and result.report["files"][1]["rejections"][0]["reason"]
        assert store_files(data_dir) == before
    assert "no column for office" in ingest_files("caseload", [no_office], data_dir).files[0].fatal
    assert "not a readable XLSX" in ingest_files("caseload", [broken], data_dir).files[0].fatal


def test_period_dates_a_file_without_a_date_column(data_dir, tmp_path):
    path = tmp_path / "monthly.csv"
    path.write_text("Case No,Office,State,Service,Count\nM-1,KRT,Khartoum,screening,12\n")
    assert ingest_files("caseload", [path], data_dir).exit_code == 2
    result = ingest_files("caseload", [path], data_dir, period="2024-05")
    assert result.exit_code == 0
    event = store.load(data_dir)["events"].iloc[0]
    assert event["date"] == pd.Timestamp("2024-05-01") and event["count"] == 12


def test_manifest_records_the_source(data_dir):
    ingest_files("caseload", [CASELOAD], data_dir)
    (source,) = store.read_manifest(data_dir)["sources"]
    assert source["sha256"] == store.sha256_file(CASELOAD)
    assert (source["stream"], source["table"], source["rows"], source["accepted"], source["rejected"]) == (
        "caseload", "events", 19, 8, 11,
    )  # fmt: skip
    assert source["synthetic"] is False and source["as_of"] == "2024-03-15"


def test_progress_bar_only_for_large_files():
    assert _progress(PROGRESS_MIN_ROWS, "small.csv", None) is None
    bar = _progress(PROGRESS_MIN_ROWS + 1, "large.csv", None)
    assert bar is not None
    bar.close()
    assert _progress(10, "forced.csv", False) is None


@pytest.mark.parametrize("stream", ["caseload", "return", "referral"])
def test_messy_export_reads_back_with_exactly_its_bad_rows(stream, tmp_path):
    from flowmon import demo
    from flowmon.ingest.messy import write_messy_export

    events = demo.generate(seed=11, events=4_000)["events"]
    suffix = ".xlsx" if stream == "return" else ".csv"
    export = write_messy_export(
        events, tmp_path / f"raw/{stream}{suffix}", seed=3, stream=stream, max_rows=600
    )
    result = ingest_files(stream, [export.path], tmp_path / "store")
    (report,) = result.report["files"]
    assert {r["row"]: r["column"] for r in report["rejections"]} == export.bad_rows
    assert report["rows"] == export.rows and report["rejected"] == len(export.bad_rows) == 5
    stored = result.new_rows["events"].sort_values("record_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, export.events.sort_values("record_id").reset_index(drop=True))
