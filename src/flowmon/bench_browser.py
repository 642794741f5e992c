"""``flowmon bench --browser``: the served dashboard in headless Chromium against a minimal Panel page.

Both pages are served by real ``panel serve`` processes on 127.0.0.1 in the same run (the dashboard over a
demo store of N events, ``flowmon.bench_server``), and measured the same way:

- first map paint: from navigation to the watched plot's data in a document that has finished rendering
  (``Bokeh.documents[0].is_idle``), as the page's own clock (``performance.now()``) reads it; cold (the
  server's first page, which reads the store) and warm (the median of later opens);
- server work before the first HTML: how long the server takes to answer the page's GET (it builds the
  session there) and the server process's CPU time during it, and its CPU time for a whole page open;
- filter round trip: a person's choice in the page (a period, an office, a stream button) until the map's
  values in the page are the ones that view has (``viewdata.build`` of the same filters, computed here),
  p50/p95 over the changes; the websocket bytes each change moves (``page.on("websocket")`` frames) and the
  server's CPU time for it.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from flowmon import bench_server as bs
from flowmon.filters import INDICATOR_STREAM, Filters

CHROMIUM = Path("/usr/bin/chromium")
TARGET_ROUND_TRIP_P95_MS = 300.0
TARGET_PAINT_RATIO = 1.5
TARGET_HTML_RATIO = 3.0
PAGE_TIMEOUT_MS = 180_000
CHANGE_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1600, "height": 1100}
STREAM_LABELS = {"caseload": "MRRC caseload", "return": "AVRR returns", "referral": "Trafficking referrals",
                 "displacement": "Displacement (DTM)"}  # fmt: skip

# The watched data source: the dashboard's state map, the reference page's bars (flowmon.bench_client).
# The last one the page holds: a map drawn again (its first lines or arrows) is the newest source, while the
# browser's document may still list the replaced one.
FIND_SOURCE = """(cols) => {
  if (!window.Bokeh || !Bokeh.documents.length) return null;
  let found = null;
  for (const model of Bokeh.documents[0].all_models) {
    const d = model.data;
    if (d && cols.every((c) => d[c] !== undefined)) found = d;
  }
  return found;
}"""
PAINTED_JS = f"""(cols) => {{
  const find = {FIND_SOURCE};
  return find(cols) && Bokeh.documents[0].is_idle ? performance.now() : false;
}}"""
VALUES_JS = f"""([cols, value]) => {{
  const d = ({FIND_SOURCE})(cols);
  if (!d) return null;
  const out = {{}};
  Array.from(d.pcode).forEach((p, i) => {{
    const v = d[value][i];
    out[p] = Number.isFinite(v) ? Math.round(v) : null;
  }});
  return out;
}}"""
SAME_JS = f"""([cols, value, want]) => {{
  const got = ({VALUES_JS})([cols, value]);
  return got !== null && JSON.stringify(got) === JSON.stringify(want);
}}"""
CHANGED_JS = f"""([cols, value, before]) => {{
  const got = ({VALUES_JS})([cols, value]);
  return got !== null && JSON.stringify(got) !== JSON.stringify(before);
}}"""
IDLE_JS = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"
DASHBOARD_SOURCE = (["pcode", "hatch", "value"], "value")
REFERENCE_SOURCE = (["pcode", "people"], "people")


# --------------------------------------------------------------------------------------- the sequence


def _key(values: dict) -> str:
    return repr(sorted(values.items()))


def expected_map(dataset, filters: Filters) -> dict[str, int | None]:
    """What the page's map must show for ``filters`` (the server builds the same ``ViewData``)."""
    import pandas as pd

    from flowmon import viewdata

    values = viewdata.build(dataset, filters).map_values()
    return {
        str(p): (None if pd.isna(v) else int(v))
        for p, v in zip(values["pcode"], values["value"], strict=True)
    }


def after(filters: Filters, action: tuple[str, str | None]) -> Filters:
    """The dashboard's filters after one action (the session's rules: the map follows the streams)."""
    name, value = action
    if name != "stream":
        return filters.replace(**{name: value})
    streams = (
        tuple(s for s in filters.stream if s != value)
        if value in filters.stream
        else (*filters.stream, value)
    )
    filters = filters.replace(stream=streams)
    if filters.stream and filters.map_stream not in filters.stream:
        first = filters.stream[0]
        filters = filters.replace(indicator=next(i for i, s in INDICATOR_STREAM.items() if s == first))
    return filters


