"""flowmon bench: the floor computes the same numbers as aggregate; the command reports what it says."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from flowmon import aggregate as ag
from flowmon import bench, cli, demo


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    data = demo.generate(seed=11, events=3000)
    return {"events": ag.prepare(data["events"]), "flows": ag.prepare(data["flows"])}


def nonzero(table: pd.DataFrame, keys: list[str]) -> dict:
    table = table[table["value"] > 0]
    return {
        tuple(k): int(v) for k, v in zip(table[keys].itertuples(index=False), table["value"], strict=True)
    }


def from_floor(series: pd.Series) -> dict:
    series = series[series > 0]
    return {(k if isinstance(k, tuple) else (k,)): int(v) for k, v in series.items()}


def test_filter_sequence_is_realistic(tables):
    steps = bench.filter_sequence(tables["events"], tables["flows"])
    assert len(steps) >= 20
    assert steps[0] == ag.Filters() and any(f.offices for f in steps) and any(f.streams for f in steps)
    assert sum(1 for f in steps if f.start is not None and f.start == f.end) == 12  # the period player


def test_the_floor_and_aggregate_agree_on_every_filter(tables):
    events, flows = tables["events"], tables["flows"]
    for f in bench.filter_sequence(events, flows):
        floor = bench.floor_aggregates(events, flows, f)
        assert nonzero(ag.by_state(events, f), ["stream", "state_pcode"]) == from_floor(floor["by_state"]), f
        assert nonzero(ag.by_office(events, f), ["stream", "office"]) == from_floor(floor["by_office"]), f
        assert nonzero(ag.by_category(events, f), ["stream", "category"]) == from_floor(
            floor["by_category"]
        ), f
        assert nonzero(ag.by_nationality(events, f), ["stream", "nationality"]) == from_floor(
            floor["by_nationality"]
        ), f
        periods = ag.by_period(events, f)
        periods = periods.assign(period=periods["period"].dt.to_period("M").map(lambda p: p.ordinal))
        assert nonzero(periods, ["stream", "period"]) == from_floor(floor["by_period"]), f
        returns = ag.return_flows(events, f)
        assert nonzero(returns, ["state_pcode", "destination"]) == from_floor(floor["return_flows"]), f
        kpis = ag.kpis(events, flows, f).set_index("stream")
        for stream, value in floor["kpis"].items():
            assert kpis.loc[stream, "value"] == value, f
        if f.displacement:
            pairs = nonzero(ag.state_flows(flows, f), ["origin_pcode", "destination_pcode"])
            assert pairs == from_floor(floor["state_flows"]), f
            into = nonzero(ag.displacement_by_state(flows, f), ["state_pcode"])
            assert into == from_floor(floor["displacement_by_state"]), f


def test_measure_reports_every_number(tables):
    row = bench.measure(tables["events"], tables["flows"], repeat=1)
    assert set(row) == {"events", "median_ms", "p95_ms", "floor_median_ms", "ratio", "peak_memory_mb"}
    assert row["events"] == len(tables["events"])
    assert 0 < row["median_ms"] <= row["p95_ms"]
    assert row["ratio"] == pytest.approx(row["median_ms"] / row["floor_median_ms"], rel=0.02)
    assert row["peak_memory_mb"] > 0


def test_bench_command_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert cli.main(["bench", "--events", "800,1600", "--repeat", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "median ms" in printed and "floor ms" in printed and "engine:" in printed and "machine:" in printed
    result = json.loads(out.read_text())
    assert set(result) == {"sizes", "engine", "machine"}
    assert len(result["sizes"]) == 2
    assert result["sizes"][0]["events"] < result["sizes"][1]["events"]
    assert f"{result['sizes'][1]['events']:,}" in printed


def test_bench_refuses_bad_sizes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--events", "ten"])
    assert "--events takes whole numbers" in capsys.readouterr().err
