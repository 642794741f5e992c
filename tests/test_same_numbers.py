"""The same filters give the same numbers everywhere: the dashboard, the CSV, the HTML and the PNG's source.

Cross-border movements too: the crossing card, the table by point and the points on the map against the CSV
and the HTML and PNG pages.

A seeded sweep of filter settings over the demo store. For each: the dashboard session's map, state table and
KPIs; the CSV export; the HTML export's embedded figures; and the page the PNG is drawn from (the HTML without
controls) must all carry the same published numbers.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest
from test_export_html import figures_of

from flowmon.app import Dashboard
from flowmon.export.csv import csv_table
from flowmon.export.html import html_document
from flowmon.export.view import session
from flowmon.filters import INDICATORS

CASE_INDICATORS = [i for i in INDICATORS if i != "crossing"]


def settings(dashboard: Dashboard, count: int, seed: int = 11) -> list[dict[str, str]]:
    choices = dashboard.store.choices
    rng = random.Random(seed)
    periods = [p for kind in choices.periods.values() for p in kind]
    found = []
    for _ in range(count):
        # Crossings have a sweep of their own (their numbers are points, not states).
        query = {"period": rng.choice(periods), "indicator": rng.choice(CASE_INDICATORS)}
        if rng.random() < 0.5:
            query["office"] = rng.choice(choices.offices)
        if rng.random() < 0.3:
            query["state"] = rng.choice(["SD01", "SD05", "SD10", "SD12", "SD18"])
        for name, values in (("sex", ["female", "male"]), ("age_group", ["0-17", "18-59"]),
                             ("nationality", list(choices.nationalities[:4]))):  # fmt: skip
            if values and rng.random() < 0.2:
                query[name] = rng.choice(values)
        found.append(query)
    return found


def as_numbers(values) -> list[int | None]:
    return [None if v is None or pd.isna(v) else int(v) for v in values]


@pytest.mark.slow
def test_dashboard_csv_html_and_png_agree_for_a_sweep_of_filters(demo_dir, tmp_path):
    dashboard = Dashboard(data_dir=str(demo_dir))
    for query in settings(dashboard, 12):
        dashboard.store.apply_query(query)
        view = dashboard.store.view
        stream = view.filters.map_stream
        shown = view.map_values().sort_values("pcode")
        on_map = dict(zip(shown["pcode"], as_numbers(shown["value"]), strict=True))
        kpis = dict(zip(view.kpis["stream"], as_numbers(view.kpis["value"]), strict=True))
        if view.filters.indicator != "displacement_out":
            table = dashboard.tables.table("state").set_index("pcode")[dashboard.tables.t(stream)]
            assert dict(zip(table.index, as_numbers(table), strict=True)) == on_map, query

        exported = session(demo_dir, query)
        csv = csv_table(exported)
        table_name = "state_origin" if view.filters.indicator == "displacement_out" else "state"
        rows = csv[(csv["table"] == table_name) & (csv["stream"] == stream)]
        assert dict(zip(rows["key"], as_numbers(rows["value"]), strict=True)) == on_map, query
        totals = csv[csv["table"] == "total"]
        assert dict(zip(totals["stream"], as_numbers(totals["value"]), strict=True)) == kpis, query

        for name, page in (
            ("html", html_document(exported)),
            ("png", html_document(exported, controls=False)),
        ):
            path = tmp_path / f"{name}.html"
            path.write_text(page, encoding="utf-8")
            figures = figures_of(path)["indicators"][view.filters.indicator]
            assert dict(zip(sorted(on_map), figures["values"][0], strict=True)) == on_map, (name, query)
            assert figures["totals"][0] == kpis[stream], (name, query)


def shown_number(text: str) -> int | None:
    return None if text == "*" else int(text.replace(",", ""))


def crossing_settings(dashboard: Dashboard, count: int, seed: int = 15) -> list[dict[str, str]]:
    """Views of cross-border movements: a period, and now and then a point, a direction, a state."""
    from flowmon import crossings

    rng = random.Random(seed)
    periods = [p for kind in dashboard.store.choices.periods.values() for p in kind[-6:]]
    codes = list(crossings.points()["code"])
    found = []
    for _ in range(count):
        query = {"period": rng.choice(periods), "stream": rng.choice(["crossing", "crossing,return"]),
                 "indicator": "crossing"}  # fmt: skip
        if rng.random() < 0.5:
            query["point"] = rng.choice(codes)
        if rng.random() < 0.5:
            query["direction"] = rng.choice(["in", "out", "transit"])
        if rng.random() < 0.2:
            query["state"] = rng.choice(["SD17", "SD12", "SD03"])
        found.append(query)
    return found


@pytest.mark.slow
def test_crossings_agree_on_the_dashboard_csv_html_and_png(demo_dir, tmp_path):
    from flowmon.views import crossing_map

    dashboard = Dashboard(data_dir=str(demo_dir))
    for query in crossing_settings(dashboard, 6):
        dashboard.store.apply_query(query)
        view = dashboard.store.view
        card = view.crossings["card"].set_index("measure")["value"]
        table = dashboard.crossing_table.table().set_index("code")
        column = dashboard.crossing_table.t(f"direction.{view.crossing_direction}")
        on_table = dict(zip(table.index, as_numbers(table[column]), strict=True))
        # What the map's crossing layer draws (the live map and the exports build it alike).
        points = crossing_map.layer_tables(view, schematic=True)["cross_points"].set_index("code")["shown"]
        assert {c: shown_number(v) for c, v in points.items()} == on_table, query

        exported = session(demo_dir, query)
        csv = csv_table(exported)
        rows = csv[csv["table"] == "crossing_card"].set_index("key")["value"]
        assert {k: float(v) for k, v in rows.items()} == {k: float(v) for k, v in card.items()}, query
        total = csv[(csv["table"] == "total") & (csv["stream"] == "crossing")]["value"]
        assert as_numbers(total) == [int(view.kpi("crossing")["value"])], query
        by_point = csv[(csv["table"] == "crossing_point") & (csv["direction"] == view.crossing_direction)]
        assert dict(zip(by_point["key"], as_numbers(by_point["value"]), strict=True)) == on_table, query

        pages = (("html", html_document(exported)), ("png", html_document(exported, controls=False)))
        for name, page in pages:
            path = tmp_path / f"{name}.html"
            path.write_text(page, encoding="utf-8")
            figures = figures_of(path)["indicators"]["crossing"]
            assert figures["totals"][0] == int(view.kpi("crossing")["value"]), (name, query)
            layer = figures["layers"][0]["cross_points"]
            shown = {c: shown_number(v) for c, v in zip(layer["code"], layer["shown"], strict=True)}
            assert shown == on_table, (name, query)
            assert list(layer) == crossing_map.POINT_COLUMNS
