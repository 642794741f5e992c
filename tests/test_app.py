"""The dashboard without a browser: every filter changes what is shown, and only aggregates leave."""

import json

import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.embed import json_item

from flowmon import aggregate, store
from flowmon.app import Dashboard


@pytest.fixture
def dashboard(demo_dir):
    return Dashboard(data_dir=str(demo_dir))


@pytest.fixture(scope="module")
def events(demo_dir):
    return store.load(demo_dir)["events"]


def kpi(dashboard, stream):
    kpis = dashboard.store.view["kpis"].set_index("stream")
    return kpis.loc[stream, "value"]


def hand_count(events, **conditions):
    mask = pd.Series(True, index=events.index)
    for column, value in conditions.items():
        if column == "months":
            months = events["date"].dt.to_period("M").astype(str)
            mask &= months.between(*value)
        else:
            mask &= events[column].astype(str).isin(value if isinstance(value, list) else [value])
    return int(events.loc[mask, "count"].sum())


def test_default_view_is_the_last_twelve_months(dashboard, demo_dir):
    months = dashboard.dataset.months
    assert (dashboard.store.start, dashboard.store.end) == (months[-12], months[-1])


def test_office_and_period_filters_change_the_kpis_as_a_hand_count_says(dashboard, events):
    store_ = dashboard.store
    store_.param.update(office=["KRT"], start="2022-01", end="2022-12")
    expected = hand_count(events, office="KRT", stream="caseload", months=("2022-01", "2022-12"))
    assert expected > 100
    assert kpi(dashboard, "caseload") == expected
    store_.param.update(office=["PZU"], start="2024-01", end="2024-06")
    assert kpi(dashboard, "caseload") == hand_count(
        events, office="PZU", stream="caseload", months=("2024-01", "2024-06")
    )


@pytest.mark.parametrize(
    ("name", "value", "column"),
    [
        ("nationality", ["ERI"], "nationality"),
        ("sex", ["female"], "sex"),
        ("age_group", ["18-59"], "age_group"),
        ("state", ["SD11"], "state_pcode"),
    ],
)
def test_every_people_filter_narrows_the_totals(dashboard, events, name, value, column):
    dashboard.store.param.update(start="2021-01", end="2022-12")
    before = kpi(dashboard, "caseload")
    setattr(dashboard.store, name, value)
    after = kpi(dashboard, "caseload")
    assert after < before
    assert after == hand_count(events, stream="caseload", months=("2021-01", "2022-12"), **{column: value})


def test_stream_filter_and_granularity(dashboard):
    dashboard.store.stream = ["return"]
    assert set(dashboard.store.view["kpis"]["stream"]) == {"return"}
    dashboard.store.granularity = "quarter"
    periods = pd.to_datetime(dashboard.store.view["by_period"]["period"])
    assert set(periods.dt.month) <= {1, 4, 7, 10} and periods.is_unique


def test_reset_restores_the_defaults(dashboard):
    initial = dashboard.store.view["kpis"].copy()
    dashboard.store.param.update(office=["KSL"], sex=["male"], start="2021-01")
    dashboard.store.reset()
    pd.testing.assert_frame_equal(dashboard.store.view["kpis"], initial)


def test_url_query_applies_filters(dashboard, events):
    dashboard.store.apply_query({"office": "KRT", "start": "2023-01", "end": "2023-03", "stream": "return"})
    assert dashboard.store.office == ["KRT"] and dashboard.store.stream == ["return"]
    assert kpi(dashboard, "return") == hand_count(
        events, office="KRT", stream="return", months=("2023-01", "2023-03")
    )
    assert dashboard.store.to_query() == {
        "office": "KRT",
        "stream": "return",
        "start": "2023-01",
        "end": "2023-03",
        "indicator": "return",  # the map follows the only stream selected
    }
    with pytest.raises(ValueError, match="office"):
        dashboard.store.apply_query({"office": "NOWHERE"})


def test_a_selection_with_no_data_says_so(dashboard):
    # Khartoum's MRRC closed in April 2023.
    dashboard.store.param.update(office=["KRT"], stream=["caseload"], start="2024-01", end="2024-06")
    message = dashboard._message(dashboard.store.view, dashboard.store.error)
    assert "No data for this selection" in message


