"""``flowmon bench``: how long a filter change takes until every view's data is ready.

On synthetic data of each size (``flowmon.demo.generate``), a realistic sequence of filter changes (offices,
streams, a state, a nationality, the last twelve months, the period player stepping month by month, ...) is
applied, and each change is timed from the new ``Filters`` to ``aggregate.view_data`` returning every view's
table, suppression included. The floor is the same aggregations done by bare pandas (boolean masks and
``groupby``, no zero-filling, no suppression) in the same run, on the same prepared tables. Peak memory is
the tables' own size plus the largest working memory of one filter change among the widest selections
(``tracemalloc``, in a separate pass, since tracing slows everything down).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from flowmon import aggregate, demo, recordkeys
from flowmon.aggregate import Filters
from flowmon.store import write_text_atomic

ENGINE = "pandas: categorical codes + numpy bincount"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
TARGET_MEDIAN_MS = 150.0
TARGET_RATIO = 3.0


def filter_sequence(events: pd.DataFrame, flows: pd.DataFrame | None = None) -> list[Filters]:
    """What a manager does in a session: pick offices, a year, a stream, a state, play the months, reset."""
    span = aggregate.window(events, flows)
    if span is None:
        raise ValueError("no data to benchmark")
    last = span[1]
    year = {"start": last - 11, "end": last}
    steps = [
        Filters(),
        Filters(offices=("KRT",)),
        Filters(offices=("KRT", "PZU")),
        Filters(offices=("KRT", "PZU"), **year),
        Filters(streams=("return",), **year),
        Filters(streams=("return",), offices=("PZU",), **year),
        Filters(streams=("referral",), states=("SD11",), **year),
        Filters(streams=("referral",), states=("SD11",), nationalities=("ERI",), **year),
        Filters(streams=("referral",), categories=("forced labour", "sexual exploitation"), **year),
        Filters(sexes=("female",), **year),
        Filters(age_groups=("0-17",), **year),
        Filters(**year),
    ]
    # The period player: one month at a time through the last year.
    steps += [Filters(start=last - 11 + i, end=last - 11 + i) for i in range(12)]
    steps += [
        Filters(streams=("displacement",), **year),
        Filters(streams=("displacement",), states=("SD01",)),
        Filters(states=("SD01", "SD15")),
        Filters(),
    ]
    return steps


# ---------------------------------------------------------------------------------------------- the floor


def floor_aggregates(events: pd.DataFrame, flows: pd.DataFrame | None, f: Filters) -> dict[str, pd.Series]:
    """The aggregations of ``view_data`` done the plain pandas way: the floor to compare with.

    The tables must have been through ``aggregate.prepare`` (a ``month`` column), as in ``view_data``.
    """
    span = aggregate.window(events, flows, f)
    out: dict[str, pd.Series] = {}
    base = events["stream"].isin(f.event_streams())
    for column, values in (
        ("office", f.offices),
        ("state_pcode", f.states),
        ("nationality", f.nationalities),
        ("sex", f.sexes),
        ("age_group", f.age_groups),
        ("category", f.categories),
    ):
        if values:
            base &= events[column].isin(values)
    if span is None:
        return out
    start, end = span
    before_start, before_end = aggregate.previous_window(span)
    month = events["month"]
    selected = events[base & month.between(start.ordinal, end.ordinal)]

    def total(keys: list[str], rows: pd.DataFrame = selected) -> pd.Series:
        return rows.groupby(keys, observed=True)["count"].sum()

    out["kpis"] = total(["stream"])
    out["previous"] = total(
        ["stream"], events[base & month.between(before_start.ordinal, before_end.ordinal)]
    )
    out["by_state"] = total(["stream", "state_pcode"])
    out["by_office"] = total(["stream", "office"])
    out["by_period"] = total(["stream", "month"])
    out["by_category"] = total(["stream", "category"])
    out["by_nationality"] = total(["stream", "nationality"])
    out["return_flows"] = total(["state_pcode", "destination"], selected[selected["stream"] == "return"])
    if flows is not None and f.displacement:
        mask = pd.Series(True, index=flows.index)
        if f.states:
            mask &= flows["origin_pcode"].isin(f.states) | flows["destination_pcode"].isin(f.states)
        if f.population_types:
            mask &= flows["population_type"].isin(f.population_types)
        rows = flows[mask & flows["month"].between(start.ordinal, end.ordinal)]
        out["state_flows"] = rows.groupby(["origin_pcode", "destination_pcode"], observed=True)[
            "individuals"
        ].sum()
        out["displacement_by_state"] = rows.groupby("destination_pcode", observed=True)["individuals"].sum()
        out["displacement_by_period"] = rows.groupby("month")["individuals"].sum()
    return out


# ---------------------------------------------------------------------------------------------- measuring


def _times_ms(run: Callable[[Filters], object], filters: Sequence[Filters], repeat: int) -> list[float]:
    run(filters[0])  # warm up (imports, caches)
    times = []
    for _ in range(repeat):
        for f in filters:
            start = time.perf_counter()
            run(f)
            times.append((time.perf_counter() - start) * 1000)
    return times


def _peak_working_mb(run: Callable[[Filters], object], filters: Sequence[Filters]) -> float:
    peak = 0
    tracemalloc.start()
    try:
        for f in filters:
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            run(f)
            peak = max(peak, tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()
    return peak / 2**20


def _table_mb(*tables: pd.DataFrame | None) -> float:
    return sum(t.memory_usage(deep=True, index=True).sum() for t in tables if t is not None) / 2**20


def measure(events: pd.DataFrame, flows: pd.DataFrame | None, repeat: int = 3) -> dict[str, float | int]:
    """One size: median and 95th percentile of view_data, the floor's median, their ratio, peak memory."""
    events, flows = aggregate.prepare(events), aggregate.prepare(flows) if flows is not None else None
    filters = filter_sequence(events, flows)

    def views(f: Filters) -> object:
        return aggregate.count_view(events, flows, f)

    def floor(f: Filters) -> object:
        return floor_aggregates(events, flows, f)

    times = _times_ms(views, filters, repeat)
    floor_times = _times_ms(floor, filters, repeat)
    median = statistics.median(times)
    floor_median = statistics.median(floor_times)
    return {
        "events": len(events),
        "median_ms": round(median, 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "floor_median_ms": round(floor_median, 1),
        "ratio": round(median / floor_median, 2),
        # The widest selections (everything, then one or two offices) need the most working memory.
        "peak_memory_mb": round(_table_mb(events, flows) + _peak_working_mb(views, filters[:3]), 1),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}"
    )


