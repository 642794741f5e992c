"""Cross-border movements: the counts a view of the ``crossings`` table shows, and their protected release.

CONFIDENTIAL until published: ``count`` returns true counts with their cell keys (``ckey``); ``publish``
passes every table through ``flowmon.privacy.release`` (stream ``"crossing"``, k = 5 as caseloads: a crossing
row counts people, and a small cell of one nationality at one point on one day can single a family out).

Record keys: a crossings row counts ``count`` people with one key (``flowmon.recordkeys.attach_crossings``,
kept by ``flowmon.store``), so a cell's key is the sum of ``record_key * count`` modulo 256, as for events.

Selection: the view's ``flowmon.filters.Filters`` (period, state, nationality, sex, age group) plus a point
and a direction, which are arguments here (and read from the filters once they are fields of their own).
A state selects the points that lie in it. Offices and streams do not apply: crossings belong to no office.

Periods: a row is dated its day (daily registries) or the first day of its month (monthly totals); windows
are whole months, as everywhere in flowmon. The daily average divides by the days of the window's months
that the data covers (a view of 2025 in May 2025 divides by the days of January to the last month of data).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from flowmon import aggregate, privacy, recordkeys, schema
from flowmon.filters import Filters, period_span

STREAM = schema.CROSSING
DIRECTIONS = schema.DIRECTIONS
ALL = "all"  # the direction of a cell that counts every direction together (a cell of its own)
MEASURES = (*DIRECTIONS, ALL)
TABLES = ("kpis", "by_point", "by_state", "by_direction", "by_period", "by_nationality", "by_origin",
          "by_destination")  # fmt: skip
FREQS = aggregate.FREQS


# ------------------------------------------------------------------------------------------------ selection


def points() -> pd.DataFrame:
    from flowmon.geo.crossing_points import crossing_points

    return crossing_points()


def _one(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        shown = ", ".join(allowed)
        raise ValueError(f"{name}: unknown value {value!r} (expected {shown})")
    return value


def _query(filters: Filters | None, point: str | None, direction: str | None) -> dict:
    """The selection: the filters' values, and a point and direction (arguments win over the filters')."""
    filters = filters or Filters()
    point = point if point is not None else getattr(filters, "point", None)
    direction = direction if direction is not None else getattr(filters, "direction", None)
    return {
        "period": filters.period,
        "state": filters.state,
        "nationality": filters.nationality,
        "sex": filters.sex,
        "age_group": filters.age_group,
        "point": _one("point", point, schema.point_codes()),
        "direction": _one("direction", direction, DIRECTIONS),
    }


def _months(crossings: pd.DataFrame) -> np.ndarray:
    if aggregate.MONTH in crossings.columns:
        return crossings[aggregate.MONTH].to_numpy()
    dates = pd.DatetimeIndex(crossings["date"])
    return ((dates.year.to_numpy() - 1970) * 12 + dates.month.to_numpy() - 1).astype(np.int32)


def _is(column: pd.Series, value: str) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):  # the stored table: compare small integer codes
        categories = column.cat.categories
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        return column.cat.codes.to_numpy() == categories.get_loc(value)
    return (column.astype("object") == value).to_numpy()


def _base_mask(crossings: pd.DataFrame, query: dict) -> np.ndarray:
    """Rows selected by everything but the period."""
    mask = np.ones(len(crossings), dtype=bool)
    for name in ("nationality", "sex", "age_group", "point", "direction"):
        if query[name] is not None:
            mask &= _is(crossings[name], query[name])
    if query["state"] is not None:
        table = points()
        mask &= (
            crossings["point"]
            .astype("object")
            .isin(table.loc[table["state_pcode"] == query["state"], "code"])
        )
    return mask


def window(crossings: pd.DataFrame, filters: Filters | None = None) -> tuple[pd.Period, pd.Period] | None:
    """The view's months: its period, or every month of the data (None when there is none)."""
    if filters is not None and filters.period:
        return period_span(filters.period)
    if crossings.empty:
        return None
    months = _months(crossings)
    return pd.Period(ordinal=int(months.min()), freq="M"), pd.Period(ordinal=int(months.max()), freq="M")


