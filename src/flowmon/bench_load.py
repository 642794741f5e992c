"""``flowmon bench --load``: many sessions changing filters at once against one server process (or several
behind nginx), with light protocol-level clients (``flowmon.bench_client``) so that the clients do not eat
the server's CPU as 20 browsers would.

Phases, each ``duration`` seconds on the same open sessions:

- saturated: every session sends its next change as soon as the page has settled from the last (no
  thinking time): the changes per second the server can serve, and the round trips at that pace;
- paced: the sessions together send ``TARGET_RATE`` changes per second (each waits its turn): the round
  trips a team sees at that rate;
- the reference page (one Select, one plot) saturated the same way, in the same run, for scale.

A change is a period, an office or a stream button, as a person uses them; its round trip ends when the
map's new values have arrived (``map``) and when everything the change sent has (``settled``). Memory per
session is the server's growth from opening the sessions, divided by their number.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from flowmon import bench_client as bc
from flowmon import bench_profile
from flowmon import bench_server as bs
from flowmon.bench_soak import CHECK_MS, LIFETIME_MS, open_sessions

TARGET_RATE = 12.0  # changes per second from all sessions together
TARGET_P95_MS = 1000.0
FAILURES = (OSError, TimeoutError, bc.ServerError, LookupError)


def dashboard_changes(session: bc.Session) -> list[tuple[str, str, object]]:
    """A cycle of changes (model id, property, value), each differing from the widget's value before it."""
    period = session.widget("Period")
    current = period["attributes"].get("value")
    periods = [p for p in bc.option_values(period["attributes"]["options"]) if p != current][:12]
    office = session.widget("Office")
    offices = [*[o for o in bc.option_values(office["attributes"]["options"]) if o][:3], ""]
    streams, labels = session.buttons("AVRR returns")
    changes, p, o = [], 0, 0
    for i in range(4 * len(periods)):
        if i % 4 in (0, 2):
            changes.append((period["id"], "value", periods[p % len(periods)]))
            p += 1
        elif i % 4 == 1:
            changes.append((office["id"], "value", offices[o % len(offices)]))
            o += 1
        else:
            changes.append((streams["id"], "active", [labels.index("AVRR returns")] if i % 8 == 3 else []))
    return changes


def _views_visited(changes: list[tuple[str, str, object]]) -> set[tuple]:
    """The widget states a cycle of changes passes through: the views it asks the server for (read on the
    cycle's second pass, when every widget it touches has been set)."""
    state: dict[tuple, object] = {}
    seen = set()
    widgets = list(dict.fromkeys((model, prop) for model, prop, _ in changes))  # ids differ per session
    for i, (model, prop, value) in enumerate([*changes, *changes]):
        state[widgets.index((model, prop))] = tuple(value) if isinstance(value, list) else value
        if i >= len(changes):
            seen.add(tuple(sorted(state.items())))
    return seen


def reference_changes(session: bc.Session) -> list[tuple[str, str, object]]:
    select = session.widget("Period")
    current = select["attributes"].get("value")
    return [
        (select["id"], "value", v) for v in bc.option_values(select["attributes"]["options"]) if v != current
    ]


async def _drive(session, changes: Iterator, stop_at: float, pace_s: float, offset: float, out: dict) -> None:
    """One session's changes until ``stop_at``; ``changes`` goes on where the last phase stopped."""
    await asyncio.sleep(offset)
    while time.monotonic() < stop_at:
        started = time.monotonic()
        try:
            out["changes"].append(await session.change(*next(changes)))
        except FAILURES as error:
            out["errors"].append(f"{type(error).__name__}: {error}")
            if not isinstance(error, LookupError):
                return  # the session is gone or stuck: the rest of the phase without it
        if pace_s:
            await asyncio.sleep(max(0.0, pace_s - (time.monotonic() - started)))