def test_closed_offices_are_marked_in_the_office_choice(dashboard):
    dashboard.store.param.update(start="2024-01", end="2024-06")
    labels = dashboard.store.office_labels()
    assert "closed Apr 2023" in labels["KRT"]
    assert "closed" not in labels["KSL"]


def render(viewable) -> Document:
    doc = Document()
    root = viewable.get_root(doc)
    doc.add_root(root)
    return doc


def test_map_updates_values_in_place_without_resending_polygons(dashboard):
    doc = render(dashboard.map._pane)
    handles = dashboard.map._handles["states"][-1]
    source = handles["source"]
    xs_before = source.data["xs"]
    values_before = list(source.data["value"])
    dashboard.store.param.update(office=["KSL"], start="2021-01", end="2022-12")
    assert list(source.data["value"]) != values_before
    assert source.data["xs"] is xs_before  # geometry untouched: only value columns were rewritten
    assert doc.roots


def test_clicking_a_state_filters_the_dashboard(dashboard):
    render(dashboard.map._pane)
    index = list(dashboard.map.shapes["pcode"]).index("SD11")
    dashboard.map.selection.event(index=[index])
    assert dashboard.store.state == ["SD11"]


def test_no_record_level_field_reaches_the_page(dashboard, events):
    dashboard.store.param.update(start="2021-01", end=dashboard.dataset.months[-1])
    item = json.dumps(json_item(pn.Column(dashboard.main_area(), dashboard.controls).get_root()))
    assert "SYN-" not in item  # record ids
    assert "record_id" not in item


def test_csv_download_is_exactly_the_table_shown_and_keeps_suppression(dashboard):
    dashboard.store.param.update(stream=["referral"], start="2025-01", end="2025-03")
    table = dashboard.shown_table("state")
    suppressed = dashboard.store.view["by_state"].query("stream == 'referral'")["suppressed"]
    assert suppressed.any()
    csv = dashboard._download("state").callback().getvalue()
    back = pd.read_csv(pd.io.common.StringIO(csv))
    assert len(back) == 19
    column = "Trafficking referrals"
    assert back[column].isna().sum() == suppressed.sum()  # hidden cells are empty, never their value
    shown = back[column].dropna()
    assert ((shown == 0) | (shown >= 11)).all()
    assert list(back.columns) == list(table.columns)


def test_view_data_is_what_aggregate_computes(dashboard):
    store_ = dashboard.store
    store_.param.update(office=["GDF"], start="2022-01", end="2022-12")
    expected = aggregate.view_data(dashboard.dataset.events, dashboard.dataset.flows, store_.filters)
    pd.testing.assert_frame_equal(store_.view["by_state"], expected["by_state"])


def test_export_buttons_give_the_view_shown(dashboard):
    dashboard.store.param.update(stream=["return"], start="2022-01", end="2022-06")
    csv_button, html_button, _png = dashboard.exports
    assert csv_button.filename.endswith(".csv") and "2022-01" in csv_button.filename
    table = pd.read_csv(csv_button.callback())
    totals = table.query("table == 'total' and stream == 'return'")["value"]
    assert int(totals.iloc[0]) == kpi(dashboard, "return")
    page = html_button.callback().getvalue()
    assert page.startswith("<!DOCTYPE html>") and "SYN-" not in page


def test_data_is_loaded_once_and_shared_by_sessions(demo_dir):
    first, second = Dashboard(data_dir=str(demo_dir)), Dashboard(data_dir=str(demo_dir))
    assert first.dataset is second.dataset  # one copy per server process
    first.store.office = ["KSL"]
    assert second.store.office == []  # each session keeps its own filters


def test_choosing_what_the_map_shows_selects_its_stream(dashboard):
    dashboard.store.stream = ["return"]
    dashboard.store.indicator = "referral"
    assert dashboard.store.stream == ["return", "referral"]
    values = dashboard.map._state_values(dashboard.store.view)
    assert len(values) == 19


def test_an_empty_data_folder_says_what_to_do(tmp_path):
    empty = Dashboard(data_dir=str(tmp_path))
    render(pn.Column(empty.main_area(), empty.controls))
    assert "holds no data yet" in empty._message(empty.store.view, empty.store.error)
    empty.store.param.update(sex=["female"], indicator="return", granularity="year")
    presenting = Dashboard(data_dir=str(tmp_path), present=True, language="ar")
    assert presenting.player is not None
