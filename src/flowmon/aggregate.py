"""The questions every view asks of the data: how many, where, when, from where to where, compared with what.

CONFIDENTIAL: everything here is a true count, for analysts in Python; a served page, an export or the CLI
publishes only what ``flowmon.privacy.release`` makes of it.

Pure functions over the canonical tables (``flowmon.schema``): same input, same output, no Panel. Every
result is a small long-format DataFrame with a ``value`` column (a count of people: the sum of the events'
``count``, or of the flows' ``individuals``), ready for ``flowmon.privacy``, which must be the last step
before anything is shown or exported. ``count_view`` counts every table of one dashboard view at once.

Cell keys: next to ``value``, the tables of case events have ``ckey``, the cell key of the cell key method
(``flowmon.privacy.release``): the sum of the ``record_key`` of its records modulo 256, a row of ``count``
c adding ``record_key * c`` (c records with one key). Tables of displacement flows (public data) have none;
a table mixing both has NA for displacement rows. Events without a ``record_key`` column (not loaded by
``flowmon.store``) give NA keys, which ``release`` refuses. Cell keys are confidential, as the counts are.

Speed: the filters work on the integer codes of the categorical columns and on a month number added once by
``prepare``; the aggregates are ``numpy.bincount`` over those codes. Call ``prepare`` once after loading.

Periods: a month is held as its ``pandas.Period`` ordinal (months since January 1970). Filter bounds are
inclusive months. Displacement flows are summed over the months of the window, which is right for monthly
movement counts (the demo data, DTM flow monitoring). A source with a single round (a DTM master list) is a
snapshot of the people displaced at that date: of several such rounds in a window only the latest counts, so
two master lists never count the same people twice.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from flowmon import recordkeys, rounds, schema

Freq = Literal["M", "Q", "Y"]
FREQS: tuple[Freq, ...] = ("M", "Q", "Y")
MONTH = "month"
_MONTH_TEXT = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")

# Filter field -> (query name, events column, vocabulary).
_FIELDS = {
    "offices": ("office", "office"),
    "streams": ("stream", "stream"),
    "states": ("state", "state_pcode"),
    "nationalities": ("nationality", "nationality"),
    "sexes": ("sex", "sex"),
    "age_groups": ("age_group", "age_group"),
    "categories": ("category", "category"),
    "population_types": ("population_type", "population_type"),
}
# Filters that select events rows by a column of their own.
_EVENT_FILTERS = ("offices", "states", "nationalities", "sexes", "age_groups", "categories")


def _vocabulary(name: str) -> tuple[str, ...]:
    if name == "streams":
        # A view may select crossings, counted from their own table (flowmon.crossings): here they select
        # no event and no flow, so a view of crossings alone counts nothing here.
        return (*schema.ALL_STREAMS, schema.CROSSING)
    return schema.vocabulary(_FIELDS[name][1])


def _month(value: object, name: str) -> pd.Period | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and not _MONTH_TEXT.match(value.strip()):
        raise ValueError(f"{name}: {value!r} is not a month (YYYY-MM)")
    try:
        return pd.Period(value, freq="M")
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name}: {value!r} is not a month (YYYY-MM)") from error


@dataclass(frozen=True)
class Filters:
    """What the user selected. An empty tuple means everything; ``start`` and ``end`` are inclusive months.

    ``streams`` may include ``"displacement"`` (the flows table); when it is given and does not, no flow is
    selected. Offices, nationalities, sexes, age groups and categories select events only; states select
    events by ``state_pcode`` and flows by origin or destination; ``population_types`` select flows only.
    Values are checked against the vocabularies of ``flowmon.schema``: an unknown one raises ValueError.
    """

    offices: tuple[str, ...] = ()
    streams: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    age_groups: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    population_types: tuple[str, ...] = ()
    start: pd.Period | None = None
    end: pd.Period | None = None

    def __post_init__(self) -> None:
        for name in _FIELDS:
            raw = getattr(self, name)
            values = (raw,) if isinstance(raw, str) else tuple(raw or ())
            allowed = _vocabulary(name)
            unknown = [v for v in values if v not in allowed]
            if unknown:
                shown = ", ".join(allowed) if len(allowed) <= 20 else f"{len(allowed)} known codes"
                raise ValueError(f"{_FIELDS[name][0]}: unknown value {unknown[0]!r} (expected {shown})")
            object.__setattr__(self, name, tuple(dict.fromkeys(values)))
        object.__setattr__(self, "start", _month(self.start, "start"))
        object.__setattr__(self, "end", _month(self.end, "end"))
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")

    @classmethod
    def from_query(cls, query: Mapping[str, str | Iterable[str]]) -> Filters:
        """From URL-style names: ``{"office": "KRT,PZU", "start": "2024-01", "stream": "return"}``.

        Values may be comma-separated strings or lists of them (as ``urllib.parse.parse_qs`` gives).
        Names that are not filters (``present``, ...) are ignored.
        """
        kwargs: dict[str, object] = {}
        for name, (query_name, _) in _FIELDS.items():
            if query_name in query:
                kwargs[name] = _split(query[query_name])
        for bound in ("start", "end"):
            if bound in query:
                values = _split(query[bound])
                kwargs[bound] = values[-1] if values else None
        return cls(**kwargs)

    def to_query(self) -> dict[str, str]:
        """URL-style names and comma-joined values; filters left at "everything" are omitted."""
        query = {_FIELDS[name][0]: ",".join(getattr(self, name)) for name in _FIELDS if getattr(self, name)}
        if self.start is not None:
            query["start"] = str(self.start)
        if self.end is not None:
            query["end"] = str(self.end)
        return query

    def replace(self, **changes: object) -> Filters:
        return dataclasses.replace(self, **changes)

    def event_streams(self) -> tuple[str, ...]:
        """The events streams selected, in canonical order."""
        return tuple(s for s in schema.STREAMS if not self.streams or s in self.streams)

    @property
    def displacement(self) -> bool:
        """Whether displacement flows are selected."""
        return not self.streams or schema.DISPLACEMENT in self.streams


def _split(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    parts = [value] if isinstance(value, str) else list(value)
    return tuple(p.strip() for part in parts for p in str(part).split(",") if p.strip())


# ---------------------------------------------------------------------------------------------- preparation


def prepare(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ``month`` column (Period ordinal, int32) from ``date`` (events) or ``period`` (flows),
    for events with record keys a ``key_weight`` column (``record_key * count``, what each row adds to a
    cell key; confidential like the keys), and for flows a ``snapshot`` column (``flowmon.rounds``).

    Call once after loading; every function here accepts unprepared tables too, at the cost of computing
    these each time. Returns a new frame (or ``table`` itself when it has them already); categoricals are
    kept.
    """
    added = {}
    if MONTH not in table.columns:
        added[MONTH] = _months_of(table)
    if recordkeys.RECORD_KEY in table.columns and KEY_WEIGHT not in table.columns:
        added[KEY_WEIGHT] = _key_weights_of(table)
    if "source" in table.columns and "period" in table.columns and rounds.SNAPSHOT not in table.columns:
        added[rounds.SNAPSHOT] = rounds.snapshot_rows(table)  # which flows are stocks: fixed per table
    return table.assign(**added) if added else table


