"""Offline: the served dashboard asks nothing of any machine but 127.0.0.1 (no CDN, fonts, icons, tiles).

Every request the page makes is recorded (scripts, styles, fonts, images, XHR, the websocket) and written
to tests/artifacts for a person to read; any request that would leave the machine is also refused, so a
page that needs the internet shows up as a failure here, not as a slow page in an office without it.
"""

from __future__ import annotations

import json
import math
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from flowmon.export.html import export_html

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "dashboards" / "flowmon_app.py"
LOCAL_SCHEMES = ("data", "blob", "about")
pytestmark = [pytest.mark.ui, pytest.mark.slow]


class RequestLog:
    """Every URL the page asks for, and those refused because they leave 127.0.0.1 (or, for a file opened
    from disk, because they are not that file)."""

    def __init__(self, page, port: int | None = None, file: str | None = None):
        self.port = port
        self.file = file
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(f"{request.resource_type} {request.url}"))
        page.on("websocket", lambda socket: self.requests.append(f"websocket {socket.url}"))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.route("**/*", self._route)

    def local(self, url: str) -> bool:
        parts = urlparse(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        if self.file is not None:
            return url == self.file
        if parts.scheme not in ("http", "https", "ws", "wss"):
            return False
        return parts.hostname == "127.0.0.1" and (self.port is None or parts.port == self.port)

    def _route(self, route) -> None:
        if self.local(route.request.url):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def outside(self) -> list[str]:
        return [line for line in self.requests if not self.local(line.split(" ", 1)[1])]

    def write(self, path: Path) -> None:
        lines = [*self.requests, "", "refused:", *self.refused] if self.refused else self.requests
        path.write_text("\n".join(lines) + "\n")


def wait_drawn(page, timeout: int = 90_000) -> None:
    page.wait_for_function(
        "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle", timeout=timeout
    )


@pytest.mark.parametrize(
    "query",
    ["", "?office=KRT&period=2024-H1&stream=return&present=1", "?lang=ar&indicator=return"],
)
def test_served_dashboard_requests_nothing_outside_the_machine(serve, demo_dir, page, artifacts, query):
    served = serve(APP, demo_dir)
    log = RequestLog(page, served.port)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(served.url + query, wait_until="networkidle", timeout=90_000)
    wait_drawn(page)
    # Use the dashboard a little: a widget change may load what the first page did not need.
    page.locator("select").first.select_option(index=1)
    page.wait_for_load_state("networkidle")
    wait_drawn(page)
    name = "present" if "present" in query else "arabic" if "lang" in query else "default"
    log.write(artifacts / f"offline-served-{name}-requests.txt")
    assert any(line.startswith("websocket ") for line in log.requests), log.requests
    assert not log.outside(), log.outside()
    assert not log.refused, log.refused
    assert not log.errors, log.errors


def test_served_page_links_nothing_outside_the_machine(serve, demo_dir):
    """What a headless browser does not fetch (a favicon, a preloaded font) still must not point outside."""
    served = serve(APP, demo_dir)
    with urllib.request.urlopen(served.url, timeout=30) as response:
        text = response.read().decode("utf-8")
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", text)
    assert addresses
    for address in addresses:
        parts = urlparse(address)
        assert not parts.scheme or parts.hostname == "127.0.0.1", address
        assert not address.startswith("//"), address


# The exported file, opened from disk -------------------------------------------------------------------

STATE = """() => {
  const doc = Bokeh.documents[0];
  const data = doc.get_model_by_name("states").data_source.data;
  return {
    values: Array.from(data.value, v => Number.isNaN(v) ? null : v),
    hatch: Array.from(data.hatch),
    frame: doc.get_model_by_name("frame").value,
    indicator: doc.get_model_by_name("indicator").value,
    title: doc.get_model_by_name("title").text,
    period: doc.get_model_by_name("period").text,
  };
}"""
FIGURES = "() => JSON.parse(Bokeh.documents[0].get_model_by_name('figures').data.json[0])"


def wait_for_frame(page, indicator: str, frame: int, timeout: int = 10_000) -> dict:
    wanted = f"s.indicator === {json.dumps(indicator)} && s.frame === {frame}"
    page.wait_for_function(f"() => {{ const s = ({STATE})(); return {wanted}; }}", timeout=timeout)
    return page.evaluate(STATE)


def expected(figures: dict, indicator: str, frame: int) -> tuple[list, list]:
    values = figures["indicators"][indicator]["values"][frame]
    hidden = figures["indicators"][indicator]["suppressed"][frame]
    return values, ["/" if h else " " for h in hidden]


def test_exported_html_works_from_disk_with_the_network_blocked(demo_dir, tmp_path, page, artifacts):
    path = export_html(demo_dir, {"start": "2024-01", "end": "2024-06"}, tmp_path / "view.html")
    log = RequestLog(page, file=path.as_uri())
    page.set_viewport_size({"width": 1600, "height": 900})
    page.goto(path.as_uri(), wait_until="load")
    wait_drawn(page, timeout=30_000)
    figures = page.evaluate(FIGURES)

    # The whole period of the first indicator, as embedded.
    state = wait_for_frame(page, "caseload", 0)
    assert (state["values"], state["hatch"]) == expected(figures, "caseload", 0)
    assert state["title"] == "MRRC caseload by state, January–June 2024, all offices"
    assert "January–June 2024" in state["period"]

    # The stream selector switches the map to another stream's figures.
    page.locator("select").first.select_option(label="Trafficking referrals")
    state = wait_for_frame(page, "referral", 0)
    assert (state["values"], state["hatch"]) == expected(figures, "referral", 0)
    assert state["values"] != expected(figures, "caseload", 0)[0]
    assert state["title"].startswith("Trafficking referrals by state")

    # The player: next, the arrow key, then play until it has moved on twice, and pause.
    page.get_by_role("button", name="Next ▶").click()
    state = wait_for_frame(page, "referral", 1)
    assert (state["values"], state["hatch"]) == expected(figures, "referral", 1)
    assert "January 2024" in state["period"] and "March" not in state["title"]
    page.locator("body").press("ArrowRight")
    state = wait_for_frame(page, "referral", 2)
    assert "February 2024" in state["title"]
    page.get_by_role("button", name="▶ Play").click()
    state = wait_for_frame(page, "referral", 4, timeout=8_000)
    assert (state["values"], state["hatch"]) == expected(figures, "referral", 4)
    page.get_by_role("button", name="❚❚ Pause").click()
    paused = page.evaluate(STATE)["frame"]
    page.wait_for_timeout(2_000)
    assert page.evaluate(STATE)["frame"] == paused
    page.get_by_role("button", name="◀ Previous").click()
    wait_for_frame(page, "referral", paused - 1)

    # The indicator selector (displacement into or out of each state).
    page.locator("select").first.select_option(label="Displacement (DTM)")
    options = page.locator("select").nth(1).locator("option").all_inner_texts()
    assert options[0] == "People displaced into the state"
    if "displacement_out" in figures["indicators"]:
        page.locator("select").nth(1).select_option(label="People displaced from the state")
        state = wait_for_frame(page, "displacement_out", paused - 1)
        assert (state["values"], state["hatch"]) == expected(figures, "displacement_out", paused - 1)
    page.get_by_role("button", name="Whole period").click()
    state = page.evaluate(STATE)
    assert state["frame"] == 0
    assert not any(v is not None and math.isnan(v) for v in state["values"])

    page.screenshot(path=artifacts / "export-html-offline.png")
    log.write(artifacts / "offline-export-html-requests.txt")
    assert log.requests == [f"document {path.as_uri()}"], log.requests
    assert not log.refused and not log.errors, (log.refused, log.errors)


def test_two_processes_request_nothing_outside_the_machine(demo_dir, page, artifacts, tmp_path):
    """``flowmon serve --processes 2``: every page, whichever process serves it, needs nothing from outside
    (the first page of a process once asked cdn.holoviz.org for Panel's stylesheets)."""
    import os
    import subprocess
    import sys

    from conftest import free_port, wait_for_http

    port = free_port()
    log_path = artifacts / f"serve-two-processes-{port}.log"
    command = [sys.executable, "-m", "flowmon.cli", "serve", "--data-dir", str(demo_dir), "--address",
               "127.0.0.1", "--port", str(port), "--processes", "2"]  # fmt: skip
    with open(log_path, "w") as log_file:
        server = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=dict(os.environ))
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for_http(url, server, timeout=120)
            log = RequestLog(page, port)
            for _ in range(6):  # enough pages that both processes serve several, their first included
                page.goto(url, wait_until="networkidle", timeout=90_000)
                wait_drawn(page)
            log.write(artifacts / "offline-two-processes-requests.txt")
            assert not log.outside(), log.outside()
            assert not log.refused and not log.errors, (log.refused, log.errors)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert log_path.read_text().count("Starting Bokeh server with process id") == 2
