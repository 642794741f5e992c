"""``flowmon bench``: how long a filter change takes until the view's snapshot is ready, and the rest.

The core benchmark (this module): on a synthetic store of each size (``flowmon demo``, written to a temporary
folder and opened as the server opens it, ``datastore.open_dataset``), a realistic sequence of filter changes
(calendar periods, an office, streams, a state, a nationality, sex, age, the period player stepping month by
month, cross-border movements by point and direction, ...) is applied, and each change is timed from the new
``Filters`` to ``viewdata.build`` returning the ``ViewData`` snapshot: every table counted and protected,
KPIs, title, notices, footnote, provenance. The floor is the same counting done by bare pandas (boolean masks
and ``groupby``, no zero-filling, no protection, no words) on the same prepared tables, in the same run. Peak
memory is the tables' own size plus the largest working memory of one filter change among the widest
selections (``tracemalloc``, in a separate pass, since tracing slows everything down).

Crossings are counted only by the views that show them (``stream=crossing``): their steps pay for them, the
others do not; their floor is the same counting of the crossings table by pandas (``floor_crossings``).

The served benchmarks have modules of their own, run from the same command: ``--browser``
(``flowmon.bench_browser``: a page in headless Chromium), ``--soak`` (``flowmon.bench_soak``: memory over
many sessions) and ``--load`` (``flowmon.bench_load``: many sessions changing filters at once).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from flowmon import aggregate, viewdata
from flowmon.filters import Filters, period_span
from flowmon.store import write_text_atomic

ENGINE = "pandas: categorical codes + numpy bincount"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_UNTIL = "2026-06"  # the demo's last month: pinned, so a run does not depend on today's date
TARGET_MEDIAN_MS = 50.0
TARGET_RATIO = 1.5


def demo_dataset(folder: Path, events: int, seed: int = 2023, until: str = DEFAULT_UNTIL):
    """A demo store of about ``events`` events written to ``folder`` and opened as a server opens it."""
    from flowmon import datastore, demo

    demo.write_demo(folder, seed=seed, events=events, until=until)
    return datastore.open_dataset(folder)


def filter_sequence(dataset) -> list[Filters]:
    """What a manager does in a session: a year, an office, a quarter, a stream, a state, a nationality, the
    period player month by month, displacement, and back to the default view."""
    choices = viewdata.choices(dataset)
    if choices.default_period is None:
        raise ValueError("no data to benchmark")
    periods = choices.periods
    year = periods["year"][-2] if len(periods["year"]) > 1 else periods["year"][-1]  # the last whole year
    previous_year = periods["year"][-3] if len(periods["year"]) > 2 else year
    quarter = next(q for q in reversed(periods["quarter"]) if q.startswith(year))
    half = next(h for h in reversed(periods["half"]) if h.startswith(year))
    offices = [code for code in ("KRT", "PZU") if code in choices.offices] or list(choices.offices[:2])
    nationality = next((n for n in ("ERI", "SSD", "ETH") if n in choices.nationalities), None)
    steps = [
        Filters(period=choices.default_period),
        Filters(period=year),
        Filters(period=year, office=offices[0]),
        Filters(period=year, office=offices[-1]),
        Filters(period=quarter, office=offices[-1]),
        Filters(period=quarter, stream=("return",), indicator="return"),
        Filters(period=quarter, stream=("return",), office=offices[-1], indicator="return"),
        Filters(period=half, stream=("referral",), state="SD11", indicator="referral"),
        Filters(
            period=half, stream=("referral",), state="SD11", nationality=nationality, indicator="referral"
        ),
        Filters(period=year, sex="female"),
        Filters(period=year, age_group="0-17"),
        Filters(period=year, granularity="quarter"),
        Filters(period=previous_year),
    ]
    # The period player: one month at a time through the year.
    steps += [Filters(period=month) for month in periods["month"] if month.startswith(year)]
    if dataset.crossings is not None and not dataset.crossings.empty:
        crossing = {"stream": ("crossing",), "indicator": "crossing"}
        steps += [
            Filters(period=year, **crossing),
            Filters(period=quarter, **crossing),
            Filters(period=year, point="ARG", **crossing),
            Filters(period=year, direction="out", **crossing),
            Filters(period=year, state="SD12", direction="in", **crossing),
        ]
    steps += [
        Filters(period=year, stream=("displacement",), indicator="displacement_in"),
        Filters(period=year, stream=("displacement",), state="SD01", indicator="displacement_out"),
        Filters(period=year, state="SD01"),
        Filters(period=choices.default_period),
    ]
    return steps


# ---------------------------------------------------------------------------------------------- the floor


def floor_aggregates(
    events: pd.DataFrame, flows: pd.DataFrame | None, f: aggregate.Filters, freq: str = "M"
) -> dict[str, pd.Series]:
    """The counting of ``viewdata.build`` done the plain pandas way: the floor to compare with.

    The tables must have been through ``aggregate.prepare`` (a ``month`` column), as a dataset's are.
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
    period = (
        selected["month"] if freq == "M" else aggregate.period_ordinals(selected["month"].to_numpy(), freq)
    )
    out["by_period"] = selected.groupby([selected["stream"], period], observed=True)["count"].sum()
    out["by_category"] = total(["stream", "category"])
    out["by_nationality"] = total(["stream", "nationality"])
    out["nationality_total"] = total(["nationality"])
    out["by_referred_to"] = total(["referred_to"], selected[selected["stream"] == "referral"])
    out["return_flows"] = total(["state_pcode", "destination"], selected[selected["stream"] == "return"])
    if flows is not None and f.displacement:
        mask = pd.Series(True, index=flows.index)
        if f.states:
            mask &= flows["origin_pcode"].isin(f.states) | flows["destination_pcode"].isin(f.states)
        if f.population_types:
            mask &= flows["population_type"].isin(f.population_types)
        rows = flows[mask & flows["month"].between(start.ordinal, end.ordinal)]
        people = rows.groupby(["origin_pcode", "destination_pcode"], observed=True)["individuals"]
        out["state_flows"] = people.sum()
        out["displacement_by_state"] = rows.groupby("destination_pcode", observed=True)["individuals"].sum()
        out["departures"] = rows.groupby("origin_pcode", observed=True)["individuals"].sum()
        out["displacement_by_period"] = rows.groupby("month")["individuals"].sum()
    return out