def _months_of(table: pd.DataFrame) -> np.ndarray:
    if MONTH in table.columns:
        return table[MONTH].to_numpy()
    column = "date" if "date" in table.columns else "period"
    dates = pd.DatetimeIndex(table[column])
    return ((dates.year.to_numpy() - 1970) * 12 + dates.month.to_numpy() - 1).astype(np.int32)


def _codes(column: pd.Series, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Integer codes of ``column`` in ``vocabulary`` (-1 when missing or not in it), without copying much."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        remap = _remap(column.dtype, vocabulary)
        return codes if remap is None else remap[codes]
    return pd.Index(vocabulary).get_indexer(column.astype("object").to_numpy())


@functools.lru_cache(maxsize=64)
def _remap(dtype: pd.CategoricalDtype, vocabulary: tuple[str, ...]) -> np.ndarray | None:
    """None when the categories are the vocabulary or its beginning (the usual case: the codes are then the
    vocabulary's own, and gathering 1M codes through an identity map costs a filter change ~15 ms), else
    their codes in it (-1 last)."""
    categories = dtype.categories
    if len(categories) <= len(vocabulary) and (categories == pd.Index(vocabulary[: len(categories)])).all():
        return None
    return np.append(pd.Index(vocabulary).get_indexer(categories), -1)


def _selected(codes: np.ndarray, vocabulary: tuple[str, ...], values: tuple[str, ...]) -> np.ndarray:
    lookup = np.zeros(len(vocabulary) + 1, dtype=bool)  # the last slot catches code -1
    at = pd.Index(vocabulary).get_indexer(list(values))
    lookup[at[at >= 0]] = True
    return lookup[codes]


def _vocab(column: str) -> tuple[str, ...]:
    return schema.ALL_STREAMS if column == "stream" else schema.vocabulary(column)


@dataclass
class _Selection:
    """The selected rows of one table as code arrays, computed once and shared by all aggregates."""

    table: pd.DataFrame
    mask: np.ndarray
    _cache: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Positions are cheaper to gather by than a mask used again and again; all rows need no gathering.
        self._rows = None if self.mask.all() else np.flatnonzero(self.mask)

    def _take(self, values: np.ndarray) -> np.ndarray:
        return values if self._rows is None else values.take(self._rows)

    def codes(self, column: str) -> np.ndarray:
        if column not in self._cache:
            self._cache[column] = self._take(_codes(self.table[column], _vocab(column))).astype(np.intp)
        return self._cache[column]

    def months(self) -> np.ndarray:
        if MONTH not in self._cache:
            self._cache[MONTH] = self._take(_months_of(self.table))
        return self._cache[MONTH]

    def weights(self, column: str) -> np.ndarray:
        if column not in self._cache:
            self._cache[column] = self._take(self.table[column].to_numpy()).astype(np.float64)
        return self._cache[column]

    def key_weights(self) -> np.ndarray | None:
        """``record_key * count`` of each selected event (what it adds to a cell key); None without keys."""
        if recordkeys.RECORD_KEY not in self.table.columns:
            return None
        if _KEY_WEIGHT not in self._cache:
            self._cache[_KEY_WEIGHT] = self._take(_key_weights_of(self.table))
        return self._cache[_KEY_WEIGHT]

    def __len__(self) -> int:
        return len(self.mask) if self._rows is None else len(self._rows)


_KEY_WEIGHT = "_key_weight"
KEY_WEIGHT = "key_weight"


def _key_weights_of(events: pd.DataFrame) -> np.ndarray:
    if KEY_WEIGHT in events.columns:
        return events[KEY_WEIGHT].to_numpy()
    keys = events[recordkeys.RECORD_KEY].to_numpy(dtype=np.float64)
    return keys * events["count"].to_numpy(dtype=np.float64)


def _in_window(months: np.ndarray, start: pd.Period | None, end: pd.Period | None) -> np.ndarray | None:
    mask = None
    if start is not None:
        mask = months >= start.ordinal
    if end is not None:
        upper = months <= end.ordinal
        mask = upper if mask is None else mask & upper
    return mask


def _events_mask(events: pd.DataFrame, f: Filters, *, window: bool = True) -> np.ndarray:
    mask = np.ones(len(events), dtype=bool)
    streams = f.event_streams()
    if len(streams) < len(schema.STREAMS):
        mask &= _selected(_codes(events["stream"], schema.ALL_STREAMS), schema.ALL_STREAMS, streams)
    for name in _EVENT_FILTERS:
        values = getattr(f, name)
        if values:
            column = _FIELDS[name][1]
            vocabulary = _vocab(column)
            mask &= _selected(_codes(events[column], vocabulary), vocabulary, values)
    if window:
        in_window = _in_window(_months_of(events), f.start, f.end)
        if in_window is not None:
            mask &= in_window
    return mask


def _flows_mask(flows: pd.DataFrame, f: Filters, *, window: bool = True) -> np.ndarray:
    if not f.displacement:
        return np.zeros(len(flows), dtype=bool)
    mask = np.ones(len(flows), dtype=bool)
    if f.states:
        origin = _selected(_codes(flows["origin_pcode"], schema.STATE_PCODES), schema.STATE_PCODES, f.states)
        destination = _selected(
            _codes(flows["destination_pcode"], schema.STATE_PCODES), schema.STATE_PCODES, f.states
        )
        mask &= origin | destination
    if f.population_types:
        vocabulary = schema.POPULATION_TYPES
        mask &= _selected(_codes(flows["population_type"], vocabulary), vocabulary, f.population_types)
    if window:
        in_window = _in_window(_months_of(flows), f.start, f.end)
        if in_window is not None:
            mask &= in_window
        mask = _latest_rounds(flows, mask)
    return mask


def _latest_rounds(flows: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
    """``mask`` with, of its snapshot rounds (DTM master lists, DTM API stocks), only the latest by date:
    two rounds in one window would count the same displaced people twice (``flowmon.rounds``). Monthly
    movements are kept as they are (they add up)."""
    if "source" not in flows.columns or flows.empty:
        return mask
    return rounds.latest_round(flows, mask)


def filter_events(events: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """The events rows the filters select (all of them when ``f`` is None)."""
    if f is None:
        return events
    return events[_events_mask(events, f)]


def filter_flows(flows: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """The flows rows the filters select: months in the window, a selected state as origin or destination."""
    if f is None:
        return flows
    return flows[_flows_mask(flows, f)]


def _events_selection(events: pd.DataFrame, f: Filters | None) -> _Selection:
    return _Selection(events, _events_mask(events, f or Filters()))


def _flows_selection(flows: pd.DataFrame, f: Filters | None) -> _Selection:
    return _Selection(flows, _flows_mask(flows, f or Filters()))


# ---------------------------------------------------------------------------------------------- aggregates


def _bincount(keys: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return np.rint(np.bincount(keys, weights=weights, minlength=size)).astype(np.int64)


def _cell_keys(
    keys: np.ndarray, key_weights: np.ndarray | None, size: int
) -> np.ndarray | pd.arrays.IntegerArray:
    """Cell keys of the bins of ``keys``: the sum of ``record_key * count`` modulo 256 (NA without keys).

    The sums stay below 2**53 (255 * the number of people), so float weights add them exactly.
    """
    if key_weights is None:
        return _no_keys(size)
    return (_bincount(keys, key_weights, size) % recordkeys.KEY_RANGE).astype(np.int16)


def _no_keys(n: int) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int16), np.ones(n, dtype=bool))


def _key_column(parts: list) -> np.ndarray | pd.arrays.IntegerArray:
    """One ckey column from pieces: plain int16, or nullable where a piece has no keys (displacement)."""
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts).astype(np.int16)
    return pd.concat([pd.Series(pd.array(p, dtype="Int16")) for p in parts], ignore_index=True).array


def _cross(sel: _Selection, column: str, streams: tuple[str, ...]) -> pd.DataFrame:
    """value by (``column``, stream) for every code of ``column`` and every stream in ``streams``."""
    vocabulary = _vocab(column)
    codes = sel.codes(column)
    stream = sel.codes("stream")
    weights = sel.weights("count")
    key_weights = sel.key_weights()
    if len(codes) and codes.min() < 0:  # missing values (destination, referred_to) are not counted
        known = codes >= 0
        codes, stream, weights = codes[known], stream[known], weights[known]
        key_weights = None if key_weights is None else key_weights[known]
    size = len(schema.ALL_STREAMS) * len(vocabulary)
    bins = stream * len(vocabulary) + codes
    counts = _bincount(bins, weights, size).reshape(len(schema.ALL_STREAMS), len(vocabulary))
    ckeys = _cell_keys(bins, key_weights, size)
    rows = [schema.ALL_STREAMS.index(s) for s in streams]
    at = (np.asarray(rows, dtype=np.intp)[:, None] * len(vocabulary) + np.arange(len(vocabulary))).ravel()
    return pd.DataFrame(
        {
            "stream": np.repeat(np.array(streams, dtype=object), len(vocabulary)),
            column: np.tile(np.array(vocabulary, dtype=object), len(streams)),
            "value": counts[rows].ravel(),
            "ckey": ckeys[at],
        }
    )


def _streams(f: Filters | None) -> tuple[str, ...]:
    return (f or Filters()).event_streams()


def by_state(events: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """``stream, state_pcode, value``: a row per selected stream and each of the 19 states, zeros included."""
    return _by_state(_events_selection(events, f), _streams(f))


def _by_state(sel: _Selection, streams: tuple[str, ...]) -> pd.DataFrame:
    return _cross(sel, "state_pcode", streams)


def by_office(events: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """``stream, office, value``: a row per selected stream and office of geo/offices.csv, zeros included."""
    return _cross(_events_selection(events, f), "office", _streams(f))


def by_category(events: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """``stream, category, value``: each selected stream with its own categories, zeros included."""
    return _by_category(_events_selection(events, f), _streams(f))


def _by_category(sel: _Selection, streams: tuple[str, ...]) -> pd.DataFrame:
    table = _cross(sel, "category", streams)
    vocabulary = _vocab("category")
    rows = [
        at * len(vocabulary) + vocabulary.index(category)
        for at, stream in enumerate(streams)
        for category in schema.CATEGORIES[stream]
    ]
    return table.iloc[rows].reset_index(drop=True)


NOT_RECORDED = "not recorded"


def by_referred_to(events: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """``stream, referred_to, value``: trafficking referrals by service, zeros included.

    Referrals without a service are counted as ``"not recorded"`` (a row only when there are some), so the
    rows add up to the referral total. Empty when the filter leaves out referrals.
    """
    return _by_referred_to(_events_selection(events, f), _streams(f))


def _by_referred_to(sel: _Selection, streams: tuple[str, ...]) -> pd.DataFrame:
    if "referral" not in streams:
        return pd.DataFrame(
            {
                "stream": pd.Series(dtype=object),
                "referred_to": pd.Series(dtype=object),
                "value": pd.Series(dtype=np.int64),
                "ckey": pd.Series(dtype=np.int16),
            }
        )
    table = _cross(sel, "referred_to", ("referral",))
    is_referral = sel.codes("stream") == schema.ALL_STREAMS.index("referral")
    missing = int(np.rint(sel.weights("count")[is_referral].sum())) - int(table["value"].sum())
    if missing:
        # The referrals without a service: their key is the referrals' key minus the listed services' keys.
        key_weights = sel.key_weights()
        if key_weights is None:
            ckey = pd.array([pd.NA], dtype="Int16")
        else:
            total = int(np.rint(key_weights[is_referral].sum()))
            listed = int(table["ckey"].astype(np.int64).sum())
            ckey = np.array([(total - listed) % recordkeys.KEY_RANGE], dtype=np.int16)
        extra = pd.DataFrame(
            {"stream": ["referral"], "referred_to": [NOT_RECORDED], "value": [missing], "ckey": ckey}
        )
        table = pd.concat([table, extra], ignore_index=True)
    return table


def by_nationality(events: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """``stream, nationality, value``: nationalities with at least one person, largest first per stream."""
    return _by_nationality(_events_selection(events, f), _streams(f))


def _by_nationality(sel: _Selection, streams: tuple[str, ...]) -> pd.DataFrame:
    table = _cross(sel, "nationality", streams)
    values = table["value"].to_numpy()
    stream_order = np.repeat(np.arange(len(streams)), len(_vocab("nationality")))
    code_order = np.tile(np.arange(len(_vocab("nationality"))), len(streams))
    # Per stream, largest first; ties by code (the vocabulary is sorted).
    order = np.lexsort((code_order, -values, stream_order))
    order = order[values[order] > 0]
    return table.take(order).reset_index(drop=True)


def period_ordinals(months: np.ndarray, freq: Freq) -> np.ndarray:
    """Month ordinals to ``pandas.Period`` ordinals at ``freq`` (months, quarters or years since 1970)."""
    if freq == "M":
        return months
    if freq == "Q":
        return (months // 12) * 4 + (months % 12) // 3
    if freq == "Y":
        return months // 12
    raise ValueError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")


def window(
    events: pd.DataFrame, flows: pd.DataFrame | None = None, f: Filters | None = None
) -> tuple[pd.Period, pd.Period] | None:
    """The filter's months, an open bound replaced by the first or last month of the data (all rows).

    None when a bound is open and there is no data to close it.
    """
    f = f or Filters()
    start, end = f.start, f.end
    if start is None or end is None:
        tables = [t for t in (events, flows) if t is not None and len(t)]
        if not tables:
            return None
        months = [_months_of(t) for t in tables]
        if start is None:
            start = min(_period(int(m.min())) for m in months)
            start = start if end is None else min(start, end)
        if end is None:
            end = max(max(_period(int(m.max())) for m in months), start)
    return start, end


def _period(ordinal: int, freq: str = "M") -> pd.Period:
    return pd.Period(ordinal=ordinal, freq=freq)


def _period_axis(span: tuple[pd.Period, pd.Period] | None, freq: Freq) -> tuple[int, int]:
    """First ordinal and number of periods of ``span`` at ``freq``."""
    if span is None:
        return 0, 0
    first, last = (int(period_ordinals(np.array([p.ordinal]), freq)[0]) for p in span)
    return first, last - first + 1


def _by_period(
    events: _Selection, flows: _Selection | None, streams: tuple[str, ...], span, freq: Freq
) -> pd.DataFrame:
    first, n = _period_axis(span, freq)
    parts, key_parts = [], []
    names = list(streams)
    if n:
        ordinals = period_ordinals(events.months(), freq) - first
        inside = (ordinals >= 0) & (ordinals < n)
        keys = events.codes("stream")[inside] * n + ordinals[inside]
        counts = _bincount(keys, events.weights("count")[inside], len(schema.ALL_STREAMS) * n)
        counts = counts.reshape(len(schema.ALL_STREAMS), n)
        parts = [counts[schema.ALL_STREAMS.index(s)] for s in streams]
        key_weights = events.key_weights()
        key_weights = None if key_weights is None else key_weights[inside]
        ckeys = _cell_keys(keys, key_weights, len(schema.ALL_STREAMS) * n)
        key_parts = [ckeys[schema.ALL_STREAMS.index(s) * n :][:n] for s in streams]
        if flows is not None:
            ordinals = period_ordinals(flows.months(), freq) - first
            inside = (ordinals >= 0) & (ordinals < n)
            parts.append(_bincount(ordinals[inside], flows.weights("individuals")[inside], n))
            key_parts.append(_no_keys(n))
            names.append(schema.DISPLACEMENT)
    starts = pd.PeriodIndex.from_ordinals(np.arange(first, first + n), freq=freq).to_timestamp(how="start")
    return pd.DataFrame(
        {
            "stream": np.repeat(np.array(names, dtype=object), n),
            "period": np.tile(starts.to_numpy(), len(names)),
            "value": np.concatenate(parts) if parts else np.array([], dtype=np.int64),
            "ckey": _key_column(key_parts) if parts else np.array([], dtype=np.int16),
        }
    )


def by_period(
    events: pd.DataFrame, f: Filters | None = None, freq: Freq = "M", flows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``stream, period, value``: every month, quarter or year of the window (zeros included) per stream.

    ``period`` is the first day of the period (a Timestamp, which plots well). The window is the filter's,
    its open bounds closed by the data (``window``). With ``flows``, displacement is a stream too.
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    f = f or Filters()
    flows_sel = _flows_selection(flows, f) if flows is not None and f.displacement else None
    return _by_period(
        _events_selection(events, f), flows_sel, f.event_streams(), window(events, flows, f), freq
    )


def _displacement_by_state(sel: _Selection, side: str = "destination") -> pd.DataFrame:
    codes = sel.codes(f"{side}_pcode")
    weights = sel.weights("individuals")
    known = codes >= 0  # DTM stocks may not know the state of origin: no "displaced from" figure for them
    counts = _bincount(codes[known], weights[known], len(schema.STATE_PCODES))
    return pd.DataFrame(
        {
            "stream": schema.DISPLACEMENT,
            "state_pcode": np.array(schema.STATE_PCODES, dtype=object),
            "value": counts,
        }
    )


def displacement_by_state(
    flows: pd.DataFrame, f: Filters | None = None, side: Literal["origin", "destination"] = "destination"
) -> pd.DataFrame:
    """``stream, state_pcode, value``: people displaced into (or out of) each of the 19 states, zeros too.

    Same shape as ``by_state`` with ``stream`` = "displacement", so one map can show any stream.
    """
    if side not in ("origin", "destination"):
        raise ValueError(f"side must be origin or destination, not {side!r}")
    return _displacement_by_state(_flows_selection(flows, f), side)


def _pairs(
    origin: np.ndarray,
    destination: np.ndarray,
    weights: np.ndarray,
    origins,
    destinations,
    key_weights: np.ndarray | Literal[False] | None = False,
) -> pd.DataFrame:
    """Counts of the pairs with at least one; with ``key_weights`` (events) a ``ckey`` column too
    (``False``: flows, no keys; None: events without record keys, NA keys)."""
    known = (origin >= 0) & (destination >= 0)
    size = len(destinations)
    bins = origin[known] * size + destination[known]
    counts = _bincount(bins, weights[known], len(origins) * size)
    nonzero = np.flatnonzero(counts)
    table = {
        "origin": np.array(origins, dtype=object)[nonzero // size],
        "destination": np.array(destinations, dtype=object)[nonzero % size],
        "value": counts[nonzero],
    }
    if key_weights is not False:
        key_weights = None if key_weights is None else key_weights[known]
        table["ckey"] = _cell_keys(bins, key_weights, len(origins) * size)[nonzero]
    return pd.DataFrame(table)


def _state_flows(sel: _Selection) -> pd.DataFrame:
    table = _pairs(
        sel.codes("origin_pcode"), sel.codes("destination_pcode"), sel.weights("individuals"),
        schema.STATE_PCODES, schema.STATE_PCODES,
    )  # fmt: skip
    return table.rename(columns={"origin": "origin_pcode", "destination": "destination_pcode"})


def state_flows(flows: pd.DataFrame, f: Filters | None = None) -> pd.DataFrame:
    """``origin_pcode, destination_pcode, value``: people displaced, for every pair with at least one.

    Displacement within a state (origin = destination) is a pair like any other.
    """
    return _state_flows(_flows_selection(flows, f))


ReturnOrigin = Literal["state_pcode", "office"]


def _return_flows(sel: _Selection, origin: ReturnOrigin) -> pd.DataFrame:
    is_return = sel.codes("stream") == schema.ALL_STREAMS.index("return")
    key_weights = sel.key_weights()
    table = _pairs(
        sel.codes(origin)[is_return], sel.codes("destination")[is_return], sel.weights("count")[is_return],
        _vocab(origin), _vocab("destination"), None if key_weights is None else key_weights[is_return],
    )  # fmt: skip
    return table.rename(columns={"origin": origin})


def return_flows(
    events: pd.DataFrame, f: Filters | None = None, origin: ReturnOrigin = "state_pcode"
) -> pd.DataFrame:
    """``<origin>, destination, value, ckey``: voluntary returns from a state (or office) to a country (ISO3).

    Only pairs with at least one person; empty when the filter leaves out the return stream.
    """
    if origin not in ("state_pcode", "office"):
        raise ValueError(f"origin must be state_pcode or office, not {origin!r}")
    return _return_flows(_events_selection(events, f), origin)


# ---------------------------------------------------------------------------------------------- KPIs


KPI_COLUMNS = ("stream", "value", "previous", "change", "change_pct", "ckey", "previous_ckey")


def previous_window(span: tuple[pd.Period, pd.Period]) -> tuple[pd.Period, pd.Period]:
    """The months just before ``span``, as many as it has."""
    start, end = span
    length = (end - start).n + 1
    return start - length, start - 1


def kpis(events: pd.DataFrame, flows: pd.DataFrame | None = None, f: Filters | None = None) -> pd.DataFrame:
    """``stream, value, previous, change, change_pct, ckey, previous_ckey``: totals per selected stream and
    their change, with the cell keys of the two totals (for ``privacy.release``, which recomputes the change
    from the published numbers).

    ``previous`` is the total over the same number of months just before the window, with the same other
    filters; it is NA when that period starts before the table's first month (no fair comparison).
    ``change`` is value - previous and ``change_pct`` 100 * change / previous (NA when previous is 0 or NA).
    Confidential: ``flowmon.viewdata.build`` publishes them through ``privacy.release``.
    """
    f = f or Filters()
    span = window(events, flows, f)
    rows = _event_kpis(events, _events_mask(events, f, window=False), f.event_streams(), span)
    if flows is not None and f.displacement:
        rows.append(_flow_kpi(flows, _flows_mask(flows, f, window=False), span))
    return _kpi_frame(rows)


def _event_kpis(events: pd.DataFrame, base: np.ndarray, streams: tuple[str, ...], span) -> list[tuple]:
    months = _months_of(events)
    stream_codes = _codes(events["stream"], schema.ALL_STREAMS)
    weights = events["count"].to_numpy(dtype=np.float64)
    current, previous = _windows(months, span)
    # One pass: key = stream * 3 + (0 in the window, 1 in the period before, 2 elsewhere).
    where = 2 - 2 * current.view(np.int8) - (previous.view(np.int8) if previous is not None else 0)
    keys = stream_codes.astype(np.intp) * 3 + where
    counts = _bincount(keys, weights * base, len(schema.ALL_STREAMS) * 3).reshape(-1, 3)
    now = counts[:, 0]
    before = counts[:, 1] if previous is not None else None
    if recordkeys.RECORD_KEY in events.columns:
        rows = np.flatnonzero(base & (where < 2))  # the rows of the two windows only
        key_weights = _key_weights_of(events).take(rows)
        cell_keys = _cell_keys(keys.take(rows), key_weights, len(schema.ALL_STREAMS) * 3).reshape(-1, 3)
    else:
        cell_keys = None
    rows = []
    for stream in streams:
        at = schema.ALL_STREAMS.index(stream)
        row = (stream, int(now[at]), None if before is None else int(before[at]))
        # Cell keys of the two totals ride along (None without record keys).
        key_now = None if cell_keys is None else int(cell_keys[at, 0])
        key_before = None if cell_keys is None or before is None else int(cell_keys[at, 1])
        rows.append((*row, key_now, key_before))
    return rows


def _flow_kpi(flows: pd.DataFrame, base: np.ndarray, span) -> tuple:
    months = _months_of(flows)
    weights = flows["individuals"].to_numpy(dtype=np.float64)
    current, previous = _windows(months, span)
    value = int(np.rint(weights[_latest_rounds(flows, base & current)].sum()))
    before = None if previous is None else int(np.rint(weights[_latest_rounds(flows, base & previous)].sum()))
    return schema.DISPLACEMENT, value, before


def _windows(months: np.ndarray, span) -> tuple[np.ndarray, np.ndarray | None]:
    """Masks of the window and of the period before it (None when the data does not cover it)."""
    if span is None:
        return np.zeros(len(months), dtype=bool), None
    start, end = span
    current = (months >= start.ordinal) & (months <= end.ordinal)
    before_start, before_end = previous_window(span)
    if not len(months) or before_start.ordinal < int(months.min()):
        return current, None
    return current, (months >= before_start.ordinal) & (months <= before_end.ordinal)


def _kpi_frame(rows: list[tuple]) -> pd.DataFrame:
    """KPI rows ``(stream, value, previous[, ckey, previous_ckey])`` as the KPI table, with cell keys
    (``ckey``, ``previous_ckey``; NA for displacement and where there are no record keys)."""
    table = _with_change([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    table["ckey"] = pd.array([r[3] if len(r) > 3 else None for r in rows], dtype="Int16")
    table["previous_ckey"] = pd.array([r[4] if len(r) > 4 else None for r in rows], dtype="Int16")
    return table


def _with_change(streams: list[str], values: list[int | None], previous: list[int | None]) -> pd.DataFrame:
    change = [None if v is None or p is None else v - p for v, p in zip(values, previous, strict=True)]
    pairs = zip(change, previous, strict=True)
    pct = [None if c is None or not p else round(100 * c / p, 1) for c, p in pairs]
    return pd.DataFrame(
        {
            "stream": streams,
            "value": pd.array(values, dtype="Int64"),
            "previous": pd.array(previous, dtype="Int64"),
            "change": pd.array(change, dtype="Int64"),
            "change_pct": pd.array(pct, dtype="Float64"),
        }
    )


# ---------------------------------------------------------------------------------------------- all views

VIEWS = (
    "window",
    "kpis",
    "by_state",
    "by_office",
    "by_period",
    "by_category",
    "by_nationality",
    "by_referred_to",
    "departures",
    "return_flows",
    "state_flows",
    "nationality_total",
)


def count_view(
    events: pd.DataFrame,
    flows: pd.DataFrame | None = None,
    f: Filters | None = None,
    *,
    freq: Freq = "M",
    return_origin: ReturnOrigin = "state_pcode",
) -> dict[str, pd.DataFrame]:
    """Every table one dashboard view shows, counted (CONFIDENTIAL: true counts with their cell keys).

    Keys (``VIEWS``): ``window`` (one row: start, end, previous_start, previous_end as Periods; empty when
    there is no data), ``kpis`` (``kpis``), ``by_state`` (displacement included, by destination),
    ``by_office``, ``by_period`` (at ``freq``, displacement included), ``by_category``, ``by_nationality``,
    ``by_referred_to``, ``departures`` (displacement by state of origin, shaped like ``by_state``),
    ``return_flows`` (from ``return_origin``), ``state_flows``. Each frame has ``value`` and, for case
    events, ``ckey``. ``flowmon.viewdata.build`` turns them into published numbers (``privacy.release``).
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    f = f or Filters()
    streams = f.event_streams()
    span = window(events, flows, f)
    base = _events_mask(events, f, window=False)
    current, _ = _windows(_months_of(events), span)
    ev = _Selection(events, base & current)
    kpi_rows = _event_kpis(events, base, streams, span)
    fl = None
    if flows is not None and f.displacement:
        flow_base = _flows_mask(flows, f, window=False)
        flow_current, _ = _windows(_months_of(flows), span)
        fl = _Selection(flows, _latest_rounds(flows, flow_base & flow_current))
        kpi_rows.append(_flow_kpi(flows, flow_base, span))
    state = _by_state(ev, streams)
    parts = [state]
    departures = _empty_like(state)
    if fl is not None:
        parts.append(_displacement_by_state(fl))
        departures = _displacement_by_state(fl, "origin")
    returns = (
        _return_flows(ev, return_origin)
        if "return" in streams
        else _empty_pairs(return_origin, "destination")
    )
    return {
        "window": _window_frame(span),
        "kpis": _kpi_frame(kpi_rows),
        "by_state": _concat(parts),
        "by_office": _cross(ev, "office", streams),
        "by_period": _by_period(ev, fl, streams, span, freq),
        "by_category": _by_category(ev, streams),
        "by_nationality": _by_nationality(ev, streams),
        "by_referred_to": _by_referred_to(ev, streams),
        "departures": departures,
        "return_flows": returns,
        "state_flows": _state_flows(fl)
        if fl is not None
        else _empty_pairs("origin_pcode", "destination_pcode"),
        "nationality_total": _nationality_total(ev, streams),
        # Which DTM rounds the displacement figures are (a stock is one round: the view names it).
        "rounds": rounds.shown_rounds(flows, fl.mask)
        if fl is not None
        else rounds.shown_rounds(flows.iloc[:0], []),
    }


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if len(parts) == 1:
        return parts[0]
    table = pd.concat(parts, ignore_index=True)
    if "ckey" in table.columns:
        table["ckey"] = table["ckey"].astype("Int16")  # NA for the displacement rows: no record keys
    return table


def _nationality_total(sel: _Selection, streams: tuple[str, ...]) -> pd.DataFrame:
    """``nationality, value, ckey``: people of each nationality over all ``streams`` together (a cell of its
    own: the sum of published per-stream numbers would add their noise up)."""
    case_streams = tuple(s for s in streams if s in schema.STREAMS)
    vocabulary = _vocab("nationality")
    if not case_streams:
        return pd.DataFrame(
            {"nationality": pd.Series(dtype=object), "value": pd.Series(dtype=np.int64), "ckey": []}
        )
    chosen = _selected(sel.codes("stream"), schema.ALL_STREAMS, case_streams)
    codes = sel.codes("nationality")[chosen]
    key_weights = sel.key_weights()
    counts = _bincount(codes, sel.weights("count")[chosen], len(vocabulary))
    ckeys = _cell_keys(codes, None if key_weights is None else key_weights[chosen], len(vocabulary))
    present = np.flatnonzero(counts)
    return pd.DataFrame(
        {
            "nationality": np.array(vocabulary, dtype=object)[present],
            "value": counts[present],
            "ckey": ckeys[present],
        }
    )


def _empty_like(table: pd.DataFrame) -> pd.DataFrame:
    return table.iloc[:0]


def _empty_pairs(origin: str, destination: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            origin: pd.Series(dtype=object),
            destination: pd.Series(dtype=object),
            "value": pd.Series(dtype=np.int64),
        }
    )


def _window_frame(span) -> pd.DataFrame:
    columns = ["start", "end", "previous_start", "previous_end"]
    if span is None:
        return pd.DataFrame({c: pd.Series(dtype="period[M]") for c in columns})
    return pd.DataFrame([[*span, *previous_window(span)]], columns=columns)
