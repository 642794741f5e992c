"""View builders, headless: frames in, HoloViews elements out, rendered to Bokeh models."""

import itertools

import holoviews as hv
import numpy as np
import pandas as pd
import pytest

from flowmon import geo, schema
from flowmon.views import charts
from flowmon.views import map as maps
from flowmon.views.cards import change_text, kpi_cards

hv.extension("bokeh")


@pytest.fixture(scope="module")
def tiles():
    return geo.tiles()


def state_values(suppressed=("SD19",), zero=("SD17",)):
    pcodes = list(schema.STATE_PCODES)
    value = pd.array([10 * (i + 1) for i in range(len(pcodes))], dtype="Int64")
    frame = pd.DataFrame({"pcode": pcodes, "value": value, "suppressed": False})
    frame.loc[frame["pcode"].isin(zero), "value"] = 0
    frame.loc[frame["pcode"].isin(suppressed), ["value", "suppressed"]] = [pd.NA, True]
    return frame


def test_choropleth_colours_every_state_and_hatches_the_suppressed(tiles):
    overlay = maps.choropleth(tiles, state_values())
    polygons, labels = overlay.get(0), overlay.get(1)
    columns = ["pcode", "value", "shown", "hatch"]
    table = pd.DataFrame({c: polygons.dimension_values(c, expanded=False) for c in columns}).set_index(
        "pcode"
    )
    assert len(table) == 19
    assert table.loc["SD19", "hatch"] == maps.HATCH and np.isnan(table.loc["SD19", "value"])
    assert table.loc["SD17", "value"] == 0 and table.loc["SD17", "hatch"] == " "
    assert table.loc["SD01", "shown"] == "10"
    label_text = labels.dframe().set_index("pcode")["label"]
    assert label_text["SD19"].endswith("*")
    assert label_text["SD01"] == "Khartoum\n10"
    plot = hv.renderer("bokeh").get_plot(overlay)
    assert plot.state is not None


def test_state_columns_follow_the_geometry_order_not_the_values_order(tiles):
    values = state_values().sample(frac=1, random_state=1)
    columns = maps.state_columns(tiles["pcode"], values, tiles["name_en"])
    expected = state_values().set_index("pcode").loc[tiles["pcode"], "value"].astype("float64")
    np.testing.assert_array_equal(columns["value"], expected.to_numpy())


def test_flow_lines_draw_shown_flows_only_with_width_by_people(tiles):
    flows = pd.DataFrame({
        "origin_pcode": ["SD01", "SD01", "SD15", "SD02"],
        "destination_pcode": ["SD16", "SD12", "SD12", "SD02"],
        "value": pd.array([1000, 100, pd.NA, 50], dtype="Int64"), "suppressed": [False, False, True, False],
    })  # fmt: skip
    segments, heads = maps.flow_lines(flows, maps.label_points(tiles))
    table = segments.dframe()
    assert list(table["to"]) == ["SD16", "SD12"]  # hidden and within-state flows are not drawn
    assert table["width"].iloc[0] > table["width"].iloc[1]
    assert len(heads) == 2


def test_return_arrows_point_towards_the_country(tiles):
    returns = pd.DataFrame({
        "state_pcode": ["SD01", "SD10"], "destination": ["NGA", "ETH"],
        "value": pd.array([140, 60], dtype="Int64"),
        "suppressed": [False, False],
    })  # fmt: skip
    segments, _heads, labels = maps.return_arrows(returns, maps.label_points(tiles), geo.countries())
    table = segments.dframe().set_index("country")
    nigeria = table.filter(like="Nigeria", axis=0).iloc[0]
    ethiopia = table.filter(like="Ethiopia", axis=0).iloc[0]
    assert nigeria["x1"] < nigeria["x0"]  # Nigeria lies west of Sudan
    assert ethiopia["x1"] > ethiopia["x0"]  # Ethiopia east
    assert any("140" in t for t in labels.dframe()["text"])


