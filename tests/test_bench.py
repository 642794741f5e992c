"""flowmon bench: the floor counts what viewdata counts; each benchmark runs end to end at a tiny size.

The served benchmarks (--browser, --soak, --load) are run on a 2,000-event store with a few changes and
sessions: the numbers are not checked against targets (a benchmark reports, it does not fail), only that
each measures what it says and that its table and JSON carry it.
"""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

import pandas as pd
import pytest

from flowmon import aggregate as ag
from flowmon import bench, bench_browser, bench_client, bench_profile, cli, datastore, viewdata
from flowmon.filters import Filters, period_kind


@pytest.fixture(scope="module")
def dataset(demo_dir):
    return datastore.open_dataset(demo_dir)


def nonzero(table: pd.DataFrame, keys: list[str]) -> dict:
    table = table[table["value"] > 0]
    return {
        tuple(k): int(v) for k, v in zip(table[keys].itertuples(index=False), table["value"], strict=True)
    }


def from_floor(series: pd.Series) -> dict:
    series = series[series > 0]
    return {(k if isinstance(k, tuple) else (k,)): int(v) for k, v in series.items()}


# --- the core benchmark -----------------------------------------------------------------------------
def test_filter_sequence_is_realistic(dataset):
    steps = bench.filter_sequence(dataset)
    assert len(steps) >= 20
    assert all(isinstance(f, Filters) and f.period for f in steps)
    assert any(f.office for f in steps) and any(f.stream for f in steps) and any(f.state for f in steps)
    assert any(f.nationality for f in steps) and any(f.granularity != "month" for f in steps)
    assert sum(1 for f in steps if period_kind(f.period) == "month") == 12  # the period player
    for f in steps:
        viewdata.build(dataset, f)  # every step is a view the dashboard can show


def test_the_floor_counts_what_viewdata_counts(dataset):
    events, flows = dataset.events, dataset.flows
    for f in bench.filter_sequence(dataset):
        sel = viewdata.selection(f)
        floor = bench.floor_aggregates(events, flows, sel, f.freq)
        assert nonzero(ag.by_state(events, sel), ["stream", "state_pcode"]) == from_floor(
            floor["by_state"]
        ), f
        assert nonzero(ag.by_office(events, sel), ["stream", "office"]) == from_floor(floor["by_office"]), f
        assert nonzero(ag.by_category(events, sel), ["stream", "category"]) == from_floor(
            floor["by_category"]
        ), f
        assert nonzero(ag.by_nationality(events, sel), ["stream", "nationality"]) == from_floor(
            floor["by_nationality"]
        ), f
        periods = ag.by_period(events, sel, f.freq)
        periods = periods.assign(period=periods["period"].dt.to_period(f.freq).map(lambda p: p.ordinal))
        assert nonzero(periods, ["stream", "period"]) == from_floor(floor["by_period"]), f
        referred = ag.by_referred_to(events, sel)
        referred = referred[referred["referred_to"] != ag.NOT_RECORDED]
        assert nonzero(referred, ["referred_to"]) == from_floor(floor["by_referred_to"]), f
        returns = ag.return_flows(events, sel)
        assert nonzero(returns, ["state_pcode", "destination"]) == from_floor(floor["return_flows"]), f
        totals = ag.by_nationality(events, sel).groupby("nationality", observed=True)["value"].sum()
        assert from_floor(totals) == from_floor(floor["nationality_total"]), f
        if sel.displacement:
            pairs = nonzero(ag.state_flows(flows, sel), ["origin_pcode", "destination_pcode"])
            assert pairs == from_floor(floor["state_flows"]), f
            out_of = nonzero(ag.displacement_by_state(flows, sel, "origin"), ["state_pcode"])
            assert out_of == from_floor(floor["departures"]), f


