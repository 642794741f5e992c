"""The dashboard without a browser: every filter changes what is shown, and only aggregates leave."""

import json

import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.embed import json_item
from bokeh.events import Tap
from conftest import published

from flowmon import datastore, store, viewdata
from flowmon.app import Dashboard
from flowmon.datastore import ALL
from flowmon.filters import Filters


@pytest.fixture
def dashboard(demo_dir):
    return Dashboard(data_dir=str(demo_dir))


@pytest.fixture(scope="module")
def events(demo_dir):
    return store.load(demo_dir)["events"]


def kpi(dashboard, stream):
    return dashboard.store.view.kpis.set_index("stream").loc[stream, "value"]


def hand_count(events, **conditions):
    """What the page must show for the events selected by hand: their count, published (perturbed)."""
    mask = pd.Series(True, index=events.index)
    for column, value in conditions.items():
        if column == "months":
            months = events["date"].dt.to_period("M").astype(str)
            mask &= months.between(*value)
        else:
            mask &= events[column].astype(str).isin(value if isinstance(value, list) else [value])
    return published(events.loc[mask], str(conditions["stream"]))


def test_default_view_is_the_latest_year(dashboard):
    last = dashboard.dataset.months[-1]
    assert dashboard.store.period == last[:4]
    view = dashboard.store.view
    assert str(view.start) == f"{last[:4]}-01" and str(view.end) == f"{last[:4]}-12"
    # The demo ends in June: the year is partial, said so, and not compared with a whole year.
    assert view.partial and any("only partly covered" in n for n in view.notices)
    assert view.kpis["change"].isna().all()


def test_office_and_period_filters_change_the_kpis_as_a_hand_count_says(dashboard, events):
    store_ = dashboard.store
    store_.param.update(office="KRT", period="2022")
    expected = hand_count(events, office="KRT", stream="caseload", months=("2022-01", "2022-12"))
    assert expected > 100
    assert kpi(dashboard, "caseload") == expected
    store_.param.update(office="PZU", period="2024-H1")
    assert kpi(dashboard, "caseload") == hand_count(
        events, office="PZU", stream="caseload", months=("2024-01", "2024-06")
    )


@pytest.mark.parametrize(
    ("name", "value", "column"),
    [("nationality", "ERI", "nationality"), ("sex", "female", "sex"), ("age_group", "18-59", "age_group"),
     ("state", "SD11", "state_pcode")],
)  # fmt: skip
def test_every_people_filter_narrows_the_totals(dashboard, events, name, value, column):
    dashboard.store.period = "2022"
    before = kpi(dashboard, "caseload")
    setattr(dashboard.store, name, value)
    after = kpi(dashboard, "caseload")
    assert after < before
    assert after == hand_count(events, stream="caseload", months=("2022-01", "2022-12"), **{column: value})


def test_stream_filter_and_granularity(dashboard):
    dashboard.store.stream = ["return"]
    assert set(dashboard.store.view.kpis["stream"]) == {"return"}
    dashboard.store.param.update(granularity="quarter", period="2023")
    periods = pd.to_datetime(dashboard.store.view["by_period"]["period"])
    assert list(periods.dt.month.unique()) == [1, 4, 7, 10]


def test_reset_restores_the_defaults(dashboard):
    initial = dashboard.store.view.kpis.copy()
    dashboard.store.param.update(office="KSL", sex="male", period="2021-Q3", indicator="return")
    dashboard.store.reset()
    pd.testing.assert_frame_equal(dashboard.store.view.kpis, initial)
    assert dashboard.store.indicator == "caseload" and dashboard.store.office == ALL


def test_url_query_applies_filters(dashboard, events):
    dashboard.store.apply_query({"office": "KRT", "period": "2023-Q1", "stream": "return"})
    assert dashboard.store.office == "KRT" and dashboard.store.stream == ["return"]
    assert kpi(dashboard, "return") == hand_count(
        events, office="KRT", stream="return", months=("2023-01", "2023-03")
    )
    assert dashboard.store.to_query() == {
        "period": "2023-Q1",
        "office": "KRT",
        "stream": "return",
        "indicator": "return",  # the map follows the only stream selected
    }
    with pytest.raises(ValueError, match="office"):
        dashboard.store.apply_query({"office": "NOWHERE"})