def test_trend_stacks_streams_and_renders():
    periods = pd.period_range("2024-01", "2024-03", freq="M")
    table = pd.DataFrame({
        "stream": np.repeat(["return", "caseload"], 3), "period": list(periods) * 2,
        "value": pd.array([10, 20, pd.NA, 5, 6, 7], dtype="Int64"),
        "suppressed": [False] * 2 + [True] + [False] * 3,
    })  # fmt: skip
    chart = charts.trend(table, partial={"2024-03"})
    assert chart.categories == ["2024-01", "2024-02", "2024-03 (partial)"]
    bars = pd.DataFrame(chart.columns)
    # Caseload at the bottom of every period (the palette's order), returns stacked on it.
    first = bars[bars["category"] == "2024-01"]
    assert list(first["group"]) == ["MRRC caseload", "AVRR returns"]
    assert list(first["bottom"]) == [0, 5] and list(first["top"]) == [5, 15]
    hidden = bars[(bars["category"] == "2024-03 (partial)") & (bars["group"] == "AVRR returns")].iloc[0]
    assert hidden["shown"] == "*" and hidden["top"] == hidden["bottom"]  # a hidden cell adds nothing
    assert chart.value_end == pytest.approx(26 * charts.HEADROOM)
    plot = charts.figure(chart)
    assert list(plot.x_range.factors) == chart.categories
    nothing = charts.trend(pd.DataFrame())  # a view with nothing to stack (crossings switched off)
    assert nothing.categories == [] and nothing.value_end == 1.0


@pytest.mark.parametrize(
    ("first", "last", "freq", "slanted"),
    [
        ("2026-01", "2026-06", "M", False),  # half a year of months lies flat
        ("2025-01", "2025-12", "M", True),  # a year of months ran together flat ("2025-012025-02")
        ("2024Q1", "2025Q2", "Q", False),
        ("2023Q1", "2025Q4", "Q", True),
    ],
)
def test_trend_labels_slant_when_they_would_run_together(first, last, freq, slanted):
    periods = pd.period_range(first, last, freq=freq)
    table = pd.DataFrame({"stream": "caseload", "period": periods, "value": pd.array([9] * len(periods)),
                          "suppressed": False})  # fmt: skip
    chart = charts.trend(table, freq=freq)
    assert chart.rotate is slanted
    plot = charts.figure(chart)
    assert (plot.xaxis[0].major_label_orientation != "horizontal") is slanted
    charts.redraw(plot, charts.trend(table.iloc[:3], freq=freq))  # fewer periods: flat again
    assert plot.xaxis[0].major_label_orientation == "horizontal"


def test_a_chart_is_redrawn_in_place_with_other_bars():
    table = pd.DataFrame({"country": list("ab"), "value": pd.array([3, 50], dtype="Int64"),
                          "suppressed": [False, False]})  # fmt: skip
    plot = charts.figure(charts.ranked_bars(table, "country", title="Two"))
    source = plot.renderers[0].data_source
    empty = charts.ranked_bars(table.iloc[:0], "country", title="None")
    charts.redraw(plot, empty)
    assert plot.renderers[0].data_source is source and source.data["category"] == []
    assert plot.x_range.end == 1.0  # never a zero-length value axis (the browser would loop on it)
    assert plot.title.text == "None" and list(plot.y_range.factors) == []
    three = pd.DataFrame({"country": list("xyz"), "value": pd.array([0, 0, 0], dtype="Int64"),
                          "suppressed": [False] * 3})  # fmt: skip
    charts.redraw(plot, charts.ranked_bars(three, "country"))
    assert len(source.data["category"]) == len(source.data["top"]) == 3 and plot.x_range.end == 1.0
    # Whole people: no ticks at 0.2, 0.4 ... (shown "0 0 0 1 1 1" by the "0,0" format).
    assert plot.xaxis[0].ticker.min_interval == 1
    assert charts.figure(charts.trend(pd.DataFrame())).yaxis[0].ticker.min_interval == 1


def test_ranked_bars_keep_the_largest_on_top():
    table = pd.DataFrame(
        {
            "country": ["a", "b", "Unknown", "d", "Unknown"],
            "value": pd.array([3, 50, pd.NA, 20, 30], dtype="Int64"),
            "suppressed": [False, False, True, False, False],
        }
    )
    chart = charts.ranked_bars(table, "country", top=4)
    assert chart.categories[-1] == "b"  # drawn last = on top
    assert chart.columns["shown"][0] == "3" and "Unknown" in chart.categories
    two_alike = charts.ranked_bars(table, "country", top=5)
    assert len(set(two_alike.categories)) == 5  # two unknown countries stay two bars
    assert dict(zip(two_alike.categories, two_alike.columns["shown"], strict=True))["Unknown (2)"] == "*"
    charts.figure(chart)


def test_kpi_cards_say_the_change_in_words():
    assert change_text(120, 100) == "▲ +20% vs previous period (100)"
    assert change_text(80, 100).startswith("▼ -20%")
    assert "hidden" in change_text(pd.NA, 100)
    html = kpi_cards(pd.DataFrame({"stream": ["return"], "value": [1234], "previous": [1000]}))
    assert "1,234" in html and "AVRR returns" in html


