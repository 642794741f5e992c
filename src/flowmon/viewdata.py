"""What one view shows: ``build`` turns a dataset and ``Filters`` into an immutable ``ViewData`` snapshot.

This is the one place that decides a view's numbers and words. Counting is ``flowmon.aggregate``'s,
protection ``flowmon.privacy``'s, and the words come from ``flowmon.i18n``; the dashboard, the CSV, HTML and
PNG exports and the notebooks only draw a ``ViewData``, so the same filters give the same numbers
everywhere. Nothing here or downstream adds published numbers up: a total that is shown is a counted,
protected cell of its own.

Cross-border movements are counted only when the view shows them (``Filters.crossings``: about 0.1 s on the
demo store, which a view of the case streams should not pay): ``crossings`` holds the published tables of
``flowmon.crossings.publish`` and ``kpis`` a ``crossing`` row (every direction: its own cell).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from flowmon import aggregate, crossings, i18n, privacy, schema
from flowmon.filters import INDICATOR_STREAM, Choices, Filters, period_kind, period_span, periods

TABLES = (
    "by_state",
    "departures",
    "by_office",
    "by_period",
    "by_category",
    "by_nationality",
    "by_referred_to",
    "return_flows",
    "state_flows",
)


@dataclass(frozen=True)
class ViewData:
    """Everything one view shows, published (protected) and worded; renderers only draw it.

    Tables are long frames with ``value`` (published counts) and ``suppressed``; ``kpis`` has one row per
    selected stream with ``value``, ``previous``, ``change``, ``change_pct``.
    """

    filters: Filters
    language: str
    start: pd.Period | None
    end: pd.Period | None
    previous: str | None
    data_start: pd.Period | None
    data_end: pd.Period | None
    kpis: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]
    title: str
    notices: tuple[str, ...]
    footnote: str
    sources: tuple[dict, ...]
    synthetic: bool
    streams_present: tuple[str, ...]
    offices_open: pd.Series
    rounds: pd.DataFrame = field(default_factory=pd.DataFrame)
    k: Mapping[str, int] = field(default_factory=dict)
    crossings: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    # What pages draw from this snapshot (a table's rows, a chart's bars), worked out once for all of them.
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, key: tuple, make):
        """``make()``, worked out once for this view: every page that shows it shares what is drawn from it,
        as they share the view. ``key`` names it and what else it depends on (a part, a language)."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @property
    def partial(self) -> bool:
        """Whether the period runs past the data (a year still under way, or before the first month)."""
        if self.start is None or self.data_start is None:
            return False
        return self.start < self.data_start or self.end > self.data_end

    @property
    def empty(self) -> bool:
        """Nothing counted at all in this view."""
        kpis = self.kpis
        return kpis.empty or bool((kpis["value"].fillna(0) == 0).all() and not kpis["suppressed"].any())

    def map_values(self) -> pd.DataFrame:
        """``pcode, value, suppressed``: what the map colours, for the indicator the filters chose."""
        stream = self.filters.map_stream
        if stream == schema.CROSSING:
            table = self.crossings.get("by_state")
            if table is None:
                return pd.DataFrame({"pcode": [], "value": pd.array([], dtype="Int64"), "suppressed": []})
            rows = table[table["direction"] == self.crossing_direction]
            rows = rows.rename(columns={"state_pcode": "pcode"})
            return rows[["pcode", "value", "suppressed"]].reset_index(drop=True)
        table = self.tables["departures" if self.filters.indicator == "displacement_out" else "by_state"]
        rows = table[table["stream"] == stream]
        return rows.rename(columns={"state_pcode": "pcode"})[["pcode", "value", "suppressed"]].reset_index(
            drop=True
        )

    def replace_indicator(self, indicator: str) -> ViewData:
        """The same view with the map on another indicator (the numbers stay; only what is mapped changes)."""
        return dataclasses.replace(self, filters=self.filters.replace(indicator=indicator))

    @property
    def crossing_direction(self) -> str:
        """The direction whose cells the crossing charts and map show: the one chosen, or all (own cells)."""
        return self.filters.direction or crossings.ALL

    def kpi(self, stream: str) -> pd.Series | None:
        rows = self.kpis[self.kpis["stream"] == stream]
        return None if rows.empty else rows.iloc[0]


def choices(dataset, operator_k: privacy.OperatorK = None) -> Choices:
    """What ``dataset`` lets a viewer choose (nationalities only with enough records to show safely)."""
    events = dataset.events
    k = max(privacy.k_by_stream(operator_k).values())
    if events.empty:
        nationalities: tuple[str, ...] = ()
    else:
        totals = events.groupby("nationality", observed=True)["count"].sum()
        nationalities = tuple(str(code) for code in totals[totals >= k].index)
    return Choices(
        months=tuple(dataset.months),
        periods=periods(dataset.months),
        nationalities=nationalities,
        offices=tuple(dataset.offices["code"]),
    )