def test_old_links_open_the_nearest_allowed_view_and_say_so(dashboard):
    dashboard.store.apply_query({"start": "2023-02", "end": "2023-03", "office": "KRT,PZU"})
    assert dashboard.store.period == "2023-Q1" and dashboard.store.office == "KRT"
    message = dashboard.message.render(dashboard.store.view)
    assert "showing 2023-Q1" in message and "One office or all" in message


def test_a_selection_with_no_data_says_so(dashboard):
    # Khartoum's MRRC closed in April 2023.
    dashboard.store.param.update(office="KRT", stream=["caseload"], period="2024-H1")
    assert "No data for this selection" in dashboard.message.render(dashboard.store.view)


def test_closed_offices_are_marked_in_the_office_choice(dashboard):
    dashboard.store.period = "2024-H1"
    labels = dashboard.store.office_labels()
    assert "closed Apr 2023" in labels["KRT"]
    assert "closed" not in labels["KSL"]
    assert "closed Apr 2023" in next(k for k, v in dashboard.office_widget.options.items() if v == "KRT")


def test_only_nationalities_with_enough_records_are_offered(dashboard, events):
    offered = set(dashboard.store.choices.nationalities)
    totals = events.groupby("nationality", observed=True)["count"].sum()
    assert offered == {str(code) for code in totals[totals >= 11].index}
    assert set(dashboard.nationality_widget.options.values()) == {ALL, *offered}


def render(viewable) -> Document:
    doc = Document()
    root = viewable.get_root(doc)
    doc.add_root(root)
    return doc


def test_map_updates_values_in_place_without_resending_polygons(dashboard):
    doc = render(dashboard.map._pane)
    source = dashboard.map._figure.source("states")
    xs_before = source.data["xs"]
    values_before = list(source.data["value"])
    dashboard.store.param.update(office="KSL", period="2022")
    assert list(source.data["value"]) != values_before
    assert source.data["xs"] is xs_before  # geometry untouched: only value columns were rewritten
    assert doc.roots


def test_clicking_a_state_selects_it_and_clicking_it_again_clears_it(dashboard):
    render(dashboard.map._pane)
    figure, source = dashboard.map._figure.figure, dashboard.map._figure.source("states")
    point = dashboard.map.shapes.set_index("pcode").geometry["SD11"].representative_point()
    dashboard.map._on_tap(Tap(figure, x=point.x, y=point.y))
    assert dashboard.store.state == "SD11"
    assert dashboard.store.view.filters.state == "SD11"
    assert source.selected.indices == [list(dashboard.map.shapes["pcode"]).index("SD11")]  # the others fade
    dashboard.map._on_tap(Tap(figure, x=point.x, y=point.y))
    assert dashboard.store.state == ALL
    assert source.selected.indices == []
    dashboard.store.state = "SD01"  # chosen in the sidebar: the map shows it too
    assert source.selected.indices == [list(dashboard.map.shapes["pcode"]).index("SD01")]
    # The labels' chips (their state's colour) fade with their states: only the selected one keeps its chip.
    labels = dashboard.map._figure.layers["labels"]
    assert labels.data_source.selected.indices == source.selected.indices
    assert labels.glyph.background_fill_color["transform"] is dashboard.map._figure.color_mapper
    assert labels.nonselection_glyph.background_fill_alpha == 0
    dashboard.map._on_tap(Tap(figure, x=0.0, y=0.0))  # beside the states
    assert dashboard.store.state == ALL


def test_no_record_level_field_reaches_the_page(dashboard):
    dashboard.store.period = "2022"
    item = json.dumps(json_item(pn.Column(dashboard.main_area(), dashboard.controls).get_root()))
    assert "SYN-" not in item  # record ids
    assert "record_id" not in item


def test_csv_download_is_exactly_the_table_shown_and_keeps_protection(dashboard):
    dashboard.store.param.update(stream=["referral"], period="2025-Q1")
    table = dashboard.tables.table("state")
    cells = dashboard.store.view["by_state"].query("stream == 'referral'")
    csv = dashboard.tables.download("state").callback().getvalue()
    back = pd.read_csv(pd.io.common.StringIO(csv))
    assert len(back) == 19
    column = "Trafficking referrals"
    assert back[column].isna().sum() == cells["suppressed"].sum()  # hidden cells are empty
    shown = back[column].dropna()
    assert ((shown == 0) | (shown >= 11)).all()
    assert list(back.columns) == list(table.columns)
    assert back.set_index("pcode")[column].dropna().astype(int).to_dict() == (
        cells.dropna(subset=["value"]).set_index("state_pcode")["value"].astype(int).to_dict()
    )