def select(
    crossings: pd.DataFrame, filters: Filters | None = None, *, point: str | None = None,
    direction: str | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The rows a view counts (its period's months included)."""
    query = _query(filters, point, direction)
    span = window(crossings, filters)
    mask = _base_mask(crossings, query) & _within(_months(crossings), span)
    return crossings[mask]


def _within(months: np.ndarray, span) -> np.ndarray:
    if span is None:
        return np.zeros(len(months), dtype=bool)
    return (months >= span[0].ordinal) & (months <= span[1].ordinal)


# ------------------------------------------------------------------------------------------------ counting


def _key_weights(rows: pd.DataFrame) -> np.ndarray | None:
    if aggregate.KEY_WEIGHT in rows.columns:  # worked out once by aggregate.prepare
        return rows[aggregate.KEY_WEIGHT].to_numpy(dtype=np.float64)
    if recordkeys.RECORD_KEY not in rows.columns:
        return None
    return rows[recordkeys.RECORD_KEY].to_numpy(dtype=np.float64) * rows["count"].to_numpy(dtype=np.float64)


def _codes(column: pd.Series, vocabulary: tuple[str, ...]) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype):  # map the few categories, not every row
        lookup = pd.Index(vocabulary).get_indexer(column.cat.categories)
        codes = column.cat.codes.to_numpy()
        codes = np.where(codes >= 0, lookup[codes], -1)
    else:
        codes = pd.Index(vocabulary).get_indexer(column.astype("object").to_numpy())
    if (codes < 0).any():
        raise ValueError(
            f"crossings: {column.name} has values outside its vocabulary (not a canonical table)"
        )
    return codes


def _cells(codes: np.ndarray, rows: pd.DataFrame, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts and cell keys of the bins ``codes`` (0..size-1) of ``rows``, per measure: ``(size, 4)`` arrays
    with the columns in, out, transit and all.

    One bincount over (bin, direction); "all" is a cell of its own, its count and key sums the rows of every
    direction (sums of counts and of key weights add up; the key is taken modulo 256 at the end).
    """
    directions = _codes(rows["direction"], DIRECTIONS)
    flat = codes * len(DIRECTIONS) + directions
    shape = (size, len(DIRECTIONS))

    def sums(weights: np.ndarray) -> np.ndarray:
        by_direction = np.bincount(flat, weights, minlength=size * len(DIRECTIONS)).reshape(shape)
        return np.rint(np.column_stack([by_direction, by_direction.sum(axis=1)])).astype(np.int64)

    counts = sums(rows["count"].to_numpy(np.float64))
    weights = _key_weights(rows)
    if weights is None:  # no record keys: release refuses such a table
        return counts, np.full(counts.shape, -1, dtype=np.int64)
    return counts, sums(weights) % recordkeys.KEY_RANGE


def _cell_table(first: str, labels: np.ndarray, counts: np.ndarray, keys: np.ndarray, *,
                nonzero: bool) -> pd.DataFrame:  # fmt: skip
    """``first, direction, value, ckey, stream``: the cells of ``_cells``, measure by measure."""
    n = len(labels)
    keep = (counts > 0) if nonzero else np.ones(counts.shape, dtype=bool)
    # Measure-major order (every label of "in", then of "out", ...), as the tables have always been.
    keep, counts, keys = keep.T.ravel(), counts.T.ravel(), keys.T.ravel()
    ckey = pd.arrays.IntegerArray(keys.astype(np.int16), keys < 0)
    table = pd.DataFrame({
        first: np.tile(labels, len(MEASURES)),
        "direction": np.repeat(np.array(MEASURES, dtype=object), n),
        "value": counts,
        "ckey": ckey,
    })  # fmt: skip
    return table[keep].reset_index(drop=True).assign(stream=STREAM)


def _with_all(rows: pd.DataFrame, column: str, vocabulary: tuple[str, ...], *, nonzero: bool) -> pd.DataFrame:
    """``column, direction, value, ckey``: each value by direction and over all directions (own cells)."""
    counts, keys = _cells(_codes(rows[column], vocabulary), rows, len(vocabulary))
    return _cell_table(column, np.array(vocabulary, dtype=object), counts, keys, nonzero=nonzero)


def _by_period(rows: pd.DataFrame, span, freq: str) -> pd.DataFrame:
    first, last = (int(aggregate.period_ordinals(np.array([p.ordinal]), freq)[0]) for p in span)
    ordinals = aggregate.period_ordinals(_months(rows), freq) - first
    counts, keys = _cells(ordinals, rows, last - first + 1)
    periods = pd.PeriodIndex.from_ordinals(np.arange(first, last + 1), freq=freq).to_timestamp()
    return _cell_table("period", np.asarray(periods), counts, keys, nonzero=False)


def _days(span, months: np.ndarray) -> int:
    """Days of the months of ``span`` that the data covers (0 when it covers none)."""
    if span is None or not len(months):
        return 0
    first = max(span[0].ordinal, int(months.min()))
    last = min(span[1].ordinal, int(months.max()))
    if first > last:
        return 0
    covered = pd.period_range(pd.Period(ordinal=first, freq="M"), pd.Period(ordinal=last, freq="M"), freq="M")
    return int(np.asarray(covered.days_in_month).sum())


def _kpis(crossings: pd.DataFrame, base: np.ndarray, span) -> pd.DataFrame:
    """``measure`` (in, out, transit, all): value and previous (the same number of months just before), with
    their cell keys, and the days each covers (for the daily average)."""
    months = _months(crossings)
    current = base & _within(months, span)
    previous_span = aggregate.previous_window(span) if span is not None else None
    fair = previous_span is not None and len(months) and previous_span[0].ordinal >= int(months.min())
    before = base & _within(months, previous_span) if fair else None
    now = _measures(_rows(crossings, current))
    rows = {
        "stream": STREAM,
        "measure": list(MEASURES),
        "value": now[0],
        "ckey": now[1],
        "days": _days(span, months),
    }
    if before is not None:
        earlier = _measures(_rows(crossings, before))
        rows |= {
            "previous": pd.array(earlier[0], dtype="Int64"),
            "previous_ckey": earlier[1],
            "previous_days": _days(previous_span, months),
        }
    else:
        rows |= {"previous": pd.array([pd.NA] * 4, dtype="Int64"),
                 "previous_ckey": pd.array([pd.NA] * 4, dtype="Int16"), "previous_days": 0}  # fmt: skip
    table = pd.DataFrame(rows)
    table["value"] = table["value"].astype("Int64")
    table["change"] = table["value"] - table["previous"]
    previous = table["previous"].astype("Float64")
    table["change_pct"] = (100 * table["change"].astype("Float64") / previous.where(previous != 0)).round(1)
    return table


# What counting reads of a row: not the free-text source, not the date (the month is prepared).
_COUNTED = ("point", "direction", "count", "nationality", "origin", "destination", aggregate.MONTH, "date",
            aggregate.KEY_WEIGHT, recordkeys.RECORD_KEY)  # fmt: skip


def _rows(crossings: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """The selected rows, with only the columns counted (a row selection copies every column it keeps)."""
    counted = [c for c in _COUNTED if c in crossings.columns]
    if aggregate.MONTH in counted:
        counted.remove("date")
    return crossings.loc[mask, counted]


def _measures(rows: pd.DataFrame) -> tuple[np.ndarray, pd.arrays.IntegerArray]:
    """Counts and cell keys of in, out, transit and all (one bin: the whole selection)."""
    counts, keys = _cells(np.zeros(len(rows), dtype=np.int64), rows, 1)
    return counts[0], pd.arrays.IntegerArray(keys[0].astype(np.int16), keys[0] < 0)


def count(
    crossings: pd.DataFrame,
    filters: Filters | None = None,
    *,
    point: str | None = None,
    direction: str | None = None,
    freq: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of the cross-border view, counted (CONFIDENTIAL: true counts with their cell keys).

    ``kpis``: ``stream, measure, value, ckey, days, previous, previous_ckey, previous_days, change,
    change_pct`` for measure in, out, transit and all. ``by_point``: ``point, direction, value, ckey``
    for every selected point and direction (in, out, transit, all), zeros included. ``by_state``:
    ``state_pcode, direction, value, ckey``: people crossing at the points of each state (cells of their own,
    for the map's colours), every state. ``by_direction``:
    ``direction, value, ckey``. ``by_period``: ``period, direction, value, ckey`` for every period of the
    window at ``freq`` (the filters' granularity by default). ``by_nationality``, ``by_origin``,
    ``by_destination``: ``<column>, direction, value, ckey``, only values with someone. ``window``:
    start and end months.
    """
    query = _query(filters, point, direction)
    freq = freq or (filters.freq if filters is not None else "M")
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    span = window(crossings, filters)
    base = _base_mask(crossings, query)
    rows = _rows(crossings, base & _within(_months(crossings), span))
    chosen_points = schema.point_codes()
    if query["state"] is not None or query["point"] is not None:
        table = points()
        keep = (
            (table["state_pcode"] == query["state"]) if query["state"] else pd.Series(True, index=table.index)
        )
        if query["point"]:
            keep &= table["code"] == query["point"]
        chosen_points = tuple(table.loc[keep, "code"])
    by_point = _with_all(rows, "point", schema.point_codes(), nonzero=False)
    by_point = by_point[by_point["point"].isin(chosen_points)].reset_index(drop=True)
    kpis = _kpis(crossings, base, span)
    states = points().set_index("code")["state_pcode"]
    in_state = rows.assign(state_pcode=rows["point"].astype("object").map(states))
    empty_period = pd.DataFrame(
        {"period": pd.Series(dtype="datetime64[ns]"), "direction": pd.Series(dtype=object),
         "value": pd.Series(dtype=np.int64), "ckey": pd.Series(dtype=np.int16), "stream": STREAM}
    )  # fmt: skip
    return {
        "window": pd.DataFrame([span] if span else [], columns=["start", "end"]),
        "kpis": kpis,
        "by_point": by_point,
        "by_state": _with_all(in_state, "state_pcode", schema.STATE_PCODES, nonzero=False),
        "by_direction": kpis.loc[kpis["measure"] != ALL, ["stream", "measure", "value", "ckey"]]
        .rename(columns={"measure": "direction"})
        .reset_index(drop=True),
        "by_period": _by_period(rows, span, freq) if span is not None else empty_period,
        "by_nationality": _with_all(rows, "nationality", schema.vocabulary("nationality"), nonzero=True),
        "by_origin": _with_all(rows, "origin", schema.place_codes(), nonzero=True),
        "by_destination": _with_all(rows, "destination", schema.place_codes(), nonzero=True),
    }


# ------------------------------------------------------------------------------------------------ release


def publish(
    counted: Mapping[str, pd.DataFrame], operator_k: privacy.OperatorK = None, data_dir=None
) -> dict[str, pd.DataFrame]:
    """The counted tables as they may be shown: every count through ``privacy.release`` (cell keys dropped),
    rankings made on the published numbers (largest first, ties by code), the KPI card derived from them."""
    out: dict[str, pd.DataFrame] = {"window": counted["window"]}
    for name in TABLES:
        out[name] = privacy.release(counted[name], operator_k, stream=STREAM, data_dir=data_dir)
    for name in ("by_nationality", "by_origin", "by_destination"):
        out[name] = _ranked(out[name])
    out["card"] = card(out["kpis"])
    return out


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Per direction, largest published number first, ties by code; rows published as 0 dropped."""
    table = table[table["value"].fillna(0) > 0]
    order = np.lexsort(
        (table.iloc[:, 0].astype(str).to_numpy(), -table["value"].fillna(0).to_numpy(),
         table["direction"].map(MEASURES.index).to_numpy())
    )  # fmt: skip
    return table.take(order).reset_index(drop=True)


def top(published: pd.DataFrame, direction: str = ALL, n: int = 10) -> pd.DataFrame:
    """The ``n`` largest rows of a published ranking (``by_nationality``, ``by_destination``, ...) for one
    direction (or all)."""
    _one("direction", direction, MEASURES)
    return published[published["direction"] == direction].head(n).reset_index(drop=True)


CARD_MEASURES = ("in", "out", "net", "daily average")


def card(published_kpis: pd.DataFrame) -> pd.DataFrame:
    """The KPI card from published KPIs: in, out, net (in - out) and the daily average (all crossings per
    day of the covered months), each with ``previous``, ``change`` and ``change_pct``.

    Net and the daily average are derived from published numbers only (from true counts, a difference
    would give an exact figure away). The daily average is a float rounded to one decimal.
    """
    by = published_kpis.set_index("measure")

    def pair(measure: str) -> tuple[object, object]:
        return by.at[measure, "value"], by.at[measure, "previous"]

    (in_now, in_before), (out_now, out_before) = pair("in"), pair("out")
    all_now, all_before = pair(ALL)
    days, previous_days = int(by.at[ALL, "days"]), int(by.at[ALL, "previous_days"])

    def per_day(value, n: int):
        return pd.NA if pd.isna(value) or not n else round(float(value) / n, 1)

    rows = [
        ("in", in_now, in_before),
        ("out", out_now, out_before),
        ("net", _minus(in_now, out_now), _minus(in_before, out_before)),
        ("daily average", per_day(all_now, days), per_day(all_before, previous_days)),
    ]
    table = pd.DataFrame(
        {
            "stream": STREAM,
            "measure": [r[0] for r in rows],
            "value": pd.array([r[1] for r in rows], dtype="Float64"),
            "previous": pd.array([r[2] for r in rows], dtype="Float64"),
        }
    )
    table["change"] = (table["value"] - table["previous"]).round(1)
    previous = table["previous"]
    table["change_pct"] = (100 * table["change"] / previous.where(previous != 0).abs()).round(1)
    return table


def _minus(a, b):
    return pd.NA if pd.isna(a) or pd.isna(b) else int(a) - int(b)


# ------------------------------------------------------------------------------------------------ the map


def map_points(published_by_point: pd.DataFrame) -> pd.DataFrame:
    """One row per point with its published counts: ``code, name, name_ar, lon, lat, state_pcode,
    country_across, kind, in, out, transit, all`` (``all``: size the marker by it)."""
    wide = published_by_point.pivot_table(
        index="point", columns="direction", values="value", aggfunc="first", observed=True
    )
    wide = wide.reindex(columns=list(MEASURES)).astype("Int64")
    table = points().merge(wide, left_on="code", right_index=True, how="inner")
    return table.drop(columns="note").reset_index(drop=True)


ARROW_DEGREES = 1.2


def arrows(published_by_point: pd.DataFrame, length: float = ARROW_DEGREES) -> pd.DataFrame:
    """Arrows across the border: ``point, direction, value, x0, y0, x1, y1`` (lon/lat), one per point and
    direction (in, out) with someone. Out of Sudan starts at the point and heads ``length`` degrees towards
    the country across; into Sudan comes from there to the point. Draw their width by ``value``."""
    return point_arrows(map_points(published_by_point), length)


def point_arrows(table: pd.DataFrame, length: float = ARROW_DEGREES) -> pd.DataFrame:
    """``arrows`` of a ``map_points`` table (for a caller that has it already: the live map, on a change)."""
    from flowmon.geo.countries import country_point

    rows = []
    for point in table.to_dict("records"):
        target_lon, target_lat = country_point(point["country_across"])
        here = (point["lon"], point["lat"])
        dx, dy = target_lon - here[0], target_lat - here[1]
        norm = float(np.hypot(dx, dy)) or 1.0
        far = (here[0] + length * dx / norm, here[1] + length * dy / norm)
        for direction in ("in", "out"):
            value = point[direction]
            if pd.isna(value) or value <= 0:
                continue
            start, end = (here, far) if direction == "out" else (far, here)
            rows.append((point["code"], direction, int(value), *start, *end))
    return pd.DataFrame(rows, columns=["point", "direction", "value", "x0", "y0", "x1", "y1"])