def floor_crossings(crossings: pd.DataFrame, f: Filters) -> dict[str, pd.Series]:
    """The counting of ``flowmon.crossings.count`` done the plain pandas way (prepared table, a ``month``
    column): totals now and before by direction, by point, state, period, nationality, origin, destination."""
    from flowmon import crossings as cross

    if not f.crossings or not f.period or crossings.empty:
        return {}
    mask = pd.Series(True, index=crossings.index)
    for column in ("nationality", "sex", "age_group", "point", "direction"):
        value = getattr(f, column)
        if value:
            mask &= crossings[column] == value
    if f.state:
        points = cross.points()
        mask &= crossings["point"].isin(points.loc[points["state_pcode"] == f.state, "code"])
    start, end = (p.ordinal for p in period_span(f.period))
    length = end - start + 1
    month = crossings["month"]
    rows = crossings[mask & month.between(start, end)]
    states = rows["point"].astype(str).map(cross.points().set_index("code")["state_pcode"])
    period = rows["month"] if f.freq == "M" else aggregate.period_ordinals(rows["month"].to_numpy(), f.freq)

    def total(keys) -> pd.Series:
        return rows.groupby(keys, observed=True)["count"].sum()

    return {
        "kpis": total("direction"),
        "previous": crossings[mask & month.between(start - length, start - 1)]
        .groupby("direction", observed=True)["count"]
        .sum(),
        "by_point": total(["point", "direction"]),
        "by_state": rows.groupby([states, rows["direction"]], observed=True)["count"].sum(),
        "by_period": rows.groupby([period, rows["direction"]], observed=True)["count"].sum(),
        **{f"by_{c}": total([c, "direction"]) for c in ("nationality", "origin", "destination")},
    }


# ---------------------------------------------------------------------------------------------- measuring