def test_a_missing_previous_period_is_not_called_hidden():
    assert change_text(10, pd.NA, previous_hidden=False) == "no data for the previous period"
    assert "hidden" in change_text(10, pd.NA, previous_hidden=True)


@pytest.mark.parametrize("high", [1.0, 2.0, 3.0, 7.0, 40.0, 999.0, 1000.0, 5_000_000.0])
def test_colour_bar_ticks_are_distinct_and_within_the_scale(high):
    ticks = maps.color_ticks(high)
    labels = [f"{int(t):,}" for t in ticks]
    assert len(set(labels)) == len(labels) and ticks == sorted(ticks)
    assert ticks[0] == 1 and ticks[-1] <= max(high, 1)


def test_a_scale_that_would_mislead_is_said_in_words():
    assert maps.scale_note([0, 0, 0], "returnees") == "Every state: 0 returnees"
    assert maps.scale_note([5, 0, 0], "returnees") == "One value: 5 returnees (1 of 3 states, the others 0)"
    assert maps.scale_note([7, 7], "people") == "One value: 7 people (every state)"
    assert maps.scale_note([np.nan, np.nan]) == "No state counted in this view"
    assert maps.scale_note([1, 20, 300]) == ""


@pytest.fixture(scope="module")
def official(shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("official-views")
    geo.import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", folder)
    return geo.boundaries(folder)


def test_labels_on_official_boundaries_are_called_out_clear_of_offices_and_of_each_other(official):
    import shapely

    offices = geo.offices().rename(columns={"lon": "x", "lat": "y"}).assign(r=17)
    texts = [f"{maps.wrap(n)}\n000,000" for n in official["name_en"]]
    xmin, ymin, xmax, ymax = official.total_bounds
    bounds = (xmin - 3, ymin - 1.3, xmax + 3, ymax + 1.3)
    unit_px, font_px = 580 / (bounds[3] - bounds[1]), 11
    placed = maps.place_labels(
        official, texts, unit_px=unit_px, font_px=font_px, obstacles=offices, bounds=bounds
    )
    assert list(placed["pcode"]) == list(official["pcode"])
    callouts = set(placed.loc[placed["callout"], "pcode"])
    assert {"SD01", "SD19"} <= callouts  # Khartoum and Abyei are too small for their names
    assert "SD17" not in callouts and "SD02" not in callouts  # Northern and North Darfur have room
    boxes = [
        maps._box(x, y, *(v / unit_px for v in maps.label_box(t, font_px)))
        for x, y, t in zip(placed["x"], placed["y"], texts, strict=True)
    ]
    for i, j in itertools.combinations(range(len(boxes)), 2):
        assert not boxes[i].intersects(boxes[j]), (placed["pcode"][i], placed["pcode"][j])
    markers = shapely.union_all([shapely.Point(o.x, o.y).buffer(o.r / unit_px) for o in offices.itertuples()])
    assert not any(box.intersects(markers) for box in boxes)  # no office covers a value
    leaders = maps.leader_lines(placed).dframe()
    assert len(leaders) == len(callouts)


def test_the_key_names_offices_zero_and_states_without_a_boundary():
    key = maps.legend_html(closed=True, returns=True, note="Every state: 0", missing=["Abyei PCA (SD19)"])
    words_shown = ("IOM office", "office closed", "0 (none)", "returns", "Every state: 0",
                   "No boundary in this file", "Abyei PCA (SD19)", "tables")  # fmt: skip
    for words in words_shown:
        assert words in key
    assert "hatch" not in key.lower() and "hidden" not in key.lower()


def test_return_arrows_stay_inside_a_tight_frame(tiles, official):
    returns = pd.DataFrame({
        "state_pcode": ["SD01"] * 4, "destination": ["TCD", "NER", "ETH", "EGY"],
        "value": pd.array([10, 20, 30, 40], dtype="Int64"), "suppressed": False,
    })  # fmt: skip
    points = maps.label_points(official)
    xmin, ymin, xmax, ymax = official.total_bounds
    bounds = (xmin - 3, ymin - 1.3, xmax + 3, ymax + 1.3)
    segments, _heads, labels = maps.return_arrows(returns, points, geo.countries(), bounds=bounds, unit_px=35)
    table = pd.concat(
        [segments.dframe()[["x1", "y1"]].set_axis(["x", "y"], axis=1), labels.dframe()[["x", "y"]]]
    )
    assert table["x"].between(bounds[0], bounds[2]).all() and table["y"].between(bounds[1], bounds[3]).all()
