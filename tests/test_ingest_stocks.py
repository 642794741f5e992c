"""DTM stocks in layouts and spellings not seen in ../shared/data: the 2025 API layout with Sudan rows,
origins given or "Not available", rows split by reason, rounds with only admin-2 rows, other operation names,
JSON answers, analysts' wide tables; and which round a view counts (flowmon.rounds)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from flowmon import rounds, store
from flowmon.ingest import ingest_files

HEADER_2025 = (
    "id,operation,admin0Name,admin0Pcode,admin1Name,admin1Pcode,admin2Name,admin2Pcode,adminLevel,"
    "numPresentIdpInd,reportingDate,yearReportingDate,monthReportingDate,roundNumber,displacementReason,"
    "numberMales,numberFemales,idpOriginAdmin1Name,idpOriginAdmin1Pcode,assessmentType,operationStatus\n"
    "#id+code,#operation+name,#country+name,#country+code,#adm1+name,#adm1+code,#adm2+name,#adm2+code,"
    "#adm+level,#affected+idps,#date+reported,#date+year+reported,#date+month+reported,#round+code,"
    "#cause+type,#affected+idps+m,#affected+idps+f,#adm1+name+origin,#adm1+code+origin,#assessment+type,"
    "#operation+status\n"
)


def row_2025(op, level, state, pcode, locality, idps, date, rnd, reason="Conflict", origin="Not available",
             country="SDN"):  # fmt: skip
    name = "Sudan" if country == "SDN" else "Chad"
    origin_code = origin if origin == "Not available" else "SD01"
    locality_code = "SD" + locality[:3] if locality else ""
    return (
        f",{op},{name},{country},{state},{pcode},{locality},{locality_code},{level},"
        f"{idps},{date}T00:00:00,{date[:4]},{int(date[5:7])},{rnd},{reason},,,{origin},{origin_code},BA,Active\n"
    )


@pytest.fixture
def layout_2025(tmp_path):
    op = "Conflict in Sudan (Weekly)"
    rows = [
        row_2025(op, 0, "", "", "", 1500, "2025-06-10", 3),
        row_2025(op, 1, "River Nile", "SD16", "", 1000, "2025-06-10", 3),
        row_2025(op, 1, "River Nile", "SD16", "", 200, "2025-06-10", 3, reason="Natural disaster"),
        row_2025(op, 1, "River Nile", "SD16", "", 100, "2025-06-10", 3, origin="Khartoum"),
        row_2025(op, 1, "Kassala", "SD11", "", 200, "2025-06-10", 3),
        # Round 4 has admin-2 rows only: summed to their states.
        row_2025(op, 2, "Kassala", "SD11", "160 Kassala", 70, "2025-06-17", 4),
        row_2025(op, 2, "Kassala", "SD11", "161 Halfa", 30, "2025-06-17", 4),
        row_2025(op, 2, "River Nile", "SD16", "162 Atbara", 1400, "2025-06-17", 4),
        row_2025("Lake Chad Basin Crisis", 1, "Lac", "TD07", "", 999, "2025-06-10", 9, country="TCD"),
    ]
    path = tmp_path / "global-iom-dtm-from-api-2025.csv"
    path.write_text(HEADER_2025 + "".join(rows), encoding="utf-8")
    return path


def test_the_2025_layout_with_sudan_rows(layout_2025, data_dir):
    result = ingest_files("displacement", [layout_2025], data_dir)
    assert result.exit_code == 0, result.summary()
    notes = " | ".join(result.files[0].notes)
    assert "1 rows of other countries set aside (TCD)" in notes
    assert "6 rows without a state of origin ('Not available' or blank): origin unknown" in notes
    assert "the national (admin-0) total of 1 round(s) agree" in notes
    flows = store.load(data_dir)["flows"]
    table = (
        flows.assign(origin=flows["origin_pcode"].astype(object).fillna("?"))
        .groupby(["source", "destination_pcode", "origin"], observed=True)["individuals"]
        .sum()
    )
    week3 = "DTM API: Conflict in Sudan (Weekly), round 3, 2025-06-10"
    week4 = "DTM API: Conflict in Sudan (Weekly), round 4, 2025-06-17"
    assert table.to_dict() == {
        (week3, "SD11", "?"): 200,
        (week3, "SD16", "?"): 1200,  # two displacement reasons, summed
        (week3, "SD16", "SD01"): 100,  # an origin the file gives is kept
        (week4, "SD11", "?"): 100,
        (week4, "SD16", "?"): 1400,
    }
    again = ingest_files("displacement", [layout_2025.rename(layout_2025.with_name("copy.csv"))], data_dir)
    assert again.exit_code == 0 and "nothing new to store" in again.summary()


def test_operation_names_are_listed_and_matched_without_case(tmp_path, data_dir):
    rows = [
        row_2025("Flash update", 1, "Khartoum", "SD01", "", 10, "2025-01-05", 1),
        row_2025("Flash update", 1, "Khartoum", "SD01", "", 12, "2025-02-05", 2),
        row_2025("Mobility tracking", 1, "Khartoum", "SD01", "", 99, "2025-01-31", 7),
    ]
    path = tmp_path / "two_operations.csv"
    path.write_text(HEADER_2025 + "".join(rows), encoding="utf-8")
    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 2
    assert result.files[0].fatal == (
        "2 DTM operations, whose figures overlap; give one with --operation NAME: "
        "'Flash update' (latest round 2, 2025-02-05); 'Mobility tracking' (latest round 7, 2025-01-31)"
    )
    wrong = ingest_files("displacement", [path], data_dir, operation="Site assessment")
    assert "no DTM operation 'Site assessment'; the file holds 'Flash update'" in wrong.files[0].fatal
    result = ingest_files("displacement", [path], data_dir, operation="FLASH UPDATE")
    assert result.exit_code == 0
    assert store.load(data_dir)["flows"]["individuals"].tolist() == [10, 12]
    assert store.read_manifest(data_dir)["sources"][0]["operation"] == "FLASH UPDATE"


def test_a_bad_figure_rejects_its_row_only(tmp_path, data_dir):
    rows = [
        row_2025("Op", 1, "Khartoum", "SD01", "", 10, "2025-01-05", 1),
        row_2025("Op", 1, "Kordofan", "", "", 5, "2025-01-05", 1),  # a region, not a state
        row_2025("Op", 1, "Sennar", "SD14", "", "many", "2025-01-05", 1),
    ]
    path = tmp_path / "bad.csv"
    path.write_text(HEADER_2025 + "".join(rows), encoding="utf-8")
    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 1
    assert [(r["row"], r["column"], r["value"]) for r in result.report["files"][0]["rejections"]] == [
        (4, "admin1Name", "Kordofan"),
        (5, "numPresentIdpInd", "many"),
    ]
    assert store.load(data_dir)["flows"]["individuals"].sum() == 10


def test_dtm_api_json_answers(tmp_path, data_dir):
    records = [
        {"operation": "Op", "admin0Pcode": "SDN", "admin1Name": "Gezira", "admin1Pcode": None,
         "numPresentIdpInd": 30, "reportingDate": "2024-05-31T00:00:00", "roundNumber": 2},
        {"operation": "Op", "admin0Pcode": "SDN", "admin1Name": "Gedarif", "admin1Pcode": "SD12",
         "numPresentIdpInd": 20, "reportingDate": "2024-05-31T00:00:00", "roundNumber": 2},
    ]  # fmt: skip
    answer = tmp_path / "answer.json"
    answer.write_text(
        json.dumps({"result": records, "isSuccess": True, "errorMessages": []}), encoding="utf-8"
    )
    assert ingest_files("displacement", [answer], data_dir).exit_code == 0
    flows = store.load(data_dir)["flows"]
    assert dict(zip(flows["destination_pcode"].astype(str), flows["individuals"], strict=True)) == {
        "SD15": 30,
        "SD12": 20,
    }
    failed = tmp_path / "failed.json"
    failed.write_text(json.dumps({"result": [], "isSuccess": False, "errorMessages": ["Invalid key"]}))
    result = ingest_files("displacement", [failed], data_dir)
    assert result.files[0].fatal == "the API answered with an error: Invalid key"
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"meta": 1, "values": {"a": 2}}))
    assert ingest_files("displacement", [other], data_dir).files[0].fatal == (
        "JSON without a list of records (its keys: meta, values)"
    )


def test_a_state_table_without_origins_is_a_stock(tmp_path, data_dir):
    path = tmp_path / "idps_by_state_2024-09-30.csv"
    path.write_text("State,IDPs\nKhartoum,100\nAl Jazirah,50\n", encoding="utf-8")
    result = ingest_files("displacement", [path], data_dir)
    assert result.exit_code == 0
    assert any("origin unknown" in note for note in result.files[0].notes)
    flows = store.load(data_dir)["flows"]
    assert flows["origin_pcode"].isna().all() and set(flows["period"]) == {pd.Timestamp("2024-09-30")}


def test_wide_tables_in_other_spellings_and_orders(tmp_path, data_dir):
    path = tmp_path / "wide.csv"
    path.write_text(
        "from_khartoum,total_idps,State_Displacement,origin_gezira,avg_household_size\n"
        "70,100,River Nile,30,5.1\n8,8,Kassala,0,4.0\n",
        encoding="utf-8",
    )
    result = ingest_files("displacement", [path], data_dir, period="2024-06-30")
    assert result.exit_code == 0, result.summary()
    flows = store.load(data_dir)["flows"]
    pairs = flows[flows["individuals"] > 0].set_index(["origin_pcode", "destination_pcode"])["individuals"]
    assert pairs.to_dict() == {("SD01", "SD16"): 70, ("SD15", "SD16"): 30, ("SD01", "SD11"): 8}


# --- which round a view counts ----------------------------------------------------------------------------


def _stock(source, date, state, value, origin=None):
    return {"period": pd.Timestamp(date), "origin_pcode": origin, "destination_pcode": state,
            "population_type": "idp", "individuals": value, "households": None, "source": source}  # fmt: skip


def test_weekly_rounds_of_one_month_count_once():
    label = rounds.source_label
    flows = pd.DataFrame(
        [
            _stock(label("Op", "44", pd.Timestamp("2024-04-04")), "2024-04-04", "SD01", 100),
            _stock(label("Op", "45", pd.Timestamp("2024-04-12")), "2024-04-12", "SD01", 110),
            _stock(label("Op", "46", pd.Timestamp("2024-04-17")), "2024-04-17", "SD01", 120),
            _stock(label("Op", "46", pd.Timestamp("2024-04-17")), "2024-04-17", "SD16", 5, origin="SD01"),
            _stock("monthly flows", "2024-03-01", "SD11", 7, origin="SD15"),
            _stock("monthly flows", "2024-04-01", "SD11", 9, origin="SD15"),
        ]
    )
    kept = rounds.latest_round(flows, np.ones(len(flows), dtype=bool))
    assert flows.loc[kept, "individuals"].tolist() == [120, 5, 7, 9]
    shown = rounds.shown_rounds(flows, kept)
    assert shown[["operation", "round", "individuals"]].values.tolist() == [["Op", "46", 125]]
    assert shown["date"].tolist() == [pd.Timestamp("2024-04-17")]
    assert rounds.known_origin(flows).tolist() == [False, False, False, True, True, True]
    assert rounds.parse_source("DTM SUDAN: IDP Master List 25-03-2024") is None


def test_two_sources_on_the_same_latest_date_count_once():
    flows = pd.DataFrame(
        [
            _stock("B master list", "2024-03-25", "SD01", 100, origin="SD15"),
            _stock(rounds.source_label("Op", "7", pd.Timestamp("2024-03-25")), "2024-03-25", "SD01", 90),
        ]
    )
    kept = rounds.latest_round(flows, np.ones(2, dtype=bool))
    assert flows.loc[kept, "source"].tolist() == ["B master list"]