async def _phase(sessions, cycles, duration: float, rate: float | None) -> dict:
    """Every session changing filters for ``duration`` s at ``rate`` changes/s together (None: flat out)."""
    out = {"changes": [], "errors": []}
    pace = len(sessions) / rate if rate else 0.0
    started = time.monotonic()
    stop_at = started + duration
    await asyncio.gather(*(
        _drive(s, c, stop_at, pace, (i * pace / len(sessions)) if pace else 0.0, out)
        for i, (s, c) in enumerate(zip(sessions, cycles, strict=True))
    ))  # fmt: skip
    elapsed = time.monotonic() - started
    done = out["changes"]
    return {
        "changes": len(done),
        "changes_per_s": round(len(done) / elapsed, 2),
        "map_p50_ms": bs.percentile([c.map_ms for c in done], 50),
        "map_p95_ms": bs.percentile([c.map_ms for c in done], 95),
        "settled_p50_ms": bs.percentile([c.settled_ms for c in done], 50),
        "settled_p95_ms": bs.percentile([c.settled_ms for c in done], 95),
        "bytes_per_change": int(statistics.median([c.received_bytes for c in done])) if done else None,
        "errors": len(out["errors"]),
        "error_examples": out["errors"][:3],
    }


async def _load(
    server,
    count: int,
    duration: float,
    rates: dict,
    watch,
    make_changes,
    headers,
    profile: Path | None = None,
) -> dict:
    # A page first in every process, so that the sessions' memory is not the store read by a process's first
    # page (behind nginx a browser's route decides the process: new browsers until each has had one).
    errors, warmed = [], 0
    pids = server.panels() if hasattr(server, "panels") else [server.pid]
    started = {pid: bs.cpu_seconds(pid) for pid in pids}
    for _ in range(4 * len(pids)):
        warm, failed = await open_sessions(server, 1, watch, headers() if headers else None)
        errors += failed
        for session in warm:
            session.close()
            warmed += 1
        if all(bs.cpu_seconds(pid) - started[pid] > 0.5 for pid in pids):
            break
    if isinstance(server, bs.Server):
        # The warm pages destroyed and their memory released before anything is measured: the phases time
        # filter changes, not the clean-up of pages closed before them (the soak measures that).
        _wait_destroyed(server, warmed)
    bs.wait_quiet(server.pid)
    before = server.rss_mb()
    sessions, open_errors = [], errors
    for _ in range(count):  # each its own browser: its own sign-in and nginx route
        opened, errors = await open_sessions(server, 1, watch, headers() if headers else None)
        sessions += opened
        open_errors += errors
    bs.wait_quiet(server.pid)
    result = {
        "warm_pages": warmed,
        "sessions": len(sessions),
        "open_errors": open_errors,
        "open_s_median": round(statistics.median(s.open_s for s in sessions), 2) if sessions else None,
        "mb_per_session": round((server.rss_mb() - before) / max(len(sessions), 1), 1),
        "server_mb": round(server.rss_mb(), 1),
    }
    plans = [make_changes(s) for s in sessions]
    result["distinct_views"] = len({view for plan in plans for view in _views_visited(plan)})
    cycles = [itertools.cycle(plan) for plan in plans]
    cpu = server.cpu_s()
    for name, rate in rates.items():
        started = time.monotonic()
        spy = bench_profile.record(server.pid, duration, profile) if profile and name == "saturated" else None
        result[name] = await _phase(sessions, cycles, duration, rate)
        if spy is not None:
            spy.wait(timeout=60)
            result["profile"] = bench_profile.shares(profile) if profile.exists() else None
        used = server.cpu_s() - cpu
        result[name]["server_cpu_share"] = round(used / (time.monotonic() - started), 2)
        # CPU time per change: what the server's capacity is, whoever else shares the machine's cores.
        result[name]["cpu_ms_per_change"] = round(1000 * used / max(result[name]["changes"], 1), 1)
        cpu = server.cpu_s()
    for session in sessions:
        session.close()
    return result


def _wait_destroyed(server: bs.Server, count: int) -> None:
    deadline = time.monotonic() + (LIFETIME_MS + 4 * CHECK_MS) / 1000
    while server.sessions_logged("destroyed") < count and time.monotonic() < deadline:
        time.sleep(CHECK_MS / 1000)
    bs.wait_released(server.pid)


