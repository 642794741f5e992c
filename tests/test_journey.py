"""Journeys: the served dashboard driven in Chromium as a person does, checked after every action.

After each click, choice or key press: no console error and no exception in the server's log; the map's
values equal the state table's; each KPI, the map and the table equal the CSV export of the page's own URL;
and reloading that URL gives the same numbers; with cross-border movements, the crossing card and the points
on the map equal the CSV too. Default, crossings, presentation mode, Arabic and official boundaries.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pandas as pd
import pytest
from playwright.sync_api import Error as PlaywrightError
from test_ui import ENTRY_POINTS, PageWatch

from flowmon import geo
from flowmon.export import view as views
from flowmon.export.csv import csv_table, csv_text

pytestmark = [pytest.mark.ui, pytest.mark.slow]

# Everything a check reads from the page: map values by pcode, the state table, the KPIs, the title.
PAGE_JS = """() => {
  const doc = Bokeh.documents[0];
  let states = null;
  const tables = [];
  for (const model of doc.all_models) {
    const d = model.data;
    if (d && d.hatch && d.pcode && d.value) { states = d; }
    if (typeof model.text === "string" && model.text.includes("table")) { tables.push(model.text); }
  }
  const map = {};
  if (states) {
    Array.from(states.pcode).forEach((p, i) => {
      const v = states.value[i];
      map[p] = Number.isFinite(v) ? v : null;
    });
  }
  const parse = (text) => {
    const box = document.createElement("textarea");
    box.innerHTML = text;  // the model's text may arrive escaped
    const html = text.includes("<table") ? text : box.value;
    const dom = new DOMParser().parseFromString(html, "text/html");
    const rows = Array.from(dom.querySelectorAll("tr")).map(
      (tr) => Array.from(tr.querySelectorAll("th,td")).map((c) => c.textContent.trim()));
    return rows;
  };
  const kpis = {}, crossing = {};
  let points = null;  // the crossing points drawn on the map
  for (const model of doc.all_models) {
    const d = model.data;
    if (d && d.code && d.shown && d.name_ar && d.transit) { points = d; }
  }
  const visit = (root) => {  // the cards sit in shadow roots nested in shadow roots
    for (const card of root.querySelectorAll(".fm-kpi")) {
      const value = card.querySelector(".fm-kpi-value").textContent.trim();
      if (card.dataset.measure) { crossing[card.dataset.measure] = value; }
      else { kpis[card.dataset.stream] = value; }
    }
    for (const host of root.querySelectorAll("*")) { if (host.shadowRoot) visit(host.shadowRoot); }
  };
  visit(document);
  const shownPoints = {};
  if (points) { Array.from(points.code).forEach((c, i) => { shownPoints[c] = points.shown[i]; }); }
  return {map, tables: tables.map(parse).filter((t) => t.length && t[0].includes("pcode")), kpis, crossing,
          points: shownPoints};
}"""

# Where a state's label sits on the screen, to click it as a person would.
STATE_POINT_JS = """(pcode) => {
  function* walk(view) { yield view; for (const child of view.child_views ?? []) { yield* walk(child); } }
  for (const root of Bokeh.index.roots) {
    for (const view of walk(root)) {
      if (view.model.type !== "Figure") continue;
      let states = null, labels = null;
      for (const r of view.model.renderers) {
        const d = r.data_source && r.data_source.data;
        if (d && d.hatch && d.pcode) states = d;
        if (d && d.label && d.x && d.y && !d.pcode) labels = d;  // the state labels, in the states' order
      }
      if (!states || !labels) continue;
      const i = Array.from(states.pcode).indexOf(pcode);
      const box = view.canvas_view.el.getBoundingClientRect();
      return [box.left + view.frame.x_scale.compute(labels.x[i]),
              box.top + view.frame.y_scale.compute(labels.y[i])];
    }
  }
  return null;
}"""


STACKS_JS = """(() => {
  const error = console.error;
  console.error = (...args) => error.call(console, args.map(String).join(" ") + "\\n" + new Error().stack);
})()"""


def server_errors(log: str) -> list[str]:
    """The errors of a server log, less a socket closed by the page's own reload (Tornado logs the write it
    could not finish: a closed connection, not a fault of the app), and Bokeh's own race when the page
    leaves before its websocket was given a session (``notify_connection_lost`` on no session)."""
    entries = re.split(r"\n(?=\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})", log)
    closed = ("StreamClosedError", "WebSocketClosedError")

    def bokeh_race(entry: str) -> bool:
        return "notify_connection_lost" in entry and "assert self._session is not None" in entry

    return [
        entry for entry in entries
        if ("Traceback" in entry or " ERROR " in entry)
        and not any(name in entry for name in closed) and not bokeh_race(entry)
    ]  # fmt: skip


def number(text: str) -> int | None:
    """ "12,345" -> 12345; "*" or "–" (hidden or not counted) -> None. Arabic-Indic digits too."""
    digits = text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))
    digits = re.sub(r"[^\d]", "", digits)
    return int(digits) if digits else None


class Journey:
    """One served page driven step by step, with every step checked against the CSV export of its URL."""

    def __init__(self, page, served, data_dir, artifacts, name: str):
        self.page, self.served, self.data_dir, self.artifacts, self.name = (
            page,
            served,
            data_dir,
            artifacts,
            name,
        )
        # A console error carries where it came from (Bokeh's messages alone rarely say which model).
        page.add_init_script(STACKS_JS)
        self.watch = PageWatch(page)
        page.on("pageerror", lambda error: self.watch.errors.append(error.stack or ""))
        self.steps = 0
        self.log_seen = served.log.read_text()

    def open(self, query: str = "", *, size=(1600, 1100), reload_check: bool = True) -> None:
        self.page.set_viewport_size({"width": size[0], "height": size[1]})
        self.page.goto(f"{self.served.url}?{query}" if query else self.served.url, wait_until="networkidle")
        self.settle()
        self.check("open", reload_check=reload_check)

    def settle(self, before: str | None = None) -> None:
        page = self.page
        page.wait_for_load_state("networkidle")
        page.wait_for_function(
            "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle", timeout=60_000
        )
        # Until what the page shows stops changing (the server's answer to the last action has arrived).
        deadline = time.monotonic() + 20
        last = None
        stable = 0
        while time.monotonic() < deadline:
            now = self.fingerprint()
            if before is not None and now == before and time.monotonic() < deadline - 17:
                page.wait_for_timeout(200)
                continue
            # A page with no document yet (reloading, or waiting for its first document) is not settled.
            stable = stable + 1 if now == last and now else 0
            if stable >= 4:  # a second without change: the server's answers arrive in several messages
                return
            last = now
            page.wait_for_timeout(250)

    def fingerprint(self) -> str:
        try:
            if not self.page.evaluate("() => !!(window.Bokeh && Bokeh.documents.length)"):
                return ""
            return json.dumps(self.page.evaluate(PAGE_JS), sort_keys=True) + self.page.url
        except PlaywrightError:  # the page is navigating (a language or mode switch reloads it)
            self.page.wait_for_load_state("networkidle")
            return ""

    def act(self, label: str, action, *, reload_check: bool = True) -> None:
        before = self.fingerprint()
        action()
        self.settle(before)
        self.check(label, reload_check=reload_check)

    # --- what a check compares ---------------------------------------------------------------------------
    def shown(self) -> dict:
        values = self.page.evaluate(PAGE_JS)
        query = views.parse_query(self.page.url)
        return {"query": query, **values}

    def check(self, label: str, *, reload_check: bool = True) -> None:
        self.steps += 1
        shot = self.artifacts / f"journey-{self.name}-{self.steps:02d}.png"
        self.page.screenshot(path=shot, full_page=True)
        page_html = self.page.content()
        assert "Traceback" not in page_html, (label, shot)
        assert not self.watch.errors, (label, self.watch.errors)
        assert not self.watch.outside(), (label, self.watch.outside())
        log = self.served.log.read_text()
        new = log[len(self.log_seen) :]
        assert not server_errors(new), (label, new[-3000:])
        self.log_seen = log

        shown = self.shown()
        session = views.session(self.data_dir, shown["query"])
        view = session.view
        csv = csv_table(session)
        # The page's map is the view's map, and the CSV's state (or origin) rows.
        expected = {
            r.pcode: (None if pd.isna(r.value) else int(r.value)) for r in view.map_values().itertuples()
        }
        drawn = {p: (None if v is None else round(v)) for p, v in shown["map"].items()}
        assert drawn == expected, (label, shot)
        table_name = "state_origin" if view.filters.indicator == "displacement_out" else "state"
        stream = view.filters.map_stream
        rows = csv[(csv["table"] == table_name) & (csv["stream"] == stream)]
        if stream == "crossing":  # the crossings of each state's points, in the view's direction
            rows = csv[(csv["table"] == "crossing_state") & (csv["direction"] == view.crossing_direction)]
        from_csv = {r.key: (None if pd.isna(r.value) else int(r.value)) for r in rows.itertuples()}
        assert drawn == from_csv, (label, "map vs CSV", shot)
        # The state table shows the same numbers as the map where it counts the same people.
        if table_name == "state" and shown["tables"]:
            header, *body = shown["tables"][0]
            column = next((i for i, h in enumerate(header) if h == i18n_label(stream, view.language)), None)
            if column is not None:
                pcode_at = header.index("pcode")
                table = {row[pcode_at]: number(row[column]) for row in body}
                assert table == drawn, (label, "table vs map", shot)
        # KPIs: the cards, the CSV's totals.
        totals = csv[csv["table"] == "total"].set_index("stream")["value"]
        for stream_name, text in shown["kpis"].items():
            value = totals.get(stream_name)
            assert number(text) == (None if pd.isna(value) else int(value)), (label, stream_name, shot)
        assert set(shown["kpis"]) == set(view.kpis["stream"]) - {"crossing"}, (label, shot)
        self.check_crossings(label, shown, view, csv, shot)
        if reload_check:
            self.page.reload(wait_until="networkidle")
            self.settle()
            again = self.shown()
            assert again["map"] == shown["map"] and again["kpis"] == shown["kpis"], (label, "reload")
            assert again["tables"] == shown["tables"], (label, "reload tables")

    def check_crossings(self, label: str, shown: dict, view, csv: pd.DataFrame, shot) -> None:
        """The crossing card equals the CSV's card; the points on the map equal the CSV's points."""
        if not view.crossings:
            assert not shown["crossing"] and not shown["points"], (label, "crossings shown", shot)
            return
        card = csv[csv["table"] == "crossing_card"].set_index("key")["value"]
        for measure, text in shown["crossing"].items():
            expected = float(card[measure])
            if measure == "daily average":
                assert text == f"{expected:,.1f}", (label, measure, shot)
            else:
                assert signed(text) == expected, (label, measure, shot)
        assert set(shown["crossing"]) == set(card.index), (label, shot)
        rows = csv[(csv["table"] == "crossing_point") & (csv["direction"] == view.crossing_direction)]
        from_csv = {r.key: int(r.value) for r in rows.itertuples()}
        assert {code: number(text) for code, text in shown["points"].items()} == from_csv, (label, shot)
        total = csv[(csv["table"] == "total") & (csv["stream"] == "crossing")]["value"]
        assert total.astype(int).tolist() == [int(view.kpi("crossing")["value"])], (label, shot)

    # --- controls --------------------------------------------------------------------------------------
    def select(self, text: str, *, exact: bool = True) -> None:
        """Choose the option whose text is ``text`` (or starts with it) in the select that offers it."""
        pattern = re.compile(f"^{re.escape(text)}{'$' if exact else ''}")
        option = self.page.locator("option").filter(has_text=pattern).first
        label = option.inner_text()
        self.page.locator("select", has=option).first.select_option(label=label)

    def button(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).first.click()

    def click_state(self, pcode: str) -> None:
        x, y = self.page.evaluate(STATE_POINT_JS, pcode)
        self.page.mouse.click(x, y)

    def download(self, name: str) -> bytes:
        with self.page.expect_download(timeout=60_000) as info:
            self.button(name)
        return open(info.value.path(), "rb").read()


def signed(text: str) -> int | None:
    """ "+1,200" / "−300" (the card's net) -> 1200 / -300."""
    value = number(text)
    return -value if value is not None and text.strip().startswith(("−", "-")) else value


def i18n_label(stream: str, language: str) -> str:
    from flowmon import i18n

    return i18n.text(stream, language)


def state_name(pcode: str) -> str:
    return geo.states().set_index("pcode").loc[pcode, "name_en"]


def test_every_control_in_the_default_view(serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    journey = Journey(page, served, demo_dir, artifacts, "default")
    journey.open()
    journey.act("period", lambda: journey.select("2024-Q2"))
    journey.act("office", lambda: journey.select("KSL ·", exact=False))
    journey.act("stream returns", lambda: journey.button("AVRR returns"))
    assert "indicator=return" in page.url
    journey.act("stream displacement too", lambda: journey.button("Displacement (DTM)"))
    journey.act("returns off: displacement alone", lambda: journey.button("AVRR returns"))
    assert "indicator=displacement_in" in page.url
    journey.act("displacement off: all streams", lambda: journey.button("Displacement (DTM)"))
    journey.act("map shows departures", lambda: journey.select("People displaced from the state"))
    journey.act("map shows referrals", lambda: journey.select("Trafficking referrals by state", exact=False))
    journey.act("state", lambda: journey.select(f"{state_name('SD11')} (SD11)"))
    journey.act("sex", lambda: journey.button("female"))
    journey.act("age", lambda: journey.button("18-59"))
    journey.act("granularity", lambda: journey.button("quarter"), reload_check=False)
    journey.act("granularity year", lambda: journey.button("year"))
    nationality = page.locator("select option", has_text="(ERI)")
    if nationality.count():
        journey.act("nationality", lambda: journey.select("Eritrea (ERI)"))
    journey.act("reset", lambda: journey.button("Reset filters"))
    assert urlsplit(page.url).query.startswith("period=")


def test_a_page_keeps_working_after_other_pages_close(serve, demo_dir, page, artifacts):
    """Closed sessions are destroyed and their memory released (``flowmon.memory``: a collection, long-lived
    lists pruned, a trim) while another page stays open: its filters still give the exports' numbers."""
    from flowmon import memory

    # Closed pages destroyed within seconds; a session slower than that to connect is built again (see
    # test_ui), which this test leaves alone: no reload checks, whose new sessions could be.
    expiry = ("--unused-session-lifetime", "3000", "--check-unused-sessions", "500")
    served = serve(ENTRY_POINTS["script"], demo_dir, args=expiry, PANEL_LOG_LEVEL="info")
    journey = Journey(page, served, demo_dir, artifacts, "others-closed")
    journey.open("period=2024", reload_check=False)
    for _ in range(2):
        other = page.context.new_page()
        other.goto(f"{served.url}?period=2023&indicator=return", wait_until="networkidle")
        other.wait_for_selector(".fm-kpi-value", timeout=60_000)
        other.close()

    def destroyed() -> int:
        return len(set(re.findall(r"Session (\d+) destroyed", served.log.read_text())))

    deadline = time.monotonic() + 60
    while destroyed() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert destroyed() >= 2, "the closed pages' sessions were not destroyed"
    time.sleep(memory.DELAY_S + 1)  # the release after the batch has run
    journey.act("period after others closed", lambda: journey.select("2024-Q2"), reload_check=False)
    journey.act("returns after others closed", lambda: journey.button("AVRR returns"), reload_check=False)
    journey.act("a year after others closed", lambda: journey.select("2023"), reload_check=False)
    assert server_errors(served.log.read_text()) == []


def test_crossing_stream_point_and_direction(serve, demo_dir, page, artifacts):
    """Cross-border movements: chosen, a point, a direction; the card and the map's points against the CSV."""
    served = serve(ENTRY_POINTS["script"], demo_dir)
    journey = Journey(page, served, demo_dir, artifacts, "crossing")
    journey.open("period=2025")
    point_choice = page.locator("select", has=page.locator("option", has_text="All points")).first
    assert not point_choice.is_visible()  # the crossing widgets wait for the stream
    journey.act("stream crossings", lambda: journey.button("Cross-border movements"))
    assert "stream=crossing" in page.url and "indicator=crossing" in page.url
    assert point_choice.is_visible()
    journey.act("point", lambda: journey.select("Adre crossing (ADR)"))
    assert "point=ADR" in page.url and "Adre crossing" in page.locator(".fm-title").first.inner_text()
    journey.act("direction", lambda: journey.button("out of Sudan"))
    assert "direction=out" in page.url
    journey.act("all points", lambda: journey.select("All points"))
    journey.act("returns too", lambda: journey.button("AVRR returns"), reload_check=False)
    journey.act("quarter", lambda: journey.select("2025-Q3"), reload_check=False)
    journey.act("returns off", lambda: journey.button("AVRR returns"), reload_check=False)
    journey.act("crossings off", lambda: journey.button("Cross-border movements"))
    assert "crossing" not in page.url and "direction" not in page.url


def test_clicking_the_map_and_clicking_again(serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    journey = Journey(page, served, demo_dir, artifacts, "map-click")
    journey.open("period=2024")
    journey.act("click Kassala", lambda: journey.click_state("SD05"))
    assert "state=SD05" in page.url
    assert state_name("SD05") in page.locator(".fm-title").first.inner_text()
    journey.act("click Kassala again", lambda: journey.click_state("SD05"))
    assert "state=" not in page.url
    journey.act("click Khartoum", lambda: journey.click_state("SD01"))
    assert "state=SD01" in page.url


def test_export_buttons_give_what_the_page_shows(serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    journey = Journey(page, served, demo_dir, artifacts, "exports")
    journey.open("period=2025-H1&office=PZU&stream=return")
    shown = journey.shown()
    downloaded = journey.download("CSV").decode()
    assert downloaded == csv_text(views.session(demo_dir, shown["query"]))
    page_html = journey.download("HTML").decode()
    assert "Port Sudan office" in page_html and "SYN-" not in page_html
    png = journey.download("PNG")
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    pack = journey.download("Profile (PDF)")
    assert pack.startswith(b"%PDF") and len(pack) > 20_000
    journey.check("after downloads")


def test_presentation_mode_player_steps_are_whole_views(serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    journey = Journey(page, served, demo_dir, artifacts, "present")
    journey.open("present=1&indicator=return", size=(1920, 1080))
    title = page.locator(".fm-title.fm-big").first
    page.locator("body").click(position={"x": 5, "y": 5})
    journey.act("previous month", lambda: page.keyboard.press("ArrowLeft"))
    month = urlsplit(page.url).query
    assert re.search(r"period=\d{4}-\d{2}(&|$)", month), month
    # The title, the KPIs and the map all say the same month (the view is one month, not a year).
    period = re.search(r"period=(\d{4}-\d{2})", month).group(1)
    assert pd.Period(period, "M").strftime("%B %Y") in title.inner_text()
    journey.act("previous month again", lambda: page.keyboard.press("ArrowLeft"))
    journey.act("next month", lambda: page.keyboard.press("ArrowRight"))


def test_arabic_journey(serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    journey = Journey(page, served, demo_dir, artifacts, "arabic")
    journey.open("lang=ar")
    assert page.locator(".fm-title").first.get_attribute("dir") == "rtl"
    journey.act("period", lambda: journey.select("2023"))
    journey.act("click a state", lambda: journey.click_state("SD05"))


def test_language_and_presentation_switches(serve, demo_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], demo_dir)
    journey = Journey(page, served, demo_dir, artifacts, "switches")
    journey.open("period=2024")
    journey.act("to Arabic", lambda: journey.button("العربية"), reload_check=False)
    assert "lang=ar" in page.url and "period=2024" in page.url
    from flowmon import i18n

    # The page is in Arabic now: so is the button.
    journey.act("presentation", lambda: journey.button(i18n.text("widget.present", "ar")), reload_check=False)
    assert "present=1" in page.url and "lang=ar" in page.url


@pytest.fixture(scope="module")
def official_dir(demo_dir, shared_data, tmp_path_factory):
    import shutil

    folder = tmp_path_factory.mktemp("official-journey")
    for name in ("events.parquet", "flows.parquet", "manifest.json"):
        shutil.copy(demo_dir / name, folder / name)
    geo.import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", folder)
    return folder


def test_official_boundaries_journey(serve, official_dir, page, artifacts):
    served = serve(ENTRY_POINTS["script"], official_dir)
    journey = Journey(page, served, official_dir, artifacts, "official")
    journey.open("period=2024&indicator=return")
    journey.act("click Kassala", lambda: journey.click_state("SD05"))
    assert "state=SD05" in page.url
    journey.act("tiles", lambda: journey.button("Schematic tiles"), reload_check=False)
    journey.act("official", lambda: journey.button("Official boundaries"), reload_check=False)
