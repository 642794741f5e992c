"""``flowmon export html`` without a browser: one self-contained file, only protected figures in it.

The page in a browser, offline, with its widgets driven: tests/test_offline.py.
"""

from __future__ import annotations

import html
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import published

from flowmon import geo, privacy, store
from flowmon.cli import main
from flowmon.export.html import export_html


def bokeh_models(path):
    """Every model of the page's Bokeh document, as serialized (name, attributes)."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="[^"]+">\s*(.*?)\s*</script>', text, re.S)
    documents = json.loads(html.unescape(found.group(1)))  # the browser reads it as text content
    models = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "name" in node:
                models.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(documents)
    return models


def figures_of(path) -> dict:
    """The figures the page's JavaScript reads (the ``figures`` data source)."""
    for model in bokeh_models(path):
        attributes = model.get("attributes", {})
        if model["name"] == "ColumnDataSource" and attributes.get("name") == "figures":
            entries = dict(attributes["data"]["entries"])
            return json.loads(entries["json"][0])
    raise AssertionError("no figures in the page")


def div_text(path, name: str) -> str:
    return next(
        m["attributes"]["text"] for m in bokeh_models(path) if m.get("attributes", {}).get("name") == name
    )


@pytest.fixture(scope="module")
def events(demo_dir):
    return store.load(demo_dir)["events"]


@pytest.fixture(scope="module")
def exported(demo_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "view.html"
    return export_html(demo_dir, {"office": "KSL", "period": "2024"}, path)


def test_the_file_is_self_contained(exported):
    text = exported.read_text(encoding="utf-8")
    # Nothing loaded from elsewhere: no script or stylesheet by address, no absolute link at all.
    assert not re.search(r"<script[^>]+src=", text)
    assert "<link" not in text
    markup = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)
    assert not re.findall(r"""(?:src|href)\s*=\s*["'](?!#|data:)""", markup)
    assert "Bokeh.set_log_level" in text or "bokeh" in text.lower()
    assert len(text) > 500_000  # Bokeh's JavaScript is inside
    assert exported.stat().st_mode & 0o044  # shareable, unlike the atomic writer's private temporary


def test_no_record_level_field_is_in_the_file(exported, events):
    text = exported.read_text(encoding="utf-8")
    tokens = set(re.findall(r"[A-Za-z0-9_-]+", text))
    assert not tokens & set(events["record_id"].astype(str))
    assert "record_id" not in text


def test_title_footnotes_and_synthetic_label(exported, demo_dir):
    text = exported.read_text(encoding="utf-8")
    assert "<title>MRRC caseload by state, 2024, Kassala office</title>" in text
    data = figures_of(exported)
    assert data["indicators"]["caseload"]["titles"][0] == "MRRC caseload by state, 2024, Kassala office"
    assert data["indicators"]["return"]["titles"][3] == "AVRR returns by state, March 2024, Kassala office"
    assert data["frames"][:2] == ["2024", "January 2024"]
    assert data["captions"][:2] == ["whole period", "month 1 of 12"]
    assert "SYNTHETIC DEMO DATA" in div_text(exported, "synthetic")
    footer = div_text(exported, "footer")
    as_of = store.read_manifest(demo_dir)["sources"][0]["as_of"]
    assert f"MRRC caseload: flowmon demo (synthetic), as of {as_of}" in footer
    assert "adjusted slightly to protect individuals" in footer
    assert "schematic tiles" in footer


def test_every_frame_is_the_dashboards_view_of_that_month(exported, demo_dir):
    from flowmon import viewdata
    from flowmon.datastore import open_dataset
    from flowmon.filters import Filters

    data = figures_of(exported)
    dataset = open_dataset(demo_dir)
    assert set(data["indicators"]) >= {"caseload", "return", "referral", "displacement_in"}
    assert len(data["frames"]) == 13 and len(data["names"]) == 19
    periods = ["2024", *[f"2024-{m:02d}" for m in range(1, 13)]]
    for name, figures in data["indicators"].items():
        k = privacy.K_FLOORS[figures["stream"]]
        assert np.array(figures["suppressed"]).shape == (13, 19)
        for frame, period in enumerate(periods):
            view = viewdata.build(dataset, Filters(office="KSL", period=period, indicator=name))
            shown = view.map_values().sort_values("pcode")
            expected = [None if pd.isna(v) else int(v) for v in shown["value"]]
            assert figures["values"][frame] == expected, (name, period)
            assert figures["suppressed"][frame] == shown["suppressed"].tolist()
            kpi = view.kpi(figures["stream"])
            assert figures["totals"][frame] == (None if pd.isna(kpi["value"]) else int(kpi["value"]))
            assert all(v is None or v == 0 or v >= k for v in expected)