def test_measure_reports_every_number(dataset):
    row = bench.measure(dataset, repeat=1)
    assert set(row) == {
        "events",
        "changes",
        "median_ms",
        "p95_ms",
        "floor_median_ms",
        "ratio",
        "peak_memory_mb",
        "cpu_median_ms",
        "floor_cpu_median_ms",
        "cpu_ratio",
    }
    assert row["cpu_median_ms"] > 0 and row["floor_cpu_median_ms"] > 0
    assert row["events"] == len(dataset.events)
    assert row["changes"] == len(bench.filter_sequence(dataset))
    assert 0 < row["median_ms"] <= row["p95_ms"]
    assert row["ratio"] == pytest.approx(row["median_ms"] / row["floor_median_ms"], rel=0.02)
    assert row["peak_memory_mb"] > 0


def test_bench_command_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--events", "800,1600", "--repeat", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "median ms" in printed and "floor ms" in printed and "machine:" in printed
    assert "target at 1M events: median <= 50 ms and ratio <= 1.5" in printed
    result = json.loads(out.read_text())
    assert set(result) == {"sizes", "engine", "machine"}
    assert len(result["sizes"]) == 2
    assert result["sizes"][0]["events"] < result["sizes"][1]["events"]
    assert f"{result['sizes'][1]['events']:,}" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--events", "ten"], "--events takes whole numbers"),
        (["--browser", "--soak"], "not allowed with argument"),
        (["--repeat", "0"], "must be 1 or more"),
    ],
)
def test_bench_refuses_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", *argv])
    assert message in capsys.readouterr().err


def test_served_benchmarks_take_one_size(capsys):
    assert cli.main(["bench", "--load", "--events", "10,20"]) == 2
    assert "take one --events size" in capsys.readouterr().err


# --- the pieces of the served benchmarks --------------------------------------------------------------
def test_the_browser_plan_changes_the_map_at_every_step(dataset):
    steps = bench_browser.plan(dataset, 12)
    assert len(steps) == 12
    kinds = {action[0] for action, _, _ in steps}
    assert kinds == {"period", "office", "stream"}
    shown = bench_browser.expected_map(dataset, Filters(period=viewdata.choices(dataset).default_period))
    for _, filters, values in steps:
        assert values != shown and values == bench_browser.expected_map(dataset, filters)
        shown = values


def test_the_map_follows_the_streams_as_the_dashboard_does():
    start = Filters(period="2025")
    returns = bench_browser.after(start, ("stream", "return"))
    assert returns.stream == ("return",) and returns.indicator == "return"
    both = bench_browser.after(returns, ("stream", "referral"))
    assert both.stream == ("return", "referral") and both.indicator == "return"
    none = bench_browser.after(bench_browser.after(both, ("stream", "return")), ("stream", "referral"))
    assert none.stream == () and none.indicator == "referral"
    assert bench_browser.after(start, ("office", "KRT")).office == "KRT"


def test_the_client_reads_a_serialized_document():
    doc = {"doc": {"roots": [{"type": "object", "name": "Column", "id": "p1", "attributes": {"children": [
        {"type": "object", "name": "CustomSelect", "id": "p2", "attributes": {"title": "Period", "options": {
            "type": "map",
            "entries": [["Years", [["2025", "2025"]]], ["Quarters", [["2025-Q1", "2025-Q1"]]]]}}},
        {"type": "object", "name": "ColumnDataSource", "id": "p3", "attributes": {"data": {
            "type": "map", "entries": [["pcode", []], ["hatch", []], ["value", []]]}}},
    ]}}]}}  # fmt: skip
    session = bench_client.Session("http://127.0.0.1:1", "/served", models=list(bench_client._objects(doc)))
    assert session.widget("Period")["id"] == "p2"
    assert bench_client.option_values(session.widget("Period")["attributes"]["options"]) == [
        "2025",
        "2025-Q1",
    ]
    assert session.watched == "p3"
    with pytest.raises(LookupError, match="Office"):
        session.widget("Office")


