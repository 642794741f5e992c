"""Every file of ../shared/data through `flowmon ingest` as a user runs it: Sudan files store exactly what a
plain pandas sum of the file gives (per state and overall, per operation and round), the others are refused
with one clear line, and each takes under 2 s."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from flowmon import cli, store

API = ("dtm", "api")
OPERATIONS = (
    "Armed Clashes in Sudan",
    "Armed Clashes in Sudan (Monthly)",
    "Armed Clashes in Sudan (Overview)",
    "Darfur conflict",
)
ROUND7 = 6_552_118
SECONDS = 2.0


@pytest.fixture(scope="module", autouse=True)
def warm(tmp_path_factory) -> None:
    """Import and build the gazetteer and schemas once, so each timing measures its file, not the start-up."""
    from flowmon.ingest import ingest_files

    folder = tmp_path_factory.mktemp("warm")
    (folder / "tiny.csv").write_text("State,IDPs\nKhartoum,1\n", encoding="utf-8")
    ingest_files("displacement", [folder / "tiny.csv"], folder / "data", period="2024-01-01")


def run(args: list[str], capsys) -> tuple[int, str, float]:
    started = time.perf_counter()
    code = cli.main(args)
    elapsed = time.perf_counter() - started
    return code, capsys.readouterr().out, elapsed


def stored(data_dir: Path) -> pd.DataFrame:
    return store.load(data_dir)["flows"]


def by_state(flows: pd.DataFrame) -> dict[str, int]:
    summed = flows.groupby(flows["destination_pcode"].astype(str))["individuals"].sum()
    return {k: int(v) for k, v in summed.items() if v}


# --- the round 7 master list at every level ---------------------------------------------------------------


def _plain(path: Path, skip: int, state: str, total: str) -> dict[str, int]:
    frame = pd.read_csv(path, skiprows=skip, encoding="utf-8-sig", dtype=str)
    frame = frame[frame[state].notna() & ~frame[state].str.startswith("#")]
    return {k: int(v) for k, v in frame.groupby(state)[total].apply(lambda s: s.astype(int).sum()).items()}


@pytest.mark.parametrize(
    ("parts", "skip", "state", "total", "period"),
    [
        (("dtm", "raw_idps_state_data.csv"), 3, "STATE CODE", "IDPs", None),
        (("dtm", "round7-locality", "raw_idps_locality_data.csv"), 3, "STATE CODE", "IDPs", None),
        (("dtm", "round7-cleaned", "clean_idps_state.csv"), 0, "state_code", "total_idps", "2024-03-25"),
        (("dtm", "round7-cleaned", "clean_idps_locality.csv"), 0, "state_code", "total_idps", "2024-03-25"),
    ],
)
def test_round7_at_every_level_stores_the_files_totals(
    shared_data, tmp_path, capsys, parts, skip, state, total, period
):
    path = shared_data.joinpath(*parts)
    args = ["ingest", "displacement", str(path), "--data-dir", str(tmp_path)]
    code, out, elapsed = run(args + (["--period", period] if period else []), capsys)
    assert code == 0, out
    assert elapsed < SECONDS
    flows = stored(tmp_path)
    assert by_state(flows) == _plain(path, skip, state, total)
    assert flows["individuals"].sum() == ROUND7
    assert set(flows["period"]) == {pd.Timestamp("2024-03-25")}
    assert flows["origin_pcode"].notna().all() and flows["origin_pcode"].nunique() == 12


def test_cleaned_tables_without_a_date_ask_for_the_round(shared_data, tmp_path, capsys) -> None:
    path = shared_data / "dtm" / "round7-cleaned" / "clean_idps_state.csv"
    code, out, _ = run(["ingest", "displacement", str(path), "--data-dir", str(tmp_path)], capsys)
    assert code == 2
    assert f"{path} (displacement): not usable: no round date in the title or file name; give --period" in out
    assert out.count("no round date") == 1  # the reason once, not twice


def test_the_same_round_at_state_and_locality_level_is_stored_once(shared_data, tmp_path, capsys) -> None:
    state = shared_data / "dtm" / "raw_idps_state_data.csv"
    locality = shared_data / "dtm" / "round7-locality" / "raw_idps_locality_data.csv"
    cleaned = shared_data / "dtm" / "round7-cleaned" / "clean_idps_locality.csv"
    first = tmp_path / "one_by_one"
    assert run(["ingest", "displacement", str(state), "--data-dir", str(first)], capsys)[0] == 0
    code, out, _ = run(["ingest", "displacement", str(locality), "--data-dir", str(first)], capsys)
    assert code == 0 and "conflict" not in out and "nothing new to store" in out
    assert "are already stored from DTM SUDAN: IDP Master List 25-03-2024 with the same figures" in out
    code, out, _ = run(
        ["ingest", "displacement", str(cleaned), "--period", "2024-03-25", "--data-dir", str(first)], capsys
    )
    assert code == 0 and "nothing new to store" in out
    assert stored(first)["individuals"].sum() == ROUND7
    together = tmp_path / "together"
    code, out, _ = run(
        ["ingest", "displacement", str(state), str(locality), "--data-dir", str(together)], capsys
    )
    assert code == 0 and "given earlier in this run by raw_idps_state_data.csv" in out
    assert stored(together)["individuals"].sum() == ROUND7 and len(stored(together)) == 216


# --- DTM API stocks --------------------------------------------------------------------------------------


def _api_plain(path: Path) -> pd.DataFrame:
    """Sudan's admin-1 stocks of the file, per operation, round, date and state, read plainly."""
    if path.suffix == ".json":
        frame = pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["result"])
        frame["roundNumber"] = frame["roundNumber"].astype(str)
    else:
        frame = pd.read_csv(path, skiprows=[1], dtype={"roundNumber": str})
    frame = frame[frame["admin0Pcode"] == "SDN"]
    level = 2 if "admin2Pcode" in frame and frame["admin2Pcode"].notna().all() else 1
    if level == 1 and "admin2Pcode" in frame:
        frame = frame[frame["admin1Pcode"].notna() & frame["admin2Pcode"].isna()]
    frame = frame.assign(
        date=pd.to_datetime(frame["reportingDate"]).dt.normalize(), round=frame["roundNumber"].astype(str)
    )
    return (
        frame.groupby(["operation", "round", "date", "admin1Pcode"])["numPresentIdpInd"].sum().reset_index()
    )