def _times_ms(
    run: Callable[[Filters], object], filters: Sequence[Filters], repeat: int
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU times (this process's) of each change: on a shared machine the CPU time is the one
    other processes do not inflate."""
    run(filters[0])  # warm up (imports, caches)
    times, cpu = [], []
    for _ in range(repeat):
        for f in filters:
            start, start_cpu = time.perf_counter(), time.process_time()
            run(f)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    return times, cpu


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


def measure(dataset, repeat: int = 3) -> dict[str, float | int]:
    """One store: median and p95 of ``viewdata.build``, the floor's median, their ratio, peak memory."""
    events, flows, crossings = dataset.events, dataset.flows, dataset.crossings
    filters = filter_sequence(dataset)

    def views(f: Filters) -> object:
        return viewdata.build(dataset, f)

    def floor(f: Filters) -> object:
        return floor_aggregates(events, flows, viewdata.selection(f), f.freq), floor_crossings(crossings, f)

    times, cpu = _times_ms(views, filters, repeat)
    floor_times, floor_cpu = _times_ms(floor, filters, repeat)
    median = statistics.median(times)
    floor_median = statistics.median(floor_times)
    return {
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "floor_cpu_median_ms": round(statistics.median(floor_cpu), 1),
        "cpu_ratio": round(statistics.median(cpu) / statistics.median(floor_cpu), 2),
        "events": len(events),
        "changes": len(times),
        "median_ms": round(median, 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "floor_median_ms": round(floor_median, 1),
        "ratio": round(median / floor_median, 2),
        # The widest selections (the default year, then a whole year) need the most working memory.
        "peak_memory_mb": round(
            _table_mb(events, flows, crossings) + _peak_working_mb(views, filters[:3]), 1
        ),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        load = "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "load average unknown"
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}, "
        f"{load}), "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}"
    )


def run_bench(
    sizes: Sequence[int] = DEFAULT_SIZES, seed: int = 2023, repeat: int = 3, until: str = DEFAULT_UNTIL
) -> dict:
    """Measure every size on a fresh demo store; the result is what ``--json`` writes."""
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="flowmon-bench-") as folder:
            results.append(measure(demo_dataset(Path(folder), size, seed, until), repeat))
    return {"sizes": results, "engine": ENGINE, "machine": machine()}