def test_the_session_view_is_what_viewdata_builds(dashboard):
    store_ = dashboard.store
    store_.param.update(office="GDF", period="2022")
    expected = viewdata.build(dashboard.dataset, Filters(period="2022", office="GDF"))
    pd.testing.assert_frame_equal(store_.view["by_state"], expected["by_state"])
    assert store_.view.title == expected.title


def test_export_buttons_give_the_view_shown(dashboard):
    dashboard.store.param.update(stream=["return"], period="2022-H1", office="GDF")
    csv_button, html_button, _png = dashboard.exports[0]
    assert csv_button.filename == "flowmon_return_2022-H1_GDF_return.csv"
    table = pd.read_csv(csv_button.callback())
    totals = table.query("table == 'total' and stream == 'return'")["value"]
    assert int(totals.iloc[0]) == kpi(dashboard, "return")
    page = html_button.callback().getvalue()
    assert page.startswith("<!DOCTYPE html>") and "SYN-" not in page
    profile = dashboard.exports[1]
    assert profile.filename == "flowmon_profile_return_2022-H1_GDF_return.pdf"


def test_data_is_loaded_once_and_shared_by_sessions(demo_dir):
    first, second = Dashboard(data_dir=str(demo_dir)), Dashboard(data_dir=str(demo_dir))
    assert first.dataset is second.dataset  # one copy per server process
    first.store.office = "KSL"
    assert second.store.office == ALL  # each session keeps its own filters


def test_sessions_share_the_snapshot_of_a_view_they_both_show(demo_dir):
    first, second = Dashboard(data_dir=str(demo_dir)), Dashboard(data_dir=str(demo_dir))
    assert first.store.view is second.store.view  # the view every page opens with is built once
    first.store.param.update(office="KSL", period="2024")
    assert first.store.view is not second.store.view
    second.store.param.update(office="KSL", period="2024")
    assert second.store.view is first.store.view
    arabic = Dashboard(data_dir=str(demo_dir), language="ar")
    assert arabic.store.view is not second.store.view  # its words are its own
    strict = Dashboard(data_dir=str(demo_dir), operator_k=10)
    assert strict.store.view is not Dashboard(data_dir=str(demo_dir)).store.view  # so are its numbers
    for _ in range(datastore.SHARED_VIEWS + 5):  # a bounded number kept: a long-running server stays small
        first.dataset.shared(("other", _), object)
    assert len(first.dataset._views) == datastore.SHARED_VIEWS


def test_pages_showing_a_view_share_what_is_drawn_from_it_but_each_keeps_its_own(demo_dir):
    pages = [Dashboard(data_dir=str(demo_dir)) for _ in range(2)]
    projector = Dashboard(data_dir=str(demo_dir), present=True)
    for page in [*pages, projector]:
        render(page.map._pane)
        page.store.param.update(office="KSL", period="2024")
    first, second = pages
    view = first.store.view
    assert second.store.view is view and projector.store.view is view
    # Worked out once for every page that shows the view: the tables' rows, the map's columns.
    assert second.tables.shown(view, "state") is first.tables.shown(view, "state")
    assert second.map._state_columns(view) is first.map._state_columns(view)
    # Each page's map writes its own copy: a page's next change touches no other page's sources.
    ours, theirs = (page.map._figure.source("states").data["value"] for page in pages)
    assert ours is not theirs and list(ours) == list(theirs)
    shown = list(theirs)
    first.store.period = "2023"
    assert list(first.map._figure.source("states").data["value"]) != shown
    assert list(second.map._figure.source("states").data["value"]) == shown
    # The projector's cards are its own (large type), drawn from the same published numbers.
    assert "fm-present" in projector.kpis.__panel__().object
    assert "fm-present" not in second.kpis.__panel__().object
    assert second.tables.table("state").equals(projector.tables.table("state"))


