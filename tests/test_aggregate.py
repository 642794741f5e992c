"""flowmon.aggregate on small fixtures whose every expected number is worked out by hand in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

from flowmon import aggregate as ag
from flowmon import schema
from flowmon.rounds import snapshot_rows

# stream, date, office, state, nationality, sex, age, category, destination, referred_to, count
EVENT_ROWS = [
    ("caseload", "2024-01-10", "KRT", "SD01", "ERI", "female", "18-59", "screening", None, None, 3),  # 1
    ("caseload", "2024-01-20", "KRT", "SD01", "ETH", "male", "18-59", "counselling", None, None, 2),  # 2
    ("caseload", "2024-02-05", "PZU", "SD10", "ERI", "male", "0-17", "screening", None, None, 4),  # 3
    ("return", "2024-02-15", "PZU", "SD10", "NGA", "male", "18-59", "pending", "NGA", None, 6),  # 4
    ("return", "2024-03-01", "KRT", "SD01", "ETH", "female", "18-59", "completed", "ETH", None, 1),  # 5
    (
        "referral",
        "2024-03-10",
        "KSL",
        "SD11",
        "ERI",
        "female",
        "18-59",
        "forced labour",
        None,
        "shelter",
        2,
    ),  # 6
    (
        "referral",
        "2023-12-31",
        "KSL",
        "SD11",
        "ERI",
        "female",
        "0-17",
        "sexual exploitation",
        None,
        "medical",
        5,
    ),
    ("caseload", "2023-11-15", "KRT", "SD01", "SSD", "male", "60+", "screening", None, None, 7),  # 8
]
FLOW_ROWS = [
    ("2024-01-01", "SD01", "SD10", "idp", 100),
    ("2024-02-01", "SD01", "SD15", "idp", 50),
    ("2024-02-01", "SD15", "SD15", "idp", 20),
    ("2024-03-01", "SD10", "SD01", "returnee", 30),
]


@pytest.fixture
def events() -> pd.DataFrame:
    columns = [c for c in schema.EVENT_COLUMNS if c != "record_id"]
    frame = pd.DataFrame(EVENT_ROWS, columns=columns)
    frame.insert(0, "record_id", [f"T-{i}" for i in range(len(frame))])
    return ag.prepare(schema.conform(frame, "events"))


@pytest.fixture
def flows() -> pd.DataFrame:
    frame = pd.DataFrame(
        FLOW_ROWS, columns=["period", "origin_pcode", "destination_pcode", "population_type", "individuals"]
    )
    frame["households"] = pd.NA
    frame["source"] = "test"
    return ag.prepare(schema.conform(frame, "flows"))


def values(table: pd.DataFrame, *keys: str) -> dict:
    """Non-zero values by key tuple (or key when one)."""
    nonzero = table[table["value"] != 0]
    index = nonzero[list(keys)].itertuples(index=False, name=None)
    return {(k if len(keys) > 1 else k[0]): int(v) for k, v in zip(index, nonzero["value"], strict=True)}


# ---------------------------------------------------------------------------------------------- Filters


def test_filters_from_and_to_query_round_trip():
    f = ag.Filters.from_query(
        {"office": "KRT,PZU", "start": "2024-01", "end": "2024-06", "stream": ["return"], "present": "1"}
    )
    assert f.offices == ("KRT", "PZU")
    assert f.streams == ("return",)
    assert f.start == pd.Period("2024-01", "M") and f.end == pd.Period("2024-06", "M")
    assert f.to_query() == {"office": "KRT,PZU", "stream": "return", "start": "2024-01", "end": "2024-06"}
    assert ag.Filters.from_query(f.to_query()) == f
    assert ag.Filters().to_query() == {}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"office": "XXX"}, "office: unknown value 'XXX'"),
        ({"state": "SD20"}, "state: unknown value 'SD20'"),
        ({"stream": "cases"}, "stream: unknown value 'cases'"),
        ({"start": "March"}, "start: 'March' is not a month"),
        ({"start": "2024-05", "end": "2024-01"}, "start 2024-05 is after end 2024-01"),
    ],
)
def test_filters_reject_unknown_values(query, message):
    with pytest.raises(ValueError, match=message):
        ag.Filters.from_query(query)


def test_filter_events_by_each_field(events):
    def rows(**kwargs):
        return sorted(ag.filter_events(events, ag.Filters(**kwargs))["record_id"].str[2:].astype(int) + 1)

    assert rows() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert rows(offices=("PZU",)) == [3, 4]
    assert rows(streams=("return", "displacement")) == [4, 5]
    assert rows(streams=("displacement",)) == []
    assert rows(states=("SD10", "SD11")) == [3, 4, 6, 7]
    assert rows(nationalities=("ERI",), sexes=("female",)) == [1, 6, 7]
    assert rows(age_groups=("0-17",)) == [3, 7]
    assert rows(categories=("screening",)) == [1, 3, 8]
    assert rows(start="2024-01", end="2024-02") == [1, 2, 3, 4]
    assert rows(end="2023-12") == [7, 8]


def test_filter_flows_by_state_as_origin_or_destination(flows):
    def individuals(**kwargs):
        return sorted(ag.filter_flows(flows, ag.Filters(**kwargs))["individuals"])

    assert individuals(states=("SD10",)) == [30, 100]
    assert individuals(population_types=("returnee",)) == [30]
    assert individuals(start="2024-02", end="2024-02") == [20, 50]
    assert individuals(streams=("caseload",)) == []
    # Event-only filters do not apply to displacement.
    assert individuals(offices=("KRT",), nationalities=("ERI",)) == [20, 30, 50, 100]


def test_unprepared_tables_give_the_same_answers(events):
    raw = events.drop(columns="month")
    f = ag.Filters(start="2024-01", offices=("KRT",))
    pd.testing.assert_frame_equal(ag.by_state(raw, f), ag.by_state(events, f))


# ---------------------------------------------------------------------------------------------- aggregates


def test_by_state_has_every_state_and_selected_stream(events):
    table = ag.by_state(events)
    assert len(table) == 19 * 3
    assert list(table.columns) == ["stream", "state_pcode", "value", "ckey"]
    # caseload SD01: rows 1, 2, 8 = 3 + 2 + 7; SD10: row 3; returns: rows 4 and 5; referrals: rows 6 and 7.
    assert values(table, "stream", "state_pcode") == {
        ("caseload", "SD01"): 12,
        ("caseload", "SD10"): 4,
        ("return", "SD01"): 1,
        ("return", "SD10"): 6,
        ("referral", "SD11"): 7,
    }
    filtered = ag.by_state(
        events, ag.Filters(offices=("KRT",), start="2024-01", streams=("caseload", "referral"))
    )
    assert set(filtered["stream"]) == {"caseload", "referral"} and len(filtered) == 38
    assert values(filtered, "stream", "state_pcode") == {("caseload", "SD01"): 5}  # rows 1 and 2


def test_by_office(events):
    table = ag.by_office(events, ag.Filters(streams=("return",)))
    assert len(table) == len(schema.office_codes())
    assert values(table, "office") == {"PZU": 6, "KRT": 1}


def test_by_period_months_quarters_years(events):
    f = ag.Filters(start="2024-01", end="2024-03")
    months = ag.by_period(events, f)
    assert len(months) == 3 * 3  # zeros included
    assert values(months, "stream", "period") == {
        ("caseload", pd.Timestamp("2024-01-01")): 5,
        ("caseload", pd.Timestamp("2024-02-01")): 4,
        ("return", pd.Timestamp("2024-02-01")): 6,
        ("return", pd.Timestamp("2024-03-01")): 1,
        ("referral", pd.Timestamp("2024-03-01")): 2,
    }
    # Without bounds the window runs from the first to the last month of the data: 2023-11 .. 2024-03.
    quarters = ag.by_period(events, freq="Q")
    assert values(quarters, "stream", "period") == {
        ("caseload", pd.Timestamp("2023-10-01")): 7,
        ("referral", pd.Timestamp("2023-10-01")): 5,
        ("caseload", pd.Timestamp("2024-01-01")): 9,
        ("return", pd.Timestamp("2024-01-01")): 7,
        ("referral", pd.Timestamp("2024-01-01")): 2,
    }
    years = ag.by_period(events, freq="Y")
    assert values(years, "stream", "period") == {
        ("caseload", pd.Timestamp("2023-01-01")): 7,
        ("referral", pd.Timestamp("2023-01-01")): 5,
        ("caseload", pd.Timestamp("2024-01-01")): 9,
        ("return", pd.Timestamp("2024-01-01")): 7,
        ("referral", pd.Timestamp("2024-01-01")): 2,
    }
    with pytest.raises(ValueError, match="freq must be one of"):
        ag.by_period(events, freq="W")


def test_by_period_with_displacement(events, flows):
    table = ag.by_period(events, ag.Filters(start="2024-01", end="2024-03"), flows=flows)
    displacement = table[table["stream"] == "displacement"]
    assert list(displacement["value"]) == [100, 70, 30]


def test_by_category_lists_each_streams_own_categories(events):
    table = ag.by_category(events)
    assert len(table) == 7 + 3 + 7
    assert list(table.loc[table["stream"] == "return", "category"]) == ["pending", "in progress", "completed"]
    assert values(table, "stream", "category") == {
        ("caseload", "screening"): 14,  # rows 1, 3, 8
        ("caseload", "counselling"): 2,
        ("return", "pending"): 6,
        ("return", "completed"): 1,
        ("referral", "forced labour"): 2,
        ("referral", "sexual exploitation"): 5,
    }


def test_by_nationality_largest_first(events):
    table = ag.by_nationality(events)[["stream", "nationality", "value"]]
    assert list(table.itertuples(index=False, name=None)) == [
        ("caseload", "ERI", 7),  # rows 1 and 3
        ("caseload", "SSD", 7),  # a tie is ordered by code
        ("caseload", "ETH", 2),
        ("return", "NGA", 6),
        ("return", "ETH", 1),
        ("referral", "ERI", 7),
    ]


def test_return_flows_from_states_or_offices(events):
    assert values(ag.return_flows(events), "state_pcode", "destination") == {
        ("SD10", "NGA"): 6,
        ("SD01", "ETH"): 1,
    }
    assert values(ag.return_flows(events, origin="office"), "office", "destination") == {
        ("PZU", "NGA"): 6,
        ("KRT", "ETH"): 1,
    }
    assert ag.return_flows(events, ag.Filters(streams=("caseload",))).empty


def test_state_flows_and_displacement_by_state(flows):
    assert values(ag.state_flows(flows), "origin_pcode", "destination_pcode") == {
        ("SD01", "SD10"): 100,
        ("SD01", "SD15"): 50,
        ("SD15", "SD15"): 20,
        ("SD10", "SD01"): 30,
    }
    into = ag.displacement_by_state(flows)
    assert len(into) == 19 and set(into["stream"]) == {"displacement"}
    assert values(into, "state_pcode") == {"SD10": 100, "SD15": 70, "SD01": 30}
    out_of = ag.displacement_by_state(flows, ag.Filters(states=("SD10",)), side="origin")
    assert values(out_of, "state_pcode") == {"SD01": 100, "SD10": 30}


def test_kpis_against_the_previous_period_of_equal_length(events, flows):
    table = ag.kpis(events, flows, ag.Filters(start="2024-02", end="2024-03"))
    assert list(table.columns) == list(ag.KPI_COLUMNS)
    rows = {r.stream: r for r in table.itertuples(index=False)}
    # caseload: Feb-Mar 2024 = row 3 (4); Dec 2023-Jan 2024 = rows 1, 2 (5)
    assert (rows["caseload"].value, rows["caseload"].previous, rows["caseload"].change) == (4, 5, -1)
    assert rows["caseload"].change_pct == -20.0
    # returns: 6 + 1 now, none before: the change in percent is not defined.
    assert (rows["return"].value, rows["return"].previous, rows["return"].change) == (7, 0, 7)
    assert pd.isna(rows["return"].change_pct)
    # referrals: row 6 (2) now, row 7 (5) on 31 December 2023.
    assert (rows["referral"].value, rows["referral"].previous, rows["referral"].change_pct) == (2, 5, -60.0)
    # displacement: 50 + 20 + 30 now; flows start in 2024-01, so December 2023 is not covered.
    assert rows["displacement"].value == 100 and pd.isna(rows["displacement"].previous)


def test_kpis_without_a_covered_previous_period(events):
    # 2024-01..2024-03 has 2023-10..2023-12 before it; the events start in 2023-11.
    table = ag.kpis(events, None, ag.Filters(start="2024-01", end="2024-03"))
    assert table["previous"].isna().all() and table["change"].isna().all()
    assert list(table["stream"]) == ["caseload", "return", "referral"]


def test_window_closes_open_bounds_with_the_data(events, flows):
    assert ag.window(events) == (pd.Period("2023-11", "M"), pd.Period("2024-03", "M"))
    assert ag.window(events, flows, ag.Filters(start="2024-02")) == (
        pd.Period("2024-02", "M"),
        pd.Period("2024-03", "M"),
    )
    assert ag.window(events.iloc[:0]) is None


# ---------------------------------------------------------------------------------------------- count_view


def test_count_view_counts_every_view(events, flows):
    data = ag.count_view(events, flows)
    assert tuple(data) == (*ag.VIEWS, "rounds")
    by_state = data["by_state"].set_index(["stream", "state_pcode"])
    assert (
        by_state.loc[("caseload", "SD10"), "value"] == 4 and by_state.loc[("caseload", "SD01"), "value"] == 12
    )
    assert by_state.loc[("caseload", "SD02"), "value"] == 0
    kpis = data["kpis"].set_index("stream")
    assert kpis.loc["caseload", "value"] == 16 and kpis.loc["displacement", "value"] == 200
    # Displacement is on the map by state of destination: 100 (SD10), 70 (SD15), 30 (SD01).
    displaced = by_state.loc["displacement"]
    assert displaced.loc["SD10", "value"] == 100 and displaced.loc["SD15", "value"] == 70
    assert data["window"].iloc[0]["start"] == pd.Period("2023-11", "M")
    # Nationalities over all case streams together: a count of its own, with its cell key.
    totals = data["nationality_total"].set_index("nationality")["value"]
    assert totals.sum() == kpis.loc[["caseload", "return", "referral"], "value"].sum()


def test_count_view_on_empty_tables():
    empty = ag.count_view(ag.prepare(schema.empty("events")), ag.prepare(schema.empty("flows")))
    assert empty["window"].empty and empty["by_period"].empty
    assert (empty["by_state"]["value"] == 0).all()
    assert (empty["kpis"]["value"] == 0).all()


def test_by_referred_to(events):
    table = ag.by_referred_to(events)
    assert len(table) == len(schema.REFERRAL_SERVICES)
    assert values(table, "referred_to") == {"shelter": 2, "medical": 5}  # rows 6 and 7
    assert ag.by_referred_to(events, ag.Filters(streams=("caseload",))).empty


def test_by_referred_to_counts_referrals_without_a_service(events):
    events = events.copy()
    events.loc[events["record_id"] == "T-6", "referred_to"] = None  # row 7 (5 people)
    assert values(ag.by_referred_to(events), "referred_to") == {"shelter": 2, ag.NOT_RECORDED: 5}


def test_departures_are_displacement_by_state_of_origin(events, flows):
    departures = ag.count_view(events, flows)["departures"].set_index("state_pcode")
    # SD01: 100 + 50; SD15: 20; SD10: 30 (below 5? no: all at least 5, so all shown).
    assert departures.loc["SD01", "value"] == 150 and departures.loc["SD10", "value"] == 30
    assert departures.loc["SD15", "value"] == 20 and departures.loc["SD02", "value"] == 0


# ---------------------------------------------------------------------------------------------- demo data


@pytest.mark.parametrize(
    "query",
    [{}, {"office": "KSL"}, {"stream": "referral", "period": "2024"}, {"state": "SD11", "nationality": "ERI"},
     {"sex": "female", "age_group": "0-17"}, {"period": "2025-03"}],
)  # fmt: skip
def test_published_views_of_the_demo_never_show_a_small_count(demo_dir, query):
    from flowmon import viewdata
    from flowmon.datastore import open_dataset
    from flowmon.filters import Filters

    view = viewdata.build(open_dataset(demo_dir), Filters.from_query({"period": "2024", **query}))
    ks = {"caseload": 5, "return": 5, "referral": 11}
    for name, table in {**view.tables, "kpis": view.kpis}.items():
        if table.empty:
            continue
        flows_of = "return" if "destination" in table else "displacement"  # tables without a stream column
        stream = table["stream"] if "stream" in table else pd.Series(flows_of, index=table.index)
        k = stream.map(ks)
        shown = table["value"].astype("Float64")
        assert not ((shown >= 1) & (shown < k.fillna(0))).any(), name
        assert not table["suppressed"].any(), name  # nothing hidden: perturbed


def master_list(period: str, khartoum_to_gedaref: int, source: str) -> pd.DataFrame:
    """One DTM master-list round: a snapshot of the people displaced at that date."""
    frame = pd.DataFrame({
        "period": [period, period], "origin_pcode": ["SD01", "SD15"], "destination_pcode": ["SD12", "SD12"],
        "population_type": ["idp", "idp"], "individuals": [khartoum_to_gedaref, 100], "households": pd.NA,
        "source": source,
    })  # fmt: skip
    return schema.conform(frame, "flows")


def test_master_list_rounds_are_snapshots_and_only_the_latest_counts(events):
    rounds = ag.prepare(pd.concat([
        master_list("2024-03-25", 1000, "DTM Sudan IDP Master List 25-03-2024"),
        master_list("2024-06-30", 1500, "DTM Sudan IDP Master List 30-06-2024"),
    ], ignore_index=True))  # fmt: skip
    year = ag.Filters(start="2024-01", end="2024-12", streams=("displacement",))
    kpis = ag.kpis(events, rounds, year).set_index("stream")
    assert kpis.loc["displacement", "value"] == 1600  # the June round, not both rounds added up
    by_state = ag.displacement_by_state(rounds, year).set_index("state_pcode")
    assert by_state.loc["SD12", "value"] == 1600
    view = ag.count_view(events, rounds, year)
    assert view["kpis"].set_index("stream").loc["displacement", "value"] == 1600
    assert ag.filter_flows(rounds, year)["individuals"].sum() == 1600
    # A window holding only the March round shows that round.
    spring = ag.Filters(start="2024-01", end="2024-04", streams=("displacement",))
    assert ag.state_flows(rounds, spring)["value"].sum() == 1100


def test_monthly_flows_still_add_up(flows):
    assert not snapshot_rows(flows).any()  # one source over many months: movements, summed
