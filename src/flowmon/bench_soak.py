"""``flowmon bench --soak``: is a closed session's memory returned? Sessions opened and closed in rounds.

One ``panel serve`` of the dashboard; each round opens its sessions with the light protocol-level client
(``flowmon.bench_client``: the page's GET, its websocket, the document, one filter change), keeps them all
open at once, closes them, waits until the server has destroyed them (``--unused-session-lifetime`` and
``--check-unused-sessions`` are passed shorter than Bokeh's defaults) and the process is idle, and reads
the server's resident memory. Growth after the first round, per 100 sessions closed, is what a server
that runs for months keeps; the first round pays for what is built once per process (the store read,
caches, imports on first use).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from flowmon import bench_client as bc
from flowmon import bench_server as bs

TARGET_GROWTH_MB_PER_100 = 5.0
# A closed session is destroyed this long after its last connection went away. It is also how long a session
# made by the page's GET waits for its websocket: while 4 pages are built one after the other that took
# over 2 s, the server dropped the session and built a second one when the websocket came (33 built for 20).
LIFETIME_MS = 10_000
CHECK_MS = 1000  # how often the server looks for such sessions
OPEN_AT_ONCE = 4  # sessions being opened at the same time (the server does one at a time anyway)


def parse_rounds(text: str) -> list[int]:
    try:
        rounds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--rounds takes whole numbers separated by commas, not {text!r}") from None
    if not rounds or min(rounds) < 1:
        raise ValueError("--rounds needs at least one round of 1 or more sessions")
    return rounds


async def open_sessions(server: bs.Server, count: int, watch=bc.DASHBOARD_MAP, headers=None) -> tuple:
    """``count`` open sessions (``OPEN_AT_ONCE`` at a time) and the errors of those that failed."""
    gate = asyncio.Semaphore(OPEN_AT_ONCE)
    errors: list[str] = []

    async def one() -> bc.Session | None:
        async with gate:
            session = bc.Session(server.base, server.path, watch, headers=dict(headers or {}))
            try:
                return await session.open()
            except (OSError, TimeoutError, bc.ServerError, LookupError) as error:
                errors.append(f"open: {error}")
                session.close()
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [s for s in opened if s is not None], errors


async def _round(server: bs.Server, count: int) -> tuple[float, list[str]]:
    sessions, errors = await open_sessions(server, count)
    for i, session in enumerate(sessions):
        try:
            period = session.widget("Period")
            values = bc.option_values(period["attributes"]["options"])
            current = period["attributes"].get("value")
            await session.change(period["id"], "value", next(v for v in values[i % 4 :] if v != current))
        except (OSError, TimeoutError, bc.ServerError, LookupError, StopIteration) as error:
            errors.append(f"change: {error}")
    open_mb = server.rss_mb()
    for session in sessions:
        session.close()
    return open_mb, errors


def run_soak(data_dir: Path, rounds: list[int], work: Path) -> dict:
    extra = ("--unused-session-lifetime", str(LIFETIME_MS), "--check-unused-sessions", str(CHECK_MS))
    # Panel logs each session's launch and destruction at INFO: the soak counts both.
    server = bs.Server(
        bs.DASHBOARD, data_dir, work / "soak.log", extra=extra, env={"PANEL_LOG_LEVEL": "info"}
    )
    rows = []
    with server:
        start_mb = server.rss_mb()
        total = 0
        for count in rounds:
            started = time.monotonic()
            open_mb, errors = asyncio.run(_round(server, count))
            total += count
            time.sleep((LIFETIME_MS + 2 * CHECK_MS) / 1000)  # destroyed by now
            bs.wait_released(server.pid)
            rows.append({
                "sessions": count, "closed_total": total, "open_mb": round(open_mb, 1),
                "after_mb": round(server.rss_mb(), 1), "seconds": round(time.monotonic() - started, 1),
                "errors": errors, "launched": server.sessions_logged("launching"),
                "destroyed": server.sessions_logged("destroyed"),
            })  # fmt: skip
        log_errors = server.errors()
    first, last = rows[0], rows[-1]
    after_first = last["closed_total"] - first["closed_total"]
    growth = (last["after_mb"] - first["after_mb"]) / after_first * 100 if after_first else None
    # A server keeps the memory its busiest moment needed: the growth once the largest round has passed
    # tells a leak (still growing) from a high-water mark (flat).
    peak = rows[max(range(len(rows)), key=lambda i: (rows[i]["sessions"], -i))]
    after_peak = last["closed_total"] - peak["closed_total"]
    peak_growth = (last["after_mb"] - peak["after_mb"]) / after_peak * 100 if after_peak else None
    return {
        "start_mb": round(start_mb, 1),
        "rounds": rows,
        "growth_mb_per_100": None if growth is None else round(growth, 2),
        "growth_after_peak_mb_per_100": None if peak_growth is None else round(peak_growth, 2),
        "server_errors": log_errors,
        "session_lifetime_ms": LIFETIME_MS,
        "check_unused_ms": CHECK_MS,
    }


def format_soak(result: dict, machine: str) -> str:
    header = (
        f"{'round':>5}  {'sessions':>8}  {'closed':>6}  {'built':>5}  {'destroyed':>9}  "
        f"{'MB, all open':>12}  {'MB, closed':>10}  {'s':>5}  errors"
    )
    lines = [
        f"soak: sessions opened and closed in rounds against one server (started at {result['start_mb']} MB)",
        header,
        "-" * len(header),
    ]
    for i, row in enumerate(result["rounds"], 1):
        lines.append(
            f"{i:>5}  {row['sessions']:>8}  {row['closed_total']:>6}  {row['launched']:>5}  "
            f"{row['destroyed']:>9}  {row['open_mb']:>12.1f}  {row['after_mb']:>10.1f}  "
            f"{row['seconds']:>5.0f}  {len(row['errors'])}"
        )
    growth = result["growth_mb_per_100"]
    shown = "n/a (one round)" if growth is None else f"{growth:.1f} MB"
    peak_growth = result.get("growth_after_peak_mb_per_100")
    peak_shown = "n/a (no round after it)" if peak_growth is None else f"{peak_growth:.1f} MB"
    lines += [
        "",
        f"growth after the first round, per 100 sessions closed: {shown} "
        f"(target < {TARGET_GROWTH_MB_PER_100:.0f} MB)",
        f"growth after the largest round, per 100 sessions closed: {peak_shown} (the rest is the memory the "
        "busiest round needed, kept by the server)",
        "built, destroyed: sessions the server has built and destroyed so far (its log); a session is "
        f"destroyed {result['session_lifetime_ms']} ms after closing (checked every "
        f"{result['check_unused_ms']} ms); server log errors: {len(result['server_errors'])}",
        f"machine: {machine}",
    ]
    built, closed = result["rounds"][-1]["launched"], result["rounds"][-1]["closed_total"]
    if built > closed:
        lines.insert(
            -1,
            f"the server built {built} sessions for {closed} opened: sessions expired before their "
            "websocket came, and were built again (a longer session lifetime avoids it)",
        )
    return "\n".join(lines)