def run_bench(sizes: Sequence[int] = DEFAULT_SIZES, seed: int = 2023, repeat: int = 3) -> dict:
    """Measure every size on fresh synthetic data; the result is what ``--json`` writes."""
    results = []
    for size in sizes:
        tables = demo.generate(seed=seed, events=size)
        # As loaded from a store: with record keys, so the cell keys are counted too.
        events = recordkeys.attach(tables["events"])
        results.append(measure(events, tables["flows"], repeat))
    return {"sizes": results, "engine": ENGINE, "machine": machine()}


def format_table(result: dict) -> str:
    header = f"{'events':>10}  {'median ms':>9}  {'p95 ms':>7}  {'floor ms':>8}  {'ratio':>5}  {'peak MB':>8}"
    lines = [header, "-" * len(header)]
    for row in result["sizes"]:
        lines.append(
            f"{row['events']:>10,}  {row['median_ms']:>9.1f}  {row['p95_ms']:>7.1f}"
            f"  {row['floor_median_ms']:>8.1f}  {row['ratio']:>5.2f}  {row['peak_memory_mb']:>8.1f}"
        )
    lines += [
        "",
        "time from a filter change to every view's data ready (suppression included);",
        "floor: the same aggregations by bare pandas groupby; ratio = median / floor median.",
        f"target at 1M events: median < {TARGET_MEDIAN_MS:.0f} ms and ratio < {TARGET_RATIO:.0f}.",
        f"engine: {result['engine']}",
        f"machine: {result['machine']}",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- CLI


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--events takes whole numbers separated by commas, not {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--events needs at least one size of 1 or more")
    return sizes


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "bench",
        parents=[common],
        help="time a filter change until every view's data is ready, on synthetic data",
        description="On synthetic data of each size, apply a realistic sequence of filter changes (offices, "
        "streams, a state, a nationality, the period player) and time each until every view's data is ready, "
        "protection included. Beside it: the same counting done by bare pandas (the floor), and the memory "
        "of the widest selections. A benchmark, not a test: it reports, it does not fail.",
    )
    parser.add_argument(
        "--events",
        type=_sizes,
        default=DEFAULT_SIZES,
        metavar="N,N,...",
        help="sizes of the synthetic events table (default 10000,100000,1000000)",
    )
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON to FILE")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="N",
        help="passes over the filter sequence per size (default 3)",
    )
    parser.add_argument(
        "--seed", type=int, default=2023, metavar="N", help="seed of the synthetic data (default 2023)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise ValueError("--repeat must be at least 1")
    result = run_bench(args.events, seed=args.seed, repeat=args.repeat)
    print(format_table(result))
    if args.json:
        write_text_atomic(args.json, json.dumps(result, indent=2) + "\n")
        print(f"written {args.json}")
    return 0
