"""The dashboard's data store: tables loaded once per server process, filters and view data per session.

``open_dataset`` reads a data folder once (Panel's process-wide cache, keyed by the folder and its manifest's
modification time) and prepares it for fast filtering. ``DataStore`` holds one session's filters as
parameters and derives everything the views show through ``flowmon.viewdata.build``, so the only
figures that exist on this side of the browser are aggregated and published (protected).
"""

from __future__ import annotations

import dataclasses
import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
import panel as pn
import param

from flowmon import aggregate, geo, i18n, schema, store, viewdata
from flowmon.filters import FIELDS, INDICATOR_STREAM, STREAM_CHOICES, Filters, resolve

INDICATORS = {indicator: i18n.text(f"choice.{indicator}") for indicator in INDICATOR_STREAM}


# Snapshots of views kept per dataset for every session to share: the default view every page opens with,
# and the views many viewers choose. A few kilobytes of published tables each.
SHARED_VIEWS = 128


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
    # Cross-border movements (flowmon.crossings): counts at border points, kept whole for a viewer limited
    # to some offices, as DTM displacement is (they belong to no office and are not case records).
    crossings: pd.DataFrame = field(default_factory=lambda: schema.empty("crossings"))
    _scopes: dict = field(default_factory=dict, repr=False, compare=False)
    _views: OrderedDict = field(default_factory=OrderedDict, repr=False, compare=False)

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @cached_property
    def streams_present(self) -> tuple[str, ...]:
        """The streams the store holds any data for (read once: the dataset does not change)."""
        present = set(self.events["stream"].astype(str).unique())
        if not self.flows.empty:
            present.add(schema.DISPLACEMENT)
        if not self.crossings.empty:
            present.add(schema.CROSSING)
        return tuple(s for s in STREAM_CHOICES if s in present)

    @property
    def empty(self) -> bool:
        return self.events.empty and self.flows.empty and self.crossings.empty

    def scoped(self, offices: tuple[str, ...] | None) -> Dataset:
        """The dataset a viewer limited to ``offices`` may see (itself when None), shared by sessions."""
        if offices is None:
            return self
        key = tuple(sorted(offices))
        if key not in self._scopes:
            events = self.events[self.events["office"].astype(str).isin(key)].reset_index(drop=True)
            offices_table = self.offices[self.offices["code"].isin(key)].reset_index(drop=True)
            self._scopes[key] = dataclasses.replace(self, events=events, offices=offices_table, _scopes={},
                                                    _views=OrderedDict())  # fmt: skip
        return self._scopes[key]

    def shared(self, key: tuple, make):
        """``make()``, made once for every session of the process that asks with the same ``key`` (the view
        of the same filters, language and threshold is the same immutable snapshot for every viewer of this
        dataset): the most recently used ``SHARED_VIEWS`` are kept."""
        if key in self._views:
            self._views.move_to_end(key)
            return self._views[key]
        value = self._views[key] = make()
        while len(self._views) > SHARED_VIEWS:
            self._views.popitem(last=False)
        return value

    def sources(self) -> list[dict]:
        """One line per source: what it is, its stream, and its "as of" date."""
        return self.manifest.get("sources", [])


def _months(events: pd.DataFrame, flows: pd.DataFrame, crossings: pd.DataFrame) -> tuple[str, ...]:
    dates = pd.concat([events["date"], flows["period"], crossings["date"]])
    if dates.empty:
        return ()
    span = pd.period_range(dates.min().to_period("M"), dates.max().to_period("M"), freq="M")
    return tuple(str(p) for p in span)


def _stamp(data_dir: Path) -> tuple[float, ...]:
    """When the folder last changed: its manifest (ingest) and its installed boundaries (geo import)."""
    paths = [data_dir / store.MANIFEST, *sorted((data_dir / "boundaries").glob("*"))]
    return tuple(path.stat().st_mtime_ns for path in paths if path.exists())


@pn.cache(max_items=4)
def _read(data_dir: str, stamp: tuple[float, ...]) -> Dataset:
    folder = Path(data_dir)
    tables = store.load(folder)
    events = aggregate.prepare(tables["events"])
    flows = aggregate.prepare(tables["flows"])
    crossings = aggregate.prepare(tables["crossings"])
    return Dataset(
        data_dir=folder,
        events=events,
        flows=flows,
        manifest=store.read_manifest(folder),
        months=_months(events, flows, crossings),
        states=geo.states(),
        offices=geo.offices(),
        tiles=geo.tiles(),
        boundaries=geo.boundaries(folder),
        countries=geo.countries(),
        outlines=geo.neighbour_outlines(),
        crossings=crossings,
    )


def open_dataset(data_dir: str | os.PathLike) -> Dataset:
    """The prepared data of ``data_dir``, read once per process, and again when the folder changes (an ingest
    or installed boundaries): a running server shows them on the next page load."""
    folder = Path(data_dir).resolve()
    return _read(str(folder), _stamp(folder))


def _hashable(operator_k):
    """An operator's threshold as a key: one k, or the k of each stream."""
    return tuple(sorted(operator_k.items())) if isinstance(operator_k, Mapping) else operator_k


ALL = ""  # the value of a one-or-all filter set to all