def selection(filters: Filters) -> aggregate.Filters:
    """The counting selection of a view: its period's months and its one-or-all values."""
    start, end = period_span(filters.period) if filters.period else (None, None)

    def one(value: str | None) -> tuple[str, ...]:
        return (value,) if value else ()

    return aggregate.Filters(
        offices=one(filters.office),
        streams=filters.stream,
        states=one(filters.state),
        nationalities=one(filters.nationality),
        sexes=one(filters.sex),
        age_groups=one(filters.age_group),
        start=start,
        end=end,
    )


def build(
    dataset,
    filters: Filters,
    *,
    operator_k: privacy.OperatorK = None,
    language: str = "en",
    notices: tuple[str, ...] = (),
) -> ViewData:
    """The snapshot of one view: published tables and KPIs, title, notices, footnote and provenance.

    Every number comes from ``aggregate.count_view`` through ``privacy.release`` (the one way from counts to
    anything shown): the same records give the same published number in every view, session and export.
    """
    selected = selection(filters)
    counted = aggregate.count_view(dataset.events, dataset.flows, selected, freq=filters.freq)
    start, end = period_span(filters.period) if filters.period else (None, None)
    months = dataset.months
    data_start = pd.Period(months[0], "M") if months else None
    data_end = pd.Period(months[-1], "M") if months else None

    def publish(table: pd.DataFrame, **stream) -> pd.DataFrame:
        return privacy.release(table, operator_k, data_dir=dataset.data_dir, **stream)

    kpis = publish(counted["kpis"])
    kpis = kpis[kpis["stream"].isin(dataset.streams_present)].reset_index(drop=True)
    partial = start is not None and data_start is not None and (start < data_start or end > data_end)
    crossing = {}
    if filters.crossings and schema.CROSSING in dataset.streams_present:
        crossing = published_crossings(dataset, filters, operator_k, partial=partial)
        total = crossing["kpis"][crossing["kpis"]["measure"] == crossings.ALL]
        kpis = pd.concat([kpis, total[list(kpis.columns)]], ignore_index=True)
    if partial:
        # A period the data covers only in part is not compared with a whole one (a year so far against a
        # full year would read as a fall).
        kpis = kpis.assign(previous=pd.NA, change=pd.NA, change_pct=pd.NA).astype(
            {"previous": "Int64", "change": "Int64", "change_pct": "Float64"}
        )
    offices = set(dataset.offices["code"])
    by_office = counted["by_office"]
    case_streams = selected.event_streams() or schema.STREAMS  # crossings alone: no nationality counted
    tables = {
        "by_state": publish(counted["by_state"]),
        "departures": publish(counted["departures"]),
        # Only the dataset's offices (a scoped viewer's own): no row for an office they cannot see.
        "by_office": publish(by_office[by_office["office"].isin(offices)].reset_index(drop=True)),
        "by_period": publish(_within(counted["by_period"], filters.freq, data_start, data_end)),
        "by_category": publish(counted["by_category"]),
        "by_nationality": publish(counted["by_nationality"]),
        "by_referred_to": publish(counted["by_referred_to"]),
        "return_flows": publish(counted["return_flows"], stream="return"),
        "state_flows": publish(counted["state_flows"], stream=schema.DISPLACEMENT),
        "nationality_total": _ranked(publish(counted["nationality_total"], stream=case_streams)),
    }
    shown_streams = [s for s in filters.streams() if s in dataset.streams_present]
    if schema.CROSSING in shown_streams and not crossing:
        shown_streams.remove(schema.CROSSING)
    view = ViewData(
        filters=filters,
        language=language,
        start=start,
        end=end,
        previous=_previous(filters.period),
        data_start=data_start,
        data_end=data_end,
        kpis=kpis,
        tables=tables,
        title=title(dataset, filters, language),
        notices=tuple(notices),
        footnote=_footnote(shown_streams, counted["rounds"], operator_k, language),
        sources=tuple(provenance(dataset)),
        synthetic=dataset.synthetic,
        streams_present=dataset.streams_present,
        offices_open=office_open(dataset.offices, start, end),
        rounds=counted["rounds"],
        k=privacy.k_by_stream(operator_k),
        crossings=crossing,
    )
    if view.partial and months:
        covered = i18n.period_text(max(start, data_start), min(end, data_end), language)
        object.__setattr__(view, "notices", (*view.notices, partial_note(filters.period, covered, language)))
    return view


def published_crossings(dataset, filters: Filters, operator_k=None, *, partial: bool = False) -> dict:
    """The crossing tables of a view, published (``flowmon.crossings.publish``), ``card`` included.

    When the period runs past the data, in, out and net are not compared with the previous period (a year
    so far against a whole one would read as a fall); the daily average, per day covered, still is.
    """
    counted = crossings.count(dataset.crossings, filters, freq=filters.freq)
    data_start = pd.Period(dataset.months[0], "M") if dataset.months else None
    data_end = pd.Period(dataset.months[-1], "M") if dataset.months else None
    counted["by_period"] = _within(counted["by_period"], filters.freq, data_start, data_end)
    published = crossings.publish(counted, operator_k, data_dir=dataset.data_dir)
    if partial:
        card = published["card"]
        totals = card["measure"] != "daily average"
        card.loc[totals, ["previous", "change", "change_pct"]] = pd.NA
        kpis = published["kpis"]
        published["kpis"] = kpis.assign(previous=pd.NA, change=pd.NA, change_pct=pd.NA).astype(
            {"previous": "Int64", "change": "Int64", "change_pct": "Float64"}
        )
    return published