@pytest.mark.parametrize(
    "name",
    [
        "global-iom-dtm-from-api-admin-0-to-2.csv",
        "global-iom-dtm-from-api-admin1.csv",
        "global-iom-dtm-from-api-admin2.csv",
        "idpadmin1data-getadmin1datav2-admin0pcode-sdn.json",
    ],
)
def test_dtm_api_files_store_each_operation_with_the_files_totals(
    shared_data, tmp_path, capsys, name
) -> None:
    path = shared_data.joinpath(*API, name)
    plain = _api_plain(path)
    code, out, elapsed = run(
        ["ingest", "displacement", str(path), "--data-dir", str(tmp_path / "all")], capsys
    )
    assert code == 2 and elapsed < SECONDS
    assert "4 DTM operations, whose figures overlap; give one with --operation NAME" in out
    assert "'Armed Clashes in Sudan (Overview)' (latest round 8, 2024-07-31)" in out
    assert "'Darfur conflict' (latest round 5, 2022-03-30)" in out
    for operation in OPERATIONS:
        folder = tmp_path / operation.replace(" ", "_")
        args = ["ingest", "displacement", str(path), "--operation", operation, "--data-dir", str(folder)]
        code, out, elapsed = run(args, capsys)
        assert code == 0, out
        assert elapsed < SECONDS, (operation, elapsed)
        flows = stored(folder)
        assert flows["origin_pcode"].isna().all() and set(flows["population_type"]) == {"idp"}
        got = (
            flows.assign(
                round=flows["source"].str.extract(r", round (\w+), ")[0],
                operation=flows["source"].str.extract(r"^DTM API: (.+), round ")[0],
                date=flows["period"],
                admin1Pcode=flows["destination_pcode"].astype(str),
            )
            .groupby(["operation", "round", "date", "admin1Pcode"])["individuals"]
            .sum()
        )
        expected = plain[plain["operation"] == operation].set_index(
            ["operation", "round", "date", "admin1Pcode"]
        )
        assert got.to_dict() == expected["numPresentIdpInd"].to_dict()
    latest = stored(tmp_path / "Armed_Clashes_in_Sudan_(Overview)")
    assert latest[latest["period"] == latest["period"].max()]["individuals"].sum() == 10_710_015


def test_the_2025_layout_without_sudan_names_the_countries_it_has(shared_data, tmp_path, capsys) -> None:
    path = shared_data.joinpath(*API, "global-iom-dtm-from-api-admin-0-to-2_2025-10.csv")
    code, out, elapsed = run(["ingest", "displacement", str(path), "--data-dir", str(tmp_path)], capsys)
    assert code == 2 and elapsed < SECONDS
    assert out.splitlines()[0] == f"{path} (displacement): not usable: no Sudan rows (found AFG, HTI, TCD)"
    assert out.count("no Sudan rows") == 1


# --- out of scope ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "alldata2.csv",
            "no Sudan rows (found AFG, BDI, BF, CAF, CMR, ET, IRQ, LBY, MDG, MLI, MOZ, NGA and 4 more)",
        ),
        (
            "DTM_Libya_R54_Migrant_Dataset_PUBLIC.xlsx",
            "no column for the state of displacement (name) or its pcode",
        ),
        (
            "DTM_Mixed Migration Flows to Europe_Q3_2024.xlsx",
            "no column for the state of displacement (name) or its pcode",
        ),
    ],
)
def test_out_of_scope_files_are_refused_in_one_line(shared_data, tmp_path, capsys, name, reason) -> None:
    path = shared_data / "out-of-scope" / name
    code, out, elapsed = run(["ingest", "displacement", str(path), "--data-dir", str(tmp_path)], capsys)
    assert code == 2 and elapsed < SECONDS
    first = out.splitlines()[0]
    assert first.startswith(f"{path} (displacement): not usable: {reason}")
    assert "looked for" in first or "Sudan" in first
    assert out.count(reason) == 1
    assert not (tmp_path / "flows.parquet").exists()


def test_json_boundaries_given_to_ingest_are_named_as_a_map(shared_data, tmp_path, capsys) -> None:
    path = shared_data / "cod-ab" / "v03" / "sdn_adm1_v03.geojson"
    code, out, _ = run(["ingest", "displacement", str(path), "--data-dir", str(tmp_path)], capsys)
    assert code == 2
    assert "a map (GeoJSON), not a table: install boundaries with `flowmon geo import FILE`" in out