class DataStore(param.Parameterized):
    """One session's filters (parameters, named as ``flowmon.filters.FIELDS``) and the view they select.

    ``view`` is the ``ViewData`` of the current filters, rebuilt on every change: the only thing the views
    read. ``notices`` says what a link asked for that had to change.
    """

    period = param.Selector(default=None, objects=[], allow_None=True, doc="Calendar period")
    office = param.Selector(default=ALL, objects=[ALL], doc="One office, or all")
    stream = param.ListSelector(default=[], objects=list(STREAM_CHOICES), doc="Streams (none: all)")
    state = param.Selector(default=ALL, objects=[ALL, *schema.STATE_PCODES], doc="One state, or all")
    nationality = param.Selector(default=ALL, objects=[ALL], doc="One nationality, or all")
    sex = param.Selector(default=ALL, objects=[ALL, *schema.SEXES], doc="Sex")
    age_group = param.Selector(default=ALL, objects=[ALL, *schema.AGE_GROUPS], doc="Age group")
    point = param.Selector(default=ALL, objects=[ALL, *schema.point_codes()], doc="One crossing point")
    direction = param.Selector(default=ALL, objects=[ALL, *schema.DIRECTIONS], doc="Crossing direction")
    granularity = param.Selector(default="month", objects=["month", "quarter", "year"], doc="Trend by")
    indicator = param.Selector(default="caseload", objects=list(INDICATOR_STREAM), doc="Map shows")

    language = param.Selector(default="en", objects=["en", "ar"], precedence=-1, doc="Language of the words")
    view = param.ClassSelector(class_=viewdata.ViewData, precedence=-1, doc="What the filters select")
    notices = param.List(default=[], precedence=-1, doc="What a link asked for that had to change")

    FILTERS = tuple(f.name for f in FIELDS)

    def __init__(self, dataset: Dataset, operator_k: int | None = None, **params):
        self.dataset = dataset
        self.operator_k = operator_k
        self.choices = dataset.shared(("choices", _hashable(operator_k)),
                                      lambda: viewdata.choices(dataset, operator_k))  # fmt: skip
        self._built = None
        self._linking = False
        super().__init__(**params)
        self.param.period.objects = [p for kind in reversed(self.choices.periods) for p in
                                     reversed(self.choices.periods[kind])]  # fmt: skip
        self.param.office.objects = [ALL, *dataset.offices["code"]]
        self.param.nationality.objects = [ALL, *self.choices.nationalities]
        with param.parameterized.discard_events(self):
            self.period = self.period or self.choices.default_period
        self._refresh()

    @param.depends("stream", watch=True)
    def _follow_streams(self) -> None:
        """The map shows a selected stream: when its stream is deselected, it moves to the first one left."""
        if self.stream and INDICATOR_STREAM[self.indicator] not in self.stream:
            first = next(s for s in STREAM_CHOICES if s in self.stream)
            self.indicator = next(i for i, s in INDICATOR_STREAM.items() if s == first)

    @param.depends("stream", watch=True)
    def _leave_crossings(self) -> None:
        """Crossings switched off (no stream left, the map still on them): back to the case view, whose map
        shows caseloads; point and direction, which select crossings only, go back to all."""
        if self._linking:
            return  # a link's filters were resolved together (flowmon.filters.resolve): kept as they are
        if not self.stream and INDICATOR_STREAM[self.indicator] == schema.CROSSING:
            self.indicator = self.param.indicator.default
        if not self.filters.crossings and (self.point != ALL or self.direction != ALL):
            self.param.update(point=ALL, direction=ALL)

    @param.depends("indicator", watch=True)
    def _follow_indicator(self) -> None:
        """Choosing what the map shows selects that stream too, if streams are narrowed."""
        stream = INDICATOR_STREAM[self.indicator]
        if self.stream and stream not in self.stream:
            self.stream = [*self.stream, stream]

    @property
    def filters(self) -> Filters:
        values = {name: getattr(self, name) for name in self.FILTERS}
        values["stream"] = tuple(values["stream"])
        return Filters(**{k: (None if v == ALL else v) for k, v in values.items()})

    @param.depends(*FILTERS, "language", watch=True)
    def _refresh(self) -> None:
        key = (self.filters, self.language, tuple(self.notices))
        if key == self._built:
            return  # a change that moved another filter with it (streams -> the map) is built once
        view = self.dataset.shared(("view", *key, _hashable(self.operator_k)), lambda: viewdata.build(
            self.dataset, self.filters, operator_k=self.operator_k, language=self.language,
            notices=tuple(self.notices),
        ))  # fmt: skip
        self._built = key
        document = pn.state.curdoc
        if document is None or document.session_context is None:
            self.view = view
            return
        # Served: every part's update in one message. A change rewrites sources, texts and ranges in place;
        # Bokeh walks the page's model graph only for a value that holds models, while a ``models.freeze()``
        # here would make it walk the graph once per change regardless (a seventh of the server's time).
        with pn.io.hold(document):
            self.view = view

    def reset(self) -> None:
        """Back to every office, stream and person over the default period; the map shows caseloads."""
        defaults = {name: self.param[name].default for name in self.FILTERS}
        self.param.update(notices=[], **{**defaults, "period": self.choices.default_period})

    def to_query(self) -> dict[str, str]:
        return self.filters.to_query()

    def apply_query(self, query) -> None:
        """Set the filters from a link's names: the nearest allowed view, with notices (ValueError when a
        name or value is unknown)."""
        filters, notices = resolve(query, self.choices)
        values = {f.name: getattr(filters, f.name) for f in FIELDS}
        values["stream"] = list(values["stream"])
        values = {k: (ALL if v is None else v) for k, v in values.items()}
        self._linking = True
        try:
            with param.parameterized.batch_call_watchers(self):
                self.notices = notices
                self.param.update(**values)
        finally:
            self._linking = False

    def office_labels(self) -> dict[str, str]:
        """``KRT · Khartoum``, marked when the office was closed for all or part of the period."""
        view = self.view
        return {
            row["code"]: office_label(row, view.start, view.end) for _, row in self.dataset.offices.iterrows()
        }


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