def candidate_actions(choices, count: int) -> list[tuple[str, str | None]]:
    """Periods (years, quarters, months), offices and a stream button, interleaved as a person uses them."""
    periods = choices.periods
    years = periods["year"][-3:]
    recent = [*years[::-1], *periods["half"][-2:], *periods["quarter"][-6:], *periods["month"][-8:]]
    offices = [*[o for o in ("KRT", "PZU", "KSL", "GDF") if o in choices.offices], None]
    actions = []
    for i in range(count * 3):
        kind = i % 4
        if kind in (0, 2):
            actions.append(("period", recent[(i // 2) % len(recent)]))
        elif kind == 1:
            actions.append(("office", offices[(i // 4) % len(offices)]))
        else:
            actions.append(("stream", "return"))
    return actions


def plan(dataset, count: int) -> list[tuple[tuple[str, str | None], Filters, dict]]:
    """``count`` actions from the default view, each changing what the map shows, with the expected map.

    No view comes twice: sessions share a view's snapshot (``Dataset.shared``), so a repeat would time a
    lookup instead of counting."""
    from flowmon import viewdata

    choices = viewdata.choices(dataset)
    filters = Filters(period=choices.default_period)
    shown = expected_map(dataset, filters)
    steps, seen = [], {filters}
    for action in candidate_actions(choices, count):
        if len(steps) == count:
            break
        new = after(filters, action)
        if new in seen:
            continue
        values = expected_map(dataset, new)
        if _key(values) == _key(shown):
            continue  # the map would not change: nothing to time
        steps.append((action, new, values))
        seen.add(new)
        filters, shown = new, values
    return steps


# --------------------------------------------------------------------------------------- measuring


class Frames:
    """The websocket frames of a page: bytes received and sent, counted as they arrive."""

    def __init__(self, page):
        self.received = self.sent = self.count = 0
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        ws.on("framereceived", lambda payload: self._add("received", payload))
        ws.on("framesent", lambda payload: self._add("sent", payload))

    def _add(self, side: str, payload) -> None:
        size = len(payload.encode() if isinstance(payload, str) else payload)
        setattr(self, side, getattr(self, side) + size)
        self.count += 1


def settle(page, frames: Frames, quiet_ms: int = 300, timeout_s: float = 20) -> None:
    """Until the page's document is idle and no websocket frame has arrived for ``quiet_ms``."""
    page.wait_for_function(IDLE_JS, timeout=CHANGE_TIMEOUT_MS)
    deadline = time.monotonic() + timeout_s
    last, since = frames.count, time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(50)
        if frames.count != last:
            last, since = frames.count, time.monotonic()
        elif (time.monotonic() - since) * 1000 >= quiet_ms:
            return


def open_page(context, server: bs.Server, source) -> tuple[float, float, object, Frames]:
    """A new page of ``server``: (first paint ms by the page's clock, server CPU s, page, frames)."""
    page = context.new_page()
    page.set_viewport_size(VIEWPORT)
    frames = Frames(page)
    cpu = server.cpu_s()
    page.goto(server.url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
    painted = page.wait_for_function(PAINTED_JS, arg=source[0], polling="raf", timeout=PAGE_TIMEOUT_MS)
    paint_ms = float(painted.json_value())
    settle(page, frames)
    bs.wait_quiet(server.pid)
    return paint_ms, server.cpu_s() - cpu, page, frames


def page_opens(context, server: bs.Server, source, opens: int) -> dict:
    """The cold open (the server's first page) and ``opens`` warm ones."""
    cold_ms, cold_cpu, page, _ = open_page(context, server, source)
    page.close()
    warm, cpu = [], []
    for _ in range(opens):
        paint_ms, cpu_s, page, _ = open_page(context, server, source)
        page.close()
        warm.append(paint_ms)
        cpu.append(cpu_s)
    return {
        "cold_paint_ms": round(cold_ms, 1),
        "warm_paint_ms": round(statistics.median(warm), 1),
        "cold_open_cpu_ms": round(cold_cpu * 1000, 1),
        "open_cpu_ms": round(statistics.median(cpu) * 1000, 1),
    }


def html_work(server: bs.Server, count: int) -> dict:
    """The server's work before the first HTML: the GET's time and the server's CPU time during it."""
    times, cpu = [], []
    for _ in range(count):
        bs.wait_quiet(server.pid)
        before = server.cpu_s()
        seconds, _ = bs.fetch_page(server.url)
        cpu.append(server.cpu_s() - before)
        times.append(seconds)
    return {
        "html_ms": round(statistics.median(times) * 1000, 1),
        "html_cpu_ms": round(statistics.median(cpu) * 1000, 1),
    }


def _action(page, action: tuple[str, str | None]):
    """What a person does for ``action``, found in the page beforehand so that only doing it is timed."""
    name, value = action
    if name == "stream":
        button = page.get_by_role("button", name=STREAM_LABELS[value], exact=True).first
        return button.click
    if name == "period":
        select = page.locator(f"select:has(option[value='{value}'])").first
        return lambda: select.select_option(value=value)
    # The office select offers labels ("KRT · Khartoum (closed Apr 2023)") and "All offices".
    select = page.locator("select", has=page.locator("option", has_text="All offices")).first
    labels = select.evaluate("(s) => Array.from(s.options).map((o) => o.text)")
    label = labels[0] if value is None else next(t for t in labels if t.startswith(f"{value} ·"))
    return lambda: select.select_option(label=label)


def dashboard_round_trips(context, server: bs.Server, dataset, steps: list) -> dict:
    """The ``plan``'s filter changes in one page, each timed until the map shows that view's values."""
    from flowmon import viewdata
    from flowmon.filters import parse_query, resolve

    _, _, page, frames = open_page(context, server, DASHBOARD_SOURCE)
    cols, value = DASHBOARD_SOURCE
    times, received, sent, cpu, mismatched = [], [], [], [], []
    choices = viewdata.choices(dataset)
    try:
        for action, filters, values in steps:
            act = _action(page, action)
            frames_in, frames_out, cpu_before = frames.received, frames.sent, server.cpu_s()
            start = time.perf_counter()
            act()
            page.wait_for_function(
                SAME_JS, arg=[cols, value, values], polling="raf", timeout=CHANGE_TIMEOUT_MS
            )
            times.append((time.perf_counter() - start) * 1000)
            settle(page, frames)
            received.append(frames.received - frames_in)
            sent.append(frames.sent - frames_out)
            cpu.append((server.cpu_s() - cpu_before) * 1000)
            # The page's own URL must say the filters this step expected (the plan's model is right).
            shown, _ = resolve(parse_query(page.url), choices)
            if shown.to_query() != filters.to_query():
                mismatched.append(f"{action}: page {shown.to_query()} != {filters.to_query()}")
    finally:
        page.close()
    return _round_trip_summary(times, received, sent, cpu) | {"url_mismatches": mismatched}


def reference_round_trips(context, server: bs.Server, count: int) -> dict:
    """The reference page's Select changed ``count`` times, each timed until its bars change."""
    _, _, page, frames = open_page(context, server, REFERENCE_SOURCE)
    periods = page.eval_on_selector_all("select option", "options => options.map((o) => o.value)")
    cols, value = REFERENCE_SOURCE
    times, received, sent, cpu = [], [], [], []
    try:
        for i in range(count):
            before = page.evaluate(VALUES_JS, [cols, value])
            period = periods[i % (len(periods) - 1)]  # never the page's first value (the last period)
            frames_in, frames_out, cpu_before = frames.received, frames.sent, server.cpu_s()
            start = time.perf_counter()
            page.locator("select").first.select_option(value=period)
            page.wait_for_function(
                CHANGED_JS, arg=[cols, value, before], polling="raf", timeout=CHANGE_TIMEOUT_MS
            )
            times.append((time.perf_counter() - start) * 1000)
            settle(page, frames)
            received.append(frames.received - frames_in)
            sent.append(frames.sent - frames_out)
            cpu.append((server.cpu_s() - cpu_before) * 1000)
    finally:
        page.close()
    return _round_trip_summary(times, received, sent, cpu)


def _round_trip_summary(times, received, sent, cpu) -> dict:
    return {
        "changes": len(times),
        "round_trip_p50_ms": bs.percentile(times, 50),
        "round_trip_p95_ms": bs.percentile(times, 95),
        "ws_received_bytes": int(statistics.median(received)) if received else None,
        "ws_sent_bytes": int(statistics.median(sent)) if sent else None,
        "change_cpu_ms": bs.percentile(cpu, 50),
    }


# --------------------------------------------------------------------------------------- the run


def run_browser(data_dir: Path, changes: int = 30, opens: int = 5, work: Path | None = None) -> dict:
    """Serve the dashboard over ``data_dir`` and the reference page, measure both in one Chromium."""
    import tempfile

    from playwright.sync_api import sync_playwright

    from flowmon import datastore
    from flowmon.export.png import CHROMIUM_ARGS

    if not CHROMIUM.exists():
        raise FileNotFoundError(
            f"the browser benchmark needs Chromium at {CHROMIUM} (apt-get install chromium)"
        )
    work = Path(work or tempfile.mkdtemp(prefix="flowmon-bench-"))
    dataset = datastore.open_dataset(data_dir)
    steps = plan(dataset, changes)
    dashboard = bs.Server(bs.DASHBOARD, data_dir, work / "dashboard.log")
    reference = bs.Server(bs.REFERENCE, None, work / "reference.log")
    with dashboard, reference, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            pages = {
                "dashboard": page_opens(context, dashboard, DASHBOARD_SOURCE, opens),
                "reference": page_opens(context, reference, REFERENCE_SOURCE, opens),
            }
            for name, server in (("dashboard", dashboard), ("reference", reference)):
                pages[name] |= html_work(server, opens)
            pages["dashboard"] |= dashboard_round_trips(context, dashboard, dataset, steps)
            pages["reference"] |= reference_round_trips(context, reference, changes)
            for name, server in (("dashboard", dashboard), ("reference", reference)):
                pages[name]["server_rss_mb"] = round(server.rss_mb(), 1)
                pages[name]["server_errors"] = server.errors()
        finally:
            browser.close()
    dash, ref = pages["dashboard"], pages["reference"]
    return {
        "events": len(dataset.events),
        "pages": pages,
        "ratios": {
            "warm_paint": round(dash["warm_paint_ms"] / ref["warm_paint_ms"], 2),
            "cold_paint": round(dash["cold_paint_ms"] / ref["cold_paint_ms"], 2),
            "html_ms": round(dash["html_ms"] / ref["html_ms"], 2),
            "html_cpu": round(dash["html_cpu_ms"] / max(ref["html_cpu_ms"], 1.0), 2),
            "open_cpu": round(dash["open_cpu_ms"] / max(ref["open_cpu_ms"], 1.0), 2),
        },
    }


ROWS = (
    ("first map paint, cold (ms)", "cold_paint_ms"),
    ("first map paint, warm (ms)", "warm_paint_ms"),
    ("GET until the HTML (ms)", "html_ms"),
    ("server CPU before the HTML (ms)", "html_cpu_ms"),
    ("server CPU per page open (ms)", "open_cpu_ms"),
    ("server CPU, first page open (ms)", "cold_open_cpu_ms"),
    ("filter changes timed", "changes"),
    ("round trip p50 (ms)", "round_trip_p50_ms"),
    ("round trip p95 (ms)", "round_trip_p95_ms"),
    ("websocket bytes in per change", "ws_received_bytes"),
    ("websocket bytes out per change", "ws_sent_bytes"),
    ("server CPU per change (ms)", "change_cpu_ms"),
    ("server memory after (MB)", "server_rss_mb"),
)


def format_browser(result: dict, machine: str) -> str:
    pages = result["pages"]
    header = f"{'':34}  {'dashboard':>12}  {'reference':>12}"
    lines = [f"served pages in headless Chromium, {result['events']:,} events", header, "-" * len(header)]
    for label, key in ROWS:
        cells = []
        for name in ("dashboard", "reference"):
            value = pages[name].get(key)
            cells.append(
                "-"
                if value is None
                else f"{value:>12,.0f}"
                if isinstance(value, (int, float))
                else str(value)
            )
        lines.append(f"{label:34}  {cells[0]:>12}  {cells[1]:>12}")
    ratios = result["ratios"]
    dash = pages["dashboard"]
    mismatches = dash.get("url_mismatches") or []
    errors = dash.get("server_errors", []) + pages["reference"].get("server_errors", [])
    lines += [
        "",
        f"warm first paint {ratios['warm_paint']:.2f}x the reference (target <= {TARGET_PAINT_RATIO}x); "
        f"cold {ratios['cold_paint']:.2f}x",
        f"server work before the HTML: {ratios['html_ms']:.2f}x the reference's time, "
        f"{ratios['html_cpu']:.2f}x its CPU "
        f"(target <= {TARGET_HTML_RATIO:.0f}x); per page open {ratios['open_cpu']:.2f}x its CPU",
        f"round trip p95 {dash['round_trip_p95_ms']} ms (target <= {TARGET_ROUND_TRIP_P95_MS:.0f} ms): "
        "a choice in the "
        "page until the map shows that view's values",
        f"pages whose URL disagreed with the expected filters: {len(mismatches)}; "
        f"server log errors: {len(errors)}",
        f"machine: {machine}",
    ]
    return "\n".join(lines)