def run_load(
    data_dir: Path, sessions: int, duration: float, processes: int, work: Path, profile: Path | None = None
) -> dict:
    phases = {"saturated": None, "paced": TARGET_RATE}
    if processes > 1:
        team = bs.Team(data_dir, processes, work)
        with team:
            dashboard = asyncio.run(
                _load(
                    team,
                    sessions,
                    duration,
                    phases,
                    bc.DASHBOARD_MAP,
                    dashboard_changes,
                    team.sign_in,
                    profile,
                )
            )
            dashboard["server_errors"] = team.errors()
        return {"processes": processes, "dashboard": dashboard, "reference": None, "duration_s": duration}
    # Closed pages destroyed soon (as in the soak), and logged: the warm-up pages are gone before measuring.
    expiry = ("--unused-session-lifetime", str(LIFETIME_MS), "--check-unused-sessions", str(CHECK_MS))
    logged = {"PANEL_LOG_LEVEL": "info"}
    server = bs.Server(bs.DASHBOARD, data_dir, work / "load.log", extra=expiry, env=logged)
    reference = bs.Server(bs.REFERENCE, None, work / "load-reference.log", extra=expiry, env=logged)
    with server, reference:
        dashboard = asyncio.run(
            _load(server, sessions, duration, phases, bc.DASHBOARD_MAP, dashboard_changes, None, profile)
        )
        dashboard["server_errors"] = server.errors()
        ref = asyncio.run(
            _load(
                reference, sessions, duration, {"saturated": None}, bc.REFERENCE_PLOT, reference_changes, None
            )
        )
        ref["server_errors"] = reference.errors()
    return {"processes": 1, "dashboard": dashboard, "reference": ref, "duration_s": duration}


ROWS = (
    ("changes", "changes", "{:,}"),
    ("changes per second", "changes_per_s", "{:.1f}"),
    ("round trip to the map p50 (ms)", "map_p50_ms", "{:,.0f}"),
    ("round trip to the map p95 (ms)", "map_p95_ms", "{:,.0f}"),
    ("until settled p50 (ms)", "settled_p50_ms", "{:,.0f}"),
    ("until settled p95 (ms)", "settled_p95_ms", "{:,.0f}"),
    ("bytes received per change", "bytes_per_change", "{:,}"),
    ("server CPU (cores busy)", "server_cpu_share", "{:.2f}"),
    ("server CPU per change (ms)", "cpu_ms_per_change", "{:,.0f}"),
    ("errors", "errors", "{:,}"),
)


def format_load(result: dict, machine: str) -> str:
    dash, ref = result["dashboard"], result["reference"]
    columns = [("dashboard, saturated", dash["saturated"]), (f"paced at {TARGET_RATE:.0f}/s", dash["paced"])]
    if ref is not None:
        columns.append(("reference, saturated", ref["saturated"]))
    where = (
        "one panel process" if result["processes"] == 1 else f"{result['processes']} processes behind nginx"
    )
    header = f"{'':32}" + "".join(f"  {name:>22}" for name, _ in columns)
    lines = [
        f"load: {dash['sessions']} protocol-level sessions changing filters, "
        f"{result['duration_s']:.0f} s per phase, {where}",
        header,
        "-" * len(header),
    ]
    for label, key, shape in ROWS:
        cells = []
        for _, phase in columns:
            value = phase.get(key)
            cells.append("-" if value is None else shape.format(value))
        lines.append(f"{label:32}" + "".join(f"  {c:>22}" for c in cells))
    lines += [
        "",
        f"memory per session: {dash['mb_per_session']} MB (server {dash['server_mb']} MB with all open"
        + (f"; reference {ref['mb_per_session']} MB" if ref else "")
        + f"); median page open {dash['open_s_median']} s; open errors {len(dash['open_errors'])}; "
        + f"{dash.get('warm_pages', 0)} warm-up page(s) opened, closed"
        + (" and destroyed before measuring" if result["processes"] == 1 else ""),
        f"target: >= {TARGET_RATE:.0f} changes/s saturated, p95 < {TARGET_P95_MS:.0f} ms at "
        f"{TARGET_RATE:.0f}/s; "
        f"server log errors: {len(dash['server_errors'])}",
        f"the sessions' cycles ask for {dash.get('distinct_views', '?')} distinct views, the same for every "
        "session: a view's snapshot is counted once and shared, so most changes here draw a shared view "
        "(`flowmon bench --browser` times views never seen before)",
        f"machine: {machine}",
    ]
    if dash.get("profile"):
        lines += ["", bench_profile.format_shares(dash["profile"])]
    return "\n".join(lines)