def format_table(result: dict) -> str:
    header = (
        f"{'events':>10}  {'median ms':>9}  {'p95 ms':>7}  {'floor ms':>8}  {'ratio':>5}  {'CPU ms':>6}  "
        f"{'floor CPU':>9}  {'CPU ratio':>9}  {'peak MB':>8}"
    )
    lines = [header, "-" * len(header)]
    for row in result["sizes"]:
        lines.append(
            f"{row['events']:>10,}  {row['median_ms']:>9.1f}  {row['p95_ms']:>7.1f}"
            f"  {row['floor_median_ms']:>8.1f}  {row['ratio']:>5.2f}  {row['cpu_median_ms']:>6.1f}"
            f"  {row['floor_cpu_median_ms']:>9.1f}  {row['cpu_ratio']:>9.2f}  {row['peak_memory_mb']:>8.1f}"
        )
    lines += [
        "",
        "time from a filter change to the view's snapshot (viewdata.build: counted, protected, worded);",
        "floor: the same counting by bare pandas groupby; ratio = median / floor median (wall clock);",
        "CPU: the same medians in this process's CPU time (other processes on the machine don't inflate it).",
        f"target at 1M events: median <= {TARGET_MEDIAN_MS:.0f} ms and ratio <= {TARGET_RATIO}.",
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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "bench",
        parents=[common],
        help="benchmarks: a filter change's view data; --browser, --soak, --load against a served dashboard",
        description="Benchmarks; they report, they do not fail. Without a flag: on demo stores of each size, "
        "a realistic sequence of filter changes, each timed until the view's snapshot is ready "
        "(viewdata.build), beside the same counting done by bare pandas (the floor). --browser, --soak and "
        "--load serve the dashboard (and a minimal Panel page as the reference) with panel serve on "
        "127.0.0.1 over a demo store of N events (default 1,000,000; --data-dir DIR serves DIR's data "
        "instead) and measure it from headless Chromium or from light websocket clients.",
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--browser", action="store_true",
                      help="first map paint, server work before the HTML, filter round trips, websocket "
                      "bytes, in headless Chromium against the reference page")  # fmt: skip
    kind.add_argument(
        "--soak",
        action="store_true",
        help="open and close sessions in rounds against one server; its memory after each round",
    )
    kind.add_argument("--load", action="store_true",
                      help="sessions changing filters at once for a while: changes/s, round trips, errors, "
                      "memory per session")  # fmt: skip
    parser.add_argument("--events", type=_sizes, default=None, metavar="N,N,...",
                        help="sizes of the demo store (default 10000,100000,1000000; one size, default "
                        "1000000, with --browser, --soak, --load)")  # fmt: skip
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON to FILE")
    parser.add_argument("--repeat", type=_positive, default=3, metavar="N",
                        help="passes over the filter sequence per size (default 3)")  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=2023, metavar="N", help="seed of the demo data (default 2023)"
    )
    parser.add_argument("--until", default=DEFAULT_UNTIL, metavar="YYYY-MM",
                        help=f"last month of the demo data (default {DEFAULT_UNTIL})")  # fmt: skip
    parser.add_argument("--changes", type=_positive, default=30, metavar="N",
                        help="--browser: filter changes timed in each page (default 30)")  # fmt: skip
    parser.add_argument("--opens", type=_positive, default=5, metavar="N",
                        help="--browser: warm page opens and page GETs per server (default 5)")  # fmt: skip
    parser.add_argument(
        "--rounds",
        default="20,30,50,50,50",
        metavar="N,N,...",
        help="--soak: sessions opened and closed in each round (default 20,30,50,50,50)",
    )
    parser.add_argument("--sessions", type=_positive, default=20, metavar="N",
                        help="--load: sessions changing filters at once (default 20)")  # fmt: skip
    parser.add_argument("--duration", type=float, default=60.0, metavar="S",
                        help="--load: seconds of changes per phase (default 60)")  # fmt: skip
    parser.add_argument("--processes", type=_positive, default=1, metavar="N",
                        help="--load: N > 1 serves through `flowmon serve --config` (N panel processes "
                        "behind nginx, signed-in sessions) instead of one panel serve")  # fmt: skip
    parser.add_argument("--profile", metavar="FILE", type=Path,
                        help="--load: sample the server with py-spy during the saturated phase into FILE "
                        "(collapsed stacks) and say where its time went")  # fmt: skip
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.browser or args.soak or args.load:
        return _run_served(args)
    result = run_bench(args.events or DEFAULT_SIZES, seed=args.seed, repeat=args.repeat, until=args.until)
    print(format_table(result))
    _write_json(args.json, result)
    return 0


def _write_json(path: Path | None, result: dict) -> None:
    if path:
        write_text_atomic(path, json.dumps(result, indent=2, default=str) + "\n")
        print(f"written {path}")


def _run_served(args: argparse.Namespace) -> int:
    from flowmon import bench_server

    sizes = args.events or (1_000_000,)
    if len(sizes) != 1:
        raise ValueError("--browser, --soak and --load take one --events size")
    with tempfile.TemporaryDirectory(prefix="flowmon-bench-") as folder:
        work = Path(folder)
        data_dir = bench_server.ensure_store(args.data_dir, sizes[0], work, args.seed, args.until)
        if args.browser:
            from flowmon import bench_browser

            result = bench_browser.run_browser(data_dir, args.changes, args.opens, work)
            text = bench_browser.format_browser(result, machine())
        elif args.soak:
            from flowmon import bench_soak

            result = bench_soak.run_soak(data_dir, bench_soak.parse_rounds(args.rounds), work)
            text = bench_soak.format_soak(result, machine())
        else:
            from flowmon import bench_load

            result = bench_load.run_load(
                data_dir, args.sessions, args.duration, args.processes, work, args.profile
            )
            text = bench_load.format_load(result, machine())
    result["machine"] = machine()
    print(text)
    _write_json(args.json, result)
    return 0
