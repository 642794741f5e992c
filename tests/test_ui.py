"""The dashboard in a real browser: each entry point served on 127.0.0.1 and opened in headless Chromium.

Every control driven step by step, checked against the exports after each step: tests/test_journey.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {
    "script": REPO / "dashboards" / "flowmon_app.py",
    "notebook": REPO / "notebooks" / "dashboard.ipynb",
}
pytestmark = pytest.mark.ui


class PageWatch:
    """Console errors, page errors and every request the page makes."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))

    def outside(self) -> list[str]:
        return [
            u for u in self.requests
            if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).hostname != "127.0.0.1"
        ]  # fmt: skip


def open_dashboard(page, url: str) -> PageWatch:
    watch = PageWatch(page)
    page.set_viewport_size({"width": 1600, "height": 1100})
    page.goto(url, wait_until="networkidle", timeout=90_000)
    wait_idle(page)
    return watch


def wait_idle(page, timeout: int = 60_000) -> None:
    page.wait_for_function(
        "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle", timeout=timeout
    )
    page.wait_for_selector(".fm-kpi-value", timeout=timeout)


def kpi_text(page, stream: str) -> str:
    return page.locator(f'.fm-kpi[data-stream="{stream}"] .fm-kpi-value').first.inner_text()


def check_clean(page, watch: PageWatch) -> None:
    assert "Traceback" not in page.content()
    assert not watch.errors, watch.errors
    assert not watch.outside(), watch.outside()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_entry_point_serves_the_dashboard(entry, serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS[entry], demo_dir)
    watch = open_dashboard(page, served.url)
    assert "SYNTHETIC DEMO DATA" in page.inner_text("body")
    assert page.locator(".fm-kpi").count() == 4
    page.screenshot(path=artifacts / f"dashboard-{entry}.png", full_page=True)
    check_clean(page, watch)


# Sum of the state values drawn on the map (the polygons' data source), read in the page.
MAP_SUM = """() => {
  const doc = Bokeh.documents[0];
  for (const model of doc.all_models) {
    const data = model.data;
    if (data && data.value && data.hatch) {
      return Array.from(data.value).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    }
  }
  return null;
}"""


@pytest.fixture(scope="module")
def official_dir(demo_dir, shared_data, tmp_path_factory):
    """The demo store with the COD-AB boundaries from ../shared installed."""
    import shutil

    from flowmon.geo import import_boundaries

    folder = tmp_path_factory.mktemp("official")
    for name in ("events.parquet", "flows.parquet", "manifest.json"):
        shutil.copy(demo_dir / name, folder / name)
    import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", folder)
    return folder


# Polygon vertices drawn for the states, per drawn map (tiles: 19 hexagons of 7 points; official: thousands).
STATE_VERTICES = """() => {
  const counts = [];
  for (const model of Bokeh.documents[0].all_models) {
    const data = model.data;
    if (data && data.value && data.hatch && data.xs) {
      counts.push(Array.from(data.xs).reduce((n, x) => n + JSON.stringify(x).split(",").length, 0));
    }
  }
  return counts;
}"""


def test_official_boundaries_and_the_tile_toggle(serve, official_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], official_dir)
    watch = open_dashboard(page, f"{served.url}?indicator=return&period=2022")
    assert page.evaluate(STATE_VERTICES)[0] > 1000  # the COD-AB shapes, simplified
    page.screenshot(path=artifacts / "dashboard-official.png", full_page=True)
    page.get_by_role("button", name="Schematic tiles").click()
    page.wait_for_function(f"() => ({STATE_VERTICES})().some(n => n < 1000)", timeout=30_000)
    wait_idle(page)
    page.screenshot(path=artifacts / "dashboard-official-tiles.png", full_page=True)
    check_clean(page, watch)


def test_arabic_names_and_right_to_left(serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    watch = open_dashboard(page, f"{served.url}?lang=ar")
    title = page.locator(".fm-title").first
    assert "حسب الولاية" in title.inner_text()
    assert title.get_attribute("dir") == "rtl"
    labels = page.evaluate("""() => {
      for (const model of Bokeh.documents[0].all_models) {
        if (model.data && model.data.label && model.data.ink) { return Array.from(model.data.label); }
      }
      return [];
    }""")
    assert any(label.startswith("الخرطوم") for label in labels)
    page.screenshot(path=artifacts / "dashboard-arabic.png", full_page=True)
    check_clean(page, watch)


def test_a_page_slower_than_the_session_lifetime_stays_offline_and_styled(serve, demo_dir, page, artifacts):
    # On a poor connection the page's scripts can take longer than the unused-session lifetime: the server
    # drops the session made for the page and builds another when the websocket comes, with no page
    # rendered for it. Panel had then linked its stylesheets at cdn.holoviz.org.
    lifetime = ("--unused-session-lifetime", "1000", "--check-unused-sessions", "200")
    served = serve(ENTRY_POINTS["script"], demo_dir, args=lifetime, PANEL_LOG_LEVEL="info")
    page.route("**/static/js/bokeh.min.js*", lambda route: (time.sleep(3), route.continue_()))
    launched = served.log.read_text().count("launching")
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    watch = open_dashboard(page, served.url)
    # the page's session, then the websocket's
    assert served.log.read_text().count("launching") == launched + 2
    assert page.locator(".fm-kpi").count() == 4
    stylesheets = [urlparse(url) for url in watch.requests if urlparse(url).path.endswith(".css")]
    assert stylesheets and {url.hostname for url in stylesheets} == {"127.0.0.1"}, stylesheets
    assert failed == []
    page.screenshot(path=artifacts / "dashboard-session-rebuilt.png", full_page=True)
    check_clean(page, watch)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_map_shares_a_wide_screen_and_takes_a_laptops_width(serve, demo_dir, page, language):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    watch = open_dashboard(page, f"{served.url}?lang={language}&indicator=return")
    key, card = page.locator(".fm-key").first, page.locator(".fm-kpi").first
    # 1920 px: the map beside the figures, on the side a reader starts from.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(1_000)
    map_box, card_box = key.bounding_box(), card.bounding_box()
    assert card_box["y"] < map_box["y"]  # the cards' row is the map's (the key lies under the map)
    map_first = map_box["x"] < card_box["x"] if language == "en" else map_box["x"] > card_box["x"]
    assert map_first, (map_box, card_box)
    # 1400 px: the figures wrap under a map of the full width.
    page.set_viewport_size({"width": 1400, "height": 900})
    page.wait_for_timeout(1_000)
    map_box, card_box = key.bounding_box(), card.bounding_box()
    assert card_box["y"] > map_box["y"] + map_box["height"], (map_box, card_box)
    assert map_box["width"] > 900
    check_clean(page, watch)
