"""``flowmon export csv``: the figures of a view, suppressed cells empty, read back by plain pandas."""

import csv

import pandas as pd
import pytest
from conftest import published

from flowmon import privacy, store
from flowmon.cli import main
from flowmon.export.csv import COLUMNS, TABLES, export_csv
from flowmon.filters import Filters


@pytest.fixture(scope="module")
def events(demo_dir):
    return store.load(demo_dir)["events"]


def hand_count(events, months, **conditions):
    """People in the raw events, selected without flowmon.aggregate, as published (perturbed)."""
    mask = events["date"].dt.to_period("M").astype(str).between(*months)
    for column, values in conditions.items():
        mask &= events[column].astype(str).isin(values)
    return published(events.loc[mask], conditions["stream"][0])


def raw_rows(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_figures_match_hand_counts_and_read_back_with_plain_pandas(demo_dir, events, tmp_path):
    filters = Filters(office="PZU", period="2024")
    path = export_csv(demo_dir, filters, tmp_path / "v.csv")
    table = pd.read_csv(path, dtype={"value": "Int64"}, keep_default_na=False, na_values={"value": [""]})
    assert tuple(table.columns) == COLUMNS
    assert {"total", "state", "office", "period"} <= set(table["table"]) <= set(TABLES)
    months = ("2024-01", "2024-12")
    shown = table[~table["suppressed"]]
    for stream in ("caseload", "return", "referral"):
        total = shown[(shown["table"] == "total") & (shown["stream"] == stream)]["value"]
        assert total.tolist() == [hand_count(events, months, stream=[stream], office=["PZU"])]
    pzu = shown[(shown["table"] == "office") & (shown["key"] == "PZU") & (shown["stream"] == "caseload")]
    assert pzu["value"].tolist() == [hand_count(events, months, stream=["caseload"], office=["PZU"])]
    for row in shown[(shown["table"] == "state") & (shown["stream"] == "caseload")].itertuples():
        assert row.value == hand_count(events, months, stream=["caseload"], office=["PZU"],
                                       state_pcode=[row.key])  # fmt: skip
    periods = table[(table["table"] == "period") & (table["stream"] == "return")]
    assert periods["key"].tolist() == [f"2024-{m:02d}" for m in range(1, 13)]
    assert periods["name"].iloc[0] == "January 2024"
    for kind in ("category", "nationality"):
        rows = shown[(shown["table"] == kind) & (shown["stream"] == "caseload")]
        assert len(rows) >= 3
        for row in rows.itertuples():
            assert row.value == hand_count(events, months, stream=["caseload"], office=["PZU"],
                                           **{kind: [row.key]})  # fmt: skip
    eritrea = table[(table["table"] == "nationality") & (table["key"] == "ERI")]
    assert set(eritrea["name"]) == {"Eritrea"}
    # One state row per state and stream, names in words.
    states = table[table["table"] == "state"]
    assert len(states) == 19 * 4 and "Khartoum" in set(states["name"])
    assert (table["start"] == "2024-01").all() and (table["end"] == "2024-12").all()


def test_small_counts_are_never_published_and_every_cell_is_its_own(demo_dir, events, tmp_path):
    # One office, one month, referrals (k = 11): small true counts are certain.
    query = {"office": "KSL", "period": "2024-03", "stream": "referral"}
    path = export_csv(demo_dir, query, tmp_path / "small.csv")
    rows = raw_rows(path)
    small = 0
    for row in rows:
        assert row["suppressed"] == "False" and row["value"].isdigit()
        assert int(row["value"]) == 0 or int(row["value"]) >= 11
        if row["table"] == "state":
            chosen = events[(events["date"].dt.to_period("M").astype(str) == "2024-03")
                            & (events["office"].astype(str) == "KSL")
                            & (events["stream"].astype(str) == "referral")
                            & (events["state_pcode"].astype(str) == row["key"])]  # fmt: skip
            small += 0 < chosen["count"].sum() < privacy.K_FLOORS["referral"]
            assert int(row["value"]) == published(chosen, "referral")
    assert small, "the fixture should have small true counts"


def test_query_string_options_and_filters_give_the_same_file(demo_dir, tmp_path):
    from_filters = export_csv(
        demo_dir,
        Filters(stream=("return",), sex="female", period="2023-H1", granularity="quarter"),
        tmp_path / "a.csv",
    )
    code = main(["export", "csv", "--data-dir", str(demo_dir), "--out", str(tmp_path / "b.csv"),
                 "--stream", "return", "--sex", "female", "--period", "2023-H1",
                 "--granularity", "quarter"])  # fmt: skip
    assert code == 0
    url = "http://127.0.0.1:5006/served?stream=return&sex=female&period=2023-H1&granularity=quarter"
    assert main(["export", "csv", "--data-dir", str(demo_dir), "--out", str(tmp_path / "c.csv"),
                 "--query", url + "&present=1"]) == 0  # fmt: skip
    texts = {p: (tmp_path / p).read_text() for p in ("b.csv", "c.csv")}
    assert from_filters.read_text() == texts["b.csv"] == texts["c.csv"]
    table = pd.read_csv(from_filters)
    assert set(table["stream"]) == {"return"}
    assert table.loc[table["table"] == "period", "key"].tolist() == ["2023Q1", "2023Q2"]
    # The query column reproduces the view.
    query = "period=2023-H1&stream=return&sex=female&granularity=quarter&indicator=return"
    assert set(table["query"]) == {query}


def test_provenance_columns(demo_dir, tmp_path):
    path = export_csv(demo_dir, {"period": "2025-Q1"}, tmp_path / "p.csv")
    table = pd.read_csv(path)
    manifest = store.read_manifest(demo_dir)
    as_of = {s["stream"]: s["as_of"] for s in manifest["sources"]}
    assert table["synthetic"].all()
    for stream, rows in table.groupby("stream"):
        assert set(rows["as_of"]) == {as_of[stream]}
        assert set(rows["source"]) == {"flowmon demo (synthetic)"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--office", "XXX"], "office: unknown value 'XXX'"),
        (["--period", "1999"], "period: no data for 1999"),
        (["--period", "2024-13"], "period: '2024-13' has no month 13"),
        (["--period", "2024-02-03"], "period: '2024-02-03' is not a calendar period"),
        (["--query", "ofice=KRT"], "unknown filter 'ofice'"),
        (["--office", "KRT,PZU"], "office: one value or all"),
        (["--indicator", "returns"], "indicator: unknown value 'returns'"),
        (["--k", "3"], "k cannot be lowered below 5"),
    ],
)
def test_bad_filters_fail_with_one_clear_line_and_leave_the_old_file(
    demo_dir, tmp_path, capsys, arguments, message
):
    out = tmp_path / "kept.csv"
    out.write_text("previous export\n")
    code = main(["export", "csv", "--data-dir", str(demo_dir), "--out", str(out), *arguments])
    assert code == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert out.read_text() == "previous export\n"


def test_an_empty_data_folder_is_an_error(data_dir, tmp_path, capsys):
    assert main(["export", "csv", "--data-dir", str(data_dir), "--out", str(tmp_path / "x.csv")]) == 2
    assert "holds no data" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_the_operators_k_raises_the_threshold(demo_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWMON_K", "20")
    path = export_csv(demo_dir, {"period": "2025-Q1", "stream": "return"}, tmp_path / "k.csv")
    shown = pd.read_csv(path).query("not suppressed and value > 0")["value"]
    assert len(shown) and shown.min() >= 20


def test_an_old_link_exports_the_nearest_allowed_view_and_says_so(demo_dir, tmp_path, capsys):
    out = tmp_path / "old.csv"
    url = "http://127.0.0.1:5006/served?start=2023-02&end=2023-03&stream=return"
    assert main(["export", "csv", "--data-dir", str(demo_dir), "--out", str(out), "--query", url]) == 0
    assert "showing 2023-Q1" in capsys.readouterr().err
    table = pd.read_csv(out)
    assert set(table["start"]) == {"2023-01"} and set(table["end"]) == {"2023-03"}