def test_shown_figures_equal_hand_counts(exported, events):
    data = figures_of(exported)
    month = events["date"].dt.to_period("M").astype(str)
    offices = events["office"].astype(str).isin(["KSL"])
    pcodes = list(geo.tiles().sort_values("pcode")["pcode"])
    checked = 0
    for stream in ("caseload", "return", "referral"):
        figures = data["indicators"][stream]
        for frame, name in enumerate(["2024-01..2024-12", *[f"2024-{m:02d}" for m in range(1, 13)]]):
            in_frame = month.between("2024-01", "2024-12") if frame == 0 else month == name
            rows = events[offices & in_frame & (events["stream"].astype(str) == stream)]
            states = rows["state_pcode"].astype(str)
            for at, pcode in enumerate(pcodes):
                value = figures["values"][frame][at]
                assert value == published(rows[states == pcode], stream), (stream, frame, pcode)
                checked += 1
    assert checked == 3 * 13 * 19


def test_streams_filter_limits_the_selectors(demo_dir, tmp_path):
    path = tmp_path / "r.html"
    code = main(["export", "html", "--data-dir", str(demo_dir), "--out", str(path),
                 "--query", "stream=return,displacement&period=2025-Q1"])  # fmt: skip
    assert code == 0
    data = figures_of(path)
    assert set(data["streams"]) == {"return", "displacement"}
    assert set(data["indicators"]) <= {"return", "displacement_in", "displacement_out"}
    selects = {
        m["attributes"].get("name"): m["attributes"] for m in bokeh_models(path) if m["name"] == "Select"
    }
    assert selects["stream"]["value"] == "return"
    assert selects["indicator"]["value"] == "return"


@pytest.fixture(scope="module")
def official_dir(demo_dir, shared_data, tmp_path_factory):
    """The demo store with the COD-AB boundaries of ../shared/data installed."""
    folder = tmp_path_factory.mktemp("official")
    for name in ("events.parquet", "flows.parquet", store.MANIFEST):
        shutil.copy(demo_dir / name, folder / name)
    geo.import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", folder)
    return folder


def test_official_boundaries_are_drawn_when_installed(official_dir, tmp_path):
    path = export_html(official_dir, {"period": "2024-Q1"}, tmp_path / "o.html")
    assert "OCHA COD-AB admin-1 boundaries" in div_text(path, "footer")
    states = next(
        m
        for m in bokeh_models(path)
        if m["name"] == "ColumnDataSource"
        and {"xs", "pcode"} <= set(dict(m["attributes"]["data"]["entries"]))
    )
    xs = dict(states["attributes"]["data"]["entries"])["xs"]
    vertices = sum(len(ring) for shape in xs for polygon in shape for ring in polygon)
    assert vertices > 19 * 7 * 10  # real outlines, not 19 hexagons
    official = geo.boundaries(official_dir)
    # The real westernmost vertex is there (a called-out label's chip may lie further out, in the margin).
    every_x = np.array([x for s in xs for p in s for r in p for x in r])
    assert np.isclose(every_x, official.total_bounds[0]).any()


def source_named(path, name: str) -> dict:
    model = next(
        m for m in bokeh_models(path)
        if m["name"] == "ColumnDataSource" and m.get("attributes", {}).get("name") == name
    )  # fmt: skip
    return dict(model["attributes"]["data"]["entries"])


def test_the_map_has_the_dashboards_offices_and_arrows_in_every_frame(official_dir, tmp_path):
    from flowmon.export.view import session
    from flowmon.views import map as maps

    path = export_html(official_dir, {"period": "2024", "indicator": "return"}, tmp_path / "r.html")
    offices = source_named(path, "offices")
    assert len(offices["x"]) == len(geo.offices())
    data = figures_of(path)
    returns = data["indicators"]["return"]["layers"]
    assert len(returns) == 13  # the period and each month
    view = session(official_dir, {"period": "2024", "indicator": "return"}).view
    drawn = maps.return_flows(view).groupby("destination")["value"].sum()
    placeable = drawn.index.isin(geo.countries()["iso3"])  # an unknown country has no direction
    assert len(returns[0]["ret"]["x0"]) == int((drawn[placeable] > 0).sum())
    expected = maps.office_columns(
        geo.offices().assign(open=view.offices_open.reindex(geo.offices()["code"]).to_numpy()),
        maps.office_values(view), scale=1.6,
    )  # fmt: skip
    assert returns[0]["offices"]["shown"] == expected["shown"]
    assert "IOM office" in div_text(path, "key") and "returns" in div_text(path, "key")
    # Displacement: lines between states, no return arrows.
    displacement = data["indicators"]["displacement_in"]["layers"][0]
    assert displacement["flow"]["x0"] and not displacement["ret"]["x0"]


def test_a_boundary_file_without_a_state_says_so_and_keeps_the_rows_aligned(official_dir, tmp_path):
    import geopandas as gpd

    folder = tmp_path / "missing"
    folder.mkdir()
    for name in ("events.parquet", "flows.parquet", store.MANIFEST):
        shutil.copy(official_dir / name, folder / name)
    shapes = geo.boundaries(official_dir)
    partial = gpd.GeoDataFrame(shapes[shapes["pcode"] != "SD19"], crs=4326)
    partial.rename(columns={"pcode": "ADM1_PCODE", "name_en": "ADM1_EN"}).to_file(folder / "b.geojson")
    geo.import_boundaries(folder / "b.geojson", folder)
    path = export_html(folder, {"period": "2024"}, tmp_path / "m.html")
    assert "No boundary in this file: Abyei PCA (SD19)" in html.unescape(div_text(path, "key"))
    data = figures_of(path)
    assert len(data["names"]) == 18
    assert all(len(row) == 18 for d in data["indicators"].values() for row in d["values"])