def test_a_changed_data_folder_is_read_again_on_the_next_page(demo_dir, tmp_path, shared_data):
    import shutil

    from flowmon.geo import import_boundaries

    folder = tmp_path / "data"
    shutil.copytree(demo_dir, folder)
    before = Dashboard(data_dir=str(folder))
    assert before.dataset.boundaries is None
    import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", folder)
    after = Dashboard(data_dir=str(folder))
    assert after.dataset.boundaries is not None and after.map.geometry == "official"


def test_choosing_what_the_map_shows_selects_its_stream(dashboard):
    dashboard.store.stream = ["return"]
    dashboard.store.indicator = "referral"
    assert dashboard.store.stream == ["return", "referral"]
    assert len(dashboard.store.view.map_values()) == 19


def test_displacement_alone_hides_the_case_charts(dashboard):
    dashboard.main_area()
    trend, breakdowns = dashboard.trend.__panel__(), dashboard.breakdowns.__panel__()
    assert trend.visible and breakdowns.visible
    dashboard.store.stream = ["displacement"]
    assert not trend.visible and not breakdowns.visible
    assert dashboard.store.indicator == "displacement_in"


def test_an_empty_data_folder_says_what_to_do(tmp_path):
    empty = Dashboard(data_dir=str(tmp_path))
    render(pn.Column(empty.main_area(), empty.controls))
    assert "holds no data yet" in empty.message.render(empty.store.view)
    empty.store.param.update(sex="female", indicator="return", granularity="year")
    presenting = Dashboard(data_dir=str(tmp_path), present=True, language="ar")
    assert presenting.player is not None


def test_a_scoped_viewer_sees_only_their_offices_everywhere(demo_dir, events):
    from flowmon.access import AccessDenied, Scope

    kassala = Scope("amina", "viewer", ("KSL",), can_export=False)
    dashboard = Dashboard(data_dir=str(demo_dir), scope=kassala)
    dashboard.store.period = "2024"
    for stream in ("caseload", "return", "referral"):
        assert kpi(dashboard, stream) == hand_count(events, office="KSL", stream=stream,
                                                    months=("2024-01", "2024-12"))  # fmt: skip
    assert set(dashboard.office_widget.options.values()) == {ALL, "KSL"}
    assert set(dashboard.store.view["by_office"]["office"]) == {"KSL"}
    # A link, or a widget value sent from the browser, cannot widen the scope.
    dashboard.store.apply_query({"office": "KRT", "period": "2022"})
    assert dashboard.store.office == ALL and "not among the offices you may see" in dashboard.store.notices[0]
    assert kpi(dashboard, "caseload") == hand_count(events, office="KSL", stream="caseload",
                                                    months=("2022-01", "2022-12"))  # fmt: skip
    with pytest.raises(ValueError):
        dashboard.office_widget.value = "KRT"
    assert dashboard.store.office == ALL
    # No export for a role without it, whichever way it is asked for.
    assert not dashboard.exports.visible
    with pytest.raises(AccessDenied):
        dashboard.exports[0][0].callback()
    # Displacement (DTM, public data) stays whole.
    everyone = Dashboard(data_dir=str(demo_dir))
    everyone.store.period = dashboard.store.period = "2024"
    assert kpi(dashboard, "displacement") == kpi(everyone, "displacement")


def test_a_meeting_role_is_always_in_presentation_mode(demo_dir):
    from flowmon.access import Scope

    meeting = Dashboard(data_dir=str(demo_dir), scope=Scope("room", "meeting", None, can_export=True))
    assert meeting.present


def test_names_from_data_and_files_are_shown_as_text(demo_dir, tmp_path):
    import json
    import shutil

    folder = tmp_path / "data"
    shutil.copytree(demo_dir, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sources"][0]["path"] = "raw/<img src=x onerror=alert(1)>.csv"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    dashboard = Dashboard(data_dir=str(folder))
    footer = dashboard.footer.render(dashboard.store.view)
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in footer and "<img" not in footer


def test_trqn_assignments_have_a_tab_of_published_counts(dashboard, demo_dir):
    from flowmon import trqn

    tabs = dashboard.breakdowns.__panel__()
    assert "TRQN" in tabs._names
    dashboard.store.period = "2025"
    bars = dashboard.breakdowns.trqn(dashboard.store.view).columns
    published = trqn.counts(demo_dir, "2025")["by_sector"]
    shown = dict(zip(bars["category"], bars["top"], strict=True))
    assert shown and all(shown[row.sector] == row.value for row in published.itertuples() if row.value > 0)