def _footnote(streams, shown_rounds: pd.DataFrame, operator_k, language: str) -> str:
    """The protection note, and which DTM round the displacement figures are when they are a stock."""
    parts = [privacy.footnote(streams, operator_k=operator_k, language=language)]
    if schema.DISPLACEMENT in streams and not shown_rounds.empty:
        rounds = "; ".join(
            f"{row.source} ({pd.Timestamp(row.date):%Y-%m-%d})" if pd.isna(row.operation) else str(row.source)
            for row in shown_rounds.itertuples()
        )
        parts.append(i18n.text("rounds_note", language).format(rounds=rounds))
    return " ".join(p for p in parts if p)


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Largest published number first (ties by code): the order shows nothing the numbers do not."""
    order = np.lexsort((table.iloc[:, 0].astype(str).to_numpy(), -table["value"].fillna(0).to_numpy()))
    return table.take(order).reset_index(drop=True)


def _within(by_period: pd.DataFrame, freq: str, first: pd.Period | None, last: pd.Period | None):
    """The trend's periods that the data covers at least in part (none beyond its last month)."""
    if first is None or by_period.empty:
        return by_period
    periods = pd.PeriodIndex(pd.to_datetime(by_period["period"]), freq=freq)
    starts = periods.asfreq("M", how="start")
    ends = periods.asfreq("M", how="end")
    return by_period[(ends >= first) & (starts <= last)].reset_index(drop=True)


def _previous(period: str | None) -> str | None:
    from flowmon.filters import previous_period

    return previous_period(period) if period else None


def partial_note(period: str, covered: str, language: str = "en") -> str:
    return i18n.text("partial_period", language).format(period=period, covered=covered)


# ------------------------------------------------------------------------------------------------ words


def period_words(period: str | None, language: str = "en") -> str:
    """``2025-Q1`` as "January–March 2025", ``2025`` as "2025", ``2025-07`` as "July 2025"."""
    if not period:
        return i18n.text("all_months", language)
    if period_kind(period) == "year":
        return period
    return i18n.period_text(*period_span(period), language)


def title(dataset, filters: Filters, language: str = "en") -> str:
    """What is shown, in words: "AVRR returns by state, January–June 2025, Khartoum office"."""
    stream = INDICATOR_STREAM[filters.indicator]
    if stream == schema.DISPLACEMENT:
        what = i18n.text(f"indicator.{filters.indicator}", language)
    else:
        what = f"{i18n.text(stream, language)} {i18n.text('by_state', language)}"
    parts = [what, period_words(filters.period, language)]
    if not filters.case_streams():
        pass  # crossings alone belong to no office
    elif filters.office:
        names = dataset.offices.set_index("code")["name_ar" if language == "ar" else "name"]
        name = names.get(filters.office, filters.office)
        parts.append(name if language == "ar" else f"{name} office")
    else:
        parts.append(i18n.text("all_offices", language))
    if filters.state:
        states = dataset.states.set_index("pcode")["name_ar" if language == "ar" else "name_en"]
        parts.append(states.get(filters.state, filters.state))
    for name in ("nationality", "sex", "age_group"):
        value = getattr(filters, name)
        if value:
            parts.append(f"{i18n.text(f'filter.{name}', language)}: {value}")
    if filters.point:
        names = crossings.points().set_index("code")["name_ar" if language == "ar" else "name"]
        parts.append(f"{i18n.text('filter.point', language)}: {names.get(filters.point, filters.point)}")
    if filters.direction:
        direction = i18n.text(f"direction.{filters.direction}", language)
        parts.append(f"{i18n.text('filter.direction', language)}: {direction}")
    return ("، " if language == "ar" else ", ").join(parts)


def provenance(dataset) -> list[dict]:
    """One entry per source file: stream, file name and its "as of" date (no path, no record content)."""
    rows = []
    for source in dataset.sources():
        path = str(source.get("path") or "")
        rows.append(
            {
                "stream": str(source.get("stream") or ""),
                "source": Path(path).name or path or "unknown source",
                "as_of": str(source.get("as_of") or (source.get("ingested_at") or "")[:10]),
            }
        )
    return rows


def office_open(offices: pd.DataFrame, start: pd.Period | None, end: pd.Period | None) -> pd.Series:
    """Whether each office was open for the whole period."""
    first = start.start_time if start is not None else pd.Timestamp.min
    last = end.end_time if end is not None else pd.Timestamp.max
    opened_in_time = offices["opened"].isna() | (offices["opened"] <= first)
    not_closed = offices["closed"].isna() | (offices["closed"] >= last)
    return pd.Series((opened_in_time & not_closed).to_numpy(), index=offices["code"].to_numpy())
