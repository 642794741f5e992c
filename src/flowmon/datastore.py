"""The dashboard's data store: tables loaded once per server process, filters and view data per session.

``open_dataset`` reads a data folder once (Panel's process-wide cache, keyed by the folder and its manifest's
modification time) and prepares it for fast filtering. ``DataStore`` holds one session's filters as
parameters and derives everything the views show through ``flowmon.aggregate.view_data``, so the only
figures that exist on this side of the browser are aggregated and suppressed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
import panel as pn
import param

from flowmon import aggregate, geo, i18n, privacy, schema, store

GRANULARITIES = {"month": "M", "quarter": "Q", "year": "Y"}
INDICATORS = {
    "caseload": "MRRC caseload by state of registration",
    "return": "AVRR returns by state of registration",
    "referral": "Trafficking referrals by state of identification",
    "displacement_in": "People displaced into the state",
    "displacement_out": "People displaced from the state",
}
INDICATOR_STREAM = {
    "caseload": "caseload",
    "return": "return",
    "referral": "referral",
    "displacement_in": "displacement",
    "displacement_out": "displacement",
}


@dataclass(frozen=True)
class Dataset:
    """One data folder, read and prepared: shared by every session of a server process."""

    data_dir: Path
    events: pd.DataFrame
    flows: pd.DataFrame
    manifest: dict
    months: tuple[str, ...]
    states: pd.DataFrame
    offices: pd.DataFrame
    tiles: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame | None
    countries: pd.DataFrame
    outlines: gpd.GeoDataFrame | None

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @cached_property
    def streams_present(self) -> tuple[str, ...]:
        """The streams the store holds any data for (read once: the dataset does not change)."""
        present = set(self.events["stream"].astype(str).unique())
        if not self.flows.empty:
            present.add(schema.DISPLACEMENT)
        return tuple(s for s in schema.ALL_STREAMS if s in present)

    @property
    def empty(self) -> bool:
        return self.events.empty and self.flows.empty

    def sources(self) -> list[dict]:
        """One line per source: what it is, its stream, and its "as of" date."""
        return self.manifest.get("sources", [])


def _months(events: pd.DataFrame, flows: pd.DataFrame) -> tuple[str, ...]:
    dates = pd.concat([events["date"], flows["period"]])
    if dates.empty:
        return ()
    span = pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"), freq="M")
    return tuple(str(p) for p in span)


def _stamp(data_dir: Path) -> float:
    manifest = data_dir / store.MANIFEST
    return manifest.stat().st_mtime if manifest.exists() else 0.0


@pn.cache(max_items=4)
def _read(data_dir: str, stamp: float) -> Dataset:
    folder = Path(data_dir)
    tables = store.load(folder)
    events = aggregate.prepare(tables["events"])
    flows = aggregate.prepare(tables["flows"])
    return Dataset(
        data_dir=folder,
        events=events,
        flows=flows,
        manifest=store.read_manifest(folder),
        months=_months(events, flows),
        states=geo.states(),
        offices=geo.offices(),
        tiles=geo.tiles(),
        boundaries=geo.boundaries(folder),
        countries=geo.countries(),
        outlines=geo.neighbour_outlines(),
    )


def open_dataset(data_dir: str | os.PathLike) -> Dataset:
    """The prepared data of ``data_dir``, read once per process (again only when its manifest changes)."""
    folder = Path(data_dir).resolve()
    return _read(str(folder), _stamp(folder))


def office_label(office: pd.Series, start: pd.Period | None, end: pd.Period | None) -> str:
    """``KRT · Khartoum``, marked when the office was closed for all or part of the period."""
    label = f"{office['code']} · {office['name']}"
    opened, closed = office["opened"], office["closed"]
    first = start.start_time if start is not None else pd.Timestamp.min
    last = end.end_time if end is not None else pd.Timestamp.max
    if pd.notna(closed) and closed < first:
        return f"{label} (closed {closed:%b %Y})"
    if pd.notna(opened) and opened > last:
        return f"{label} (opened {opened:%b %Y})"
    if pd.notna(closed) and closed < last:
        return f"{label} (closed {closed:%b %Y})"
    if pd.notna(opened) and opened > first:
        return f"{label} (opened {opened:%b %Y})"
    return label


def office_open(offices: pd.DataFrame, start: pd.Period | None, end: pd.Period | None) -> pd.Series:
    """Whether each office was open for the whole period."""
    first = start.start_time if start is not None else pd.Timestamp.min
    last = end.end_time if end is not None else pd.Timestamp.max
    opened_in_time = offices["opened"].isna() | (offices["opened"] <= first)
    not_closed = offices["closed"].isna() | (offices["closed"] >= last)
    return opened_in_time & not_closed


class DataStore(param.Parameterized):
    """One session's filters (parameters) and the aggregated, suppressed data they select."""

    office = param.ListSelector(default=[], objects=[], doc="Offices (none selected: all)")
    start = param.Selector(default=None, objects=[], allow_None=True, doc="First month")
    end = param.Selector(default=None, objects=[], allow_None=True, doc="Last month")
    stream = param.ListSelector(default=[], objects=list(schema.ALL_STREAMS), doc="Streams (none: all)")
    nationality = param.ListSelector(default=[], objects=[], doc="Nationalities (none: all)")
    sex = param.ListSelector(default=[], objects=list(schema.SEXES), doc="Sex (none: all)")
    age_group = param.ListSelector(default=[], objects=list(schema.AGE_GROUPS), doc="Age group (none: all)")
    state = param.ListSelector(default=[], objects=list(schema.STATE_PCODES), doc="States (click the map)")
    granularity = param.Selector(default="month", objects=list(GRANULARITIES), doc="Trend by")
    indicator = param.Selector(default="caseload", objects=list(INDICATORS), doc="Map shows")

    view = param.Dict(default={}, precedence=-1, doc="Aggregated, suppressed data for every view")
    error = param.String(default="", precedence=-1, doc="Why the last filter change could not be applied")

    FILTERS = ("office", "start", "end", "stream", "nationality", "sex", "age_group", "state", "granularity")

    def __init__(self, dataset: Dataset, operator_k: int | None = None, **params):
        self.dataset = dataset
        self.operator_k = operator_k
        super().__init__(**params)
        months = list(dataset.months)
        self.param.start.objects = months
        self.param.end.objects = months
        if months:
            default_start = months[max(0, len(months) - 12)]
            with param.parameterized.discard_events(self):
                self.start = self.start or default_start
                self.end = self.end or months[-1]
        self._defaults = {"start": self.start, "end": self.end}
        self.param.office.objects = list(dataset.offices["code"])
        nationalities = dataset.events["nationality"].value_counts()
        self.param.nationality.objects = list(nationalities[nationalities > 0].index.astype(str))
        self._refresh()

    @param.depends("stream", watch=True)
    def _follow_streams(self) -> None:
        """The map shows a selected stream: when its stream is deselected, it moves to the first one left."""
        if self.stream and INDICATOR_STREAM[self.indicator] not in self.stream:
            first = next(s for s in schema.ALL_STREAMS if s in self.stream)
            self.indicator = next(i for i, s in INDICATOR_STREAM.items() if s == first)

    @param.depends("indicator", watch=True)
    def _follow_indicator(self) -> None:
        """Choosing what the map shows selects that stream too, if streams are narrowed."""
        stream = INDICATOR_STREAM[self.indicator]
        if self.stream and stream not in self.stream:
            self.stream = [*self.stream, stream]

    @property
    def filters(self) -> aggregate.Filters:
        return aggregate.Filters(
            offices=tuple(self.office),
            streams=tuple(self.stream),
            states=tuple(self.state),
            nationalities=tuple(self.nationality),
            sexes=tuple(self.sex),
            age_groups=tuple(self.age_group),
            start=self.start,
            end=self.end,
        )

    @property
    def period(self) -> tuple[pd.Period | None, pd.Period | None]:
        return (
            pd.Period(self.start, "M") if self.start else None,
            pd.Period(self.end, "M") if self.end else None,
        )

    @property
    def freq(self) -> str:
        return GRANULARITIES[self.granularity]

    def office_labels(self) -> dict[str, str]:
        start, end = self.period
        return {row["code"]: office_label(row, start, end) for _, row in self.dataset.offices.iterrows()}

    def offices_open(self) -> pd.Series:
        start, end = self.period
        return office_open(self.dataset.offices, start, end)

    def k_by_stream(self) -> dict[str, int]:
        return privacy.k_by_stream(self.operator_k)

    @param.depends(*FILTERS, watch=True)
    def _refresh(self) -> None:
        if self.start and self.end and self.start > self.end:
            # Keep the range valid whichever end the user moved.
            with param.parameterized.discard_events(self):
                self.start, self.end = self.end, self.start
        try:
            view = aggregate.view_data(
                self.dataset.events,
                self.dataset.flows,
                self.filters,
                self.operator_k,
                freq=self.freq,
            )
        except ValueError as error:
            self.error = str(error)
            return
        self.error = ""
        self.view = view

    def reset(self) -> None:
        """Back to all offices, streams and people, over the last twelve months."""
        self.param.update(
            office=[], stream=[], nationality=[], sex=[], age_group=[], state=[], granularity="month",
            **self._defaults,
        )  # fmt: skip

    # URL: the query names of flowmon.aggregate.Filters, plus the view settings.
    def to_query(self) -> dict[str, str]:
        query = self.filters.to_query()
        if self.granularity != "month":
            query["granularity"] = self.granularity
        if self.indicator != "caseload":
            query["indicator"] = self.indicator
        return query

    def apply_query(self, query: dict[str, str]) -> None:
        """Set the filters from URL-style names (unknown values raise ValueError with the name)."""
        filters = aggregate.Filters.from_query(query)
        updates = {
            "office": list(filters.offices),
            "stream": list(filters.streams),
            "state": list(filters.states),
            "nationality": list(filters.nationalities),
            "sex": list(filters.sexes),
            "age_group": list(filters.age_groups),
        }
        updates = {k: v for k, v in updates.items() if v}
        for bound in ("start", "end"):
            value = getattr(filters, bound)
            if value is not None:
                if str(value) not in self.dataset.months:
                    raise ValueError(
                        f"{bound}: no data for {value} (data covers {self.dataset.months[0]} "
                        f"to {self.dataset.months[-1]})"
                    )
                updates[bound] = str(value)
        if query.get("granularity"):
            updates["granularity"] = query["granularity"]
        if query.get("indicator"):
            updates["indicator"] = query["indicator"]
        self.param.update(**updates)

    def describe(self, language: str = "en") -> str:
        """What is shown, in words: "AVRR returns by state, January–June 2025, all offices"."""
        stream = INDICATOR_STREAM[self.indicator]
        if stream == "displacement":
            what = i18n.text(f"indicator.{self.indicator}", language)
        else:
            what = f"{i18n.text(stream, language)} {i18n.text('by_state', language)}"
        when = i18n.period_text(*self.period, language)
        if self.office:
            names = self.dataset.offices.set_index("code")["name_ar" if language == "ar" else "name"]
            where = ", ".join(names[code] for code in self.office)
            where = where if language == "ar" else f"{where} office{'s' if len(self.office) > 1 else ''}"
        else:
            where = i18n.text("all_offices", language)
        return "، ".join((what, when, where)) if language == "ar" else f"{what}, {when}, {where}"