def test_profile_shares_count_each_part_a_stack_passes_through(tmp_path):
    collapsed = tmp_path / "stacks.txt"
    collapsed.write_text(
        "main (x.py:1);build (flowmon/viewdata.py:3);view_data (flowmon/aggregate.py:9) 30\n"
        "main (x.py:1);redraw (flowmon/views/charts.py:2);set (bokeh/core/property/x.py:1) 60\n"
        "main (x.py:1);serialize (bokeh/core/serialization.py:5) 10\n"
    )
    shares = bench_profile.shares(collapsed)
    assert shares["samples"] == 100
    assert shares["viewdata.build (count, protect, words)"] == 30.0
    assert shares["  of which aggregate.view_data"] == 30.0
    assert shares["the charts' in-place redraw (views/charts)"] == 60.0
    assert shares["Bokeh property changes and events"] == 60.0
    assert shares["Bokeh serialization (patches out)"] == 10.0
    assert "60.0 %" in bench_profile.format_shares(shares)


# --- each served benchmark end to end, tiny -------------------------------------------------------------
TINY = ["--events", "2000", "--until", "2026-06"]


def _run(tmp_path: Path, capsys, *argv: str) -> tuple[str, dict]:
    out = tmp_path / "result.json"
    # In a thread of its own: after a browser test, pytest-playwright holds this thread's event loop, and the
    # benchmarks drive Playwright's sync API and asyncio clients.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        code = pool.submit(cli.main, ["bench", *argv, *TINY, "--json", str(out)]).result()
    assert code == 0
    return capsys.readouterr().out, json.loads(out.read_text())


@pytest.mark.ui
@pytest.mark.slow
def test_browser_benchmark_end_to_end(tmp_path, capsys):
    printed, result = _run(tmp_path, capsys, "--browser", "--changes", "3", "--opens", "1")
    dashboard, reference = result["pages"]["dashboard"], result["pages"]["reference"]
    for page in (dashboard, reference):
        assert page["changes"] == 3
        assert page["warm_paint_ms"] > 0 and page["cold_paint_ms"] > 0
        assert page["html_ms"] > 0 and page["html_cpu_ms"] >= 0 and page["open_cpu_ms"] > 0
        assert 0 < page["round_trip_p50_ms"] <= page["round_trip_p95_ms"]
        assert page["ws_received_bytes"] > 0 and page["ws_sent_bytes"] > 0
        assert page["server_errors"] == []
    assert dashboard["url_mismatches"] == []
    assert result["ratios"]["warm_paint"] > 0
    assert "round trip p95" in printed and "websocket bytes in per change" in printed


@pytest.mark.slow
def test_soak_benchmark_end_to_end(tmp_path, capsys):
    printed, result = _run(tmp_path, capsys, "--soak", "--rounds", "1,1")
    assert [r["closed_total"] for r in result["rounds"]] == [1, 2]
    assert all(r["errors"] == [] and r["after_mb"] > 0 for r in result["rounds"])
    assert result["rounds"][-1]["destroyed"] == 2  # closed sessions were destroyed before memory was read
    assert result["rounds"][-1]["launched"] == 2  # one session built per page opened, none built again
    assert result["growth_mb_per_100"] is not None and result["server_errors"] == []
    assert result["growth_after_peak_mb_per_100"] is not None
    assert "growth after the first round" in printed and "growth after the largest round" in printed


@pytest.mark.slow
def test_load_benchmark_end_to_end(tmp_path, capsys):
    printed, result = _run(tmp_path, capsys, "--load", "--sessions", "2", "--duration", "3")
    dashboard, reference = result["dashboard"], result["reference"]
    assert dashboard["sessions"] == 2 and dashboard["open_errors"] == []
    for phase in (dashboard["saturated"], dashboard["paced"], reference["saturated"]):
        assert phase["changes"] > 0 and phase["errors"] == 0
        assert 0 < phase["map_p50_ms"] <= phase["settled_p95_ms"]
    assert dashboard["mb_per_session"] is not None and dashboard["server_errors"] == []
    assert "changes per second" in printed and "memory per session" in printed