def test_a_period_outside_the_data_writes_nothing(demo_dir, tmp_path, capsys):
    out = tmp_path / "none.html"
    assert main(["export", "html", "--data-dir", str(demo_dir), "--out", str(out), "--period", "2040"]) == 2
    assert "period: no data for 2040" in capsys.readouterr().err
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_export_takes_the_dashboards_filters(demo_dir, tmp_path):
    from flowmon.filters import Filters

    path = export_html(demo_dir, Filters(sex="female", period="2025-Q1"), tmp_path / "f.html")
    assert figures_of(path)["indicators"]["caseload"]["titles"][0].endswith("sex: female")
    assert pd.notna(figures_of(path)["indicators"]["caseload"]["totals"][0])


def test_exporting_leaves_the_callers_session_alone(demo_dir):
    """The dashboard's buttons pass their live session: exporting must not touch it (widgets watch it)."""
    from flowmon.export.html import html_document
    from flowmon.export.view import session

    live = session(demo_dir, {"period": "2025-Q1", "indicator": "return"})
    seen = []
    live.param.watch(seen.append, ["indicator", "period", "view"])
    before = (live.indicator, live.period, id(live.view))
    page = html_document(live)
    assert "<title>AVRR returns by state, January–March 2025, all offices</title>" in page
    assert (live.indicator, live.period, id(live.view)) == before
    assert not seen


def test_arabic_file_has_no_english_left(official_dir, tmp_path):
    """`--lang ar`: every word the page shows is Arabic (codes, numbers, file names and tool names aside)."""
    from test_arabic import english_words

    path = tmp_path / "ar.html"
    code = main(["export", "html", "--data-dir", str(official_dir), "--out", str(path), "--lang", "ar",
                 "--period", "2024", "--indicator", "return"])  # fmt: skip
    assert code == 0
    figures = figures_of(path)
    shown = [*figures["frames"], *figures["captions"], *figures["names"], *figures["words"].values()]
    for indicator in figures["indicators"].values():
        shown += [indicator["label"], indicator["unit"], *indicator["titles"], *indicator["notes"]]
        shown += [text for layer in indicator["layers"] for text in layer["ret_labels"].get("text", [])]
    for model in bokeh_models(path):
        attributes = model.get("attributes", {})
        if model["name"] == "Div" and attributes.get("name") in ("title", "key", "synthetic", "footer"):
            text = re.sub(r"<[^>]+>", " ", attributes.get("text", ""))
            # The sources line names the files as they were given (a file name is not a word to translate).
            shown.append(text.split("المصادر", 1)[0] + text.split(".", 1)[-1] if "المصادر" in text else text)
        if model["name"] in ("Select", "Button", "Toggle"):
            shown += [str(attributes.get("title") or ""), str(attributes.get("label") or "")]
            shown += [str(option[1]) for option in attributes.get("options", []) if isinstance(option, list)]
    english = {word for text in shown for word in english_words(html.unescape(str(text)))}
    assert not english - {"flowmon", "OCHA", "COD", "AB"}, english


def test_country_labels_stand_clear_of_state_labels_and_offices_in_every_frame(official_dir, tmp_path):
    import shapely

    from flowmon.export.html import official_frame
    from flowmon.views import map as maps

    path = export_html(official_dir, {"period": "2024", "indicator": "return"}, tmp_path / "r.html")
    shapes = geo.boundaries(official_dir)
    _, unit_px = official_frame(shapes)
    offices = source_named(path, "offices")
    radius = 15 * 1.6 / unit_px  # the largest an office is drawn, in degrees
    centres = zip(offices["x"], offices["y"], strict=True)
    taken = [shapely.Point(x, y).buffer(radius) for x, y in centres]
    states = source_named(path, "state_values")
    for x, y, name in zip(states["lx"], states["ly"], shapes["name_en"], strict=True):
        taken.append(maps._box(x, y, *(v / unit_px for v in maps.label_box(f"{maps.wrap(name)}\n000", 15))))
    taken = shapely.union_all(taken)
    frames = figures_of(path)["indicators"]["return"]["layers"]
    labelled = [frame["ret_labels"] for frame in frames if frame["ret_labels"]["text"]]
    assert len(labelled) > 6  # the check does see labels
    for labels in labelled:
        for x, y, words in zip(labels["x"], labels["y"], labels["text"], strict=True):
            half_w, half_h = maps.country_label_half_size(words.split("\n")[0], 1.6, unit_px)
            box = maps._box(x, y, 2 * half_w, 2 * half_h)
            assert not box.intersects(taken), words
