"""The protected release: the last step before a count of people is shown or exported.

``release`` publishes a counted table by the cell key method (DESIGN.md, Privacy; as ABS TableBuilder and
the UK ONS do): every case record has a permanent random key (``flowmon.recordkeys``), a cell's key is the
sum of its records' keys modulo 256 (the ``ckey`` column the counting functions of ``flowmon.aggregate``
add), and the published count is the true count plus the noise a perturbation table (``flowmon.ptable``)
gives for that count and key. So the same records give the same published number in every view, session
and export, whatever else is in the table; a count is never published from 1 to k-1 (k = 5, 11 for
referrals: ``K_FLOORS``; an operator may raise k, never lower it); 0 stays 0. Displacement (DTM flows) is
public data and is published as it is. ``footnote`` says so to readers, in English and Arabic.

A row that counts ``c`` identical events (``count`` = c) stands for c records with the same key, so it adds
``record_key * c`` to its cell's key: exactly what the ONS package computes from the c rows themselves.

Below ``release``: the earlier per-view suppression (``protect_linked``, ``suppress``), kept only while
``aggregate.view_data`` and ``export.frames`` still call it; it does not protect against combining views.

Rules of the suppression (superseded):

* **Primary suppression.** A count from 1 to k-1 is hidden. k is 5 by default and 11 for trafficking
  referrals (CTDC publishes with k = 11); the operator may raise k (``k_for(stream, operator_k)``), never
  lower it below these floors. Zeros are shown: a zero reveals nobody.
* **Complementary suppression.** A table is published with totals (its *margins*: the KPI of a stream is the
  total of the map, of the trend and of the breakdowns). Every total and the cells it sums form an equation;
  an equation with exactly one hidden member gives that member away (total minus the shown cells). So
  until no equation has exactly one hidden member, the smallest shown non-zero cell of such an equation is
  hidden too (a total only when no cell is left). Because a hidden member is then never alone in an
  equation, and hidden cells are never zero, no hidden cell equals a shown total minus the shown cells.
* **Totals stay true.** A total is either the true total or hidden; it is never recomputed from the shown
  cells. A total that could give a cell away is hidden by the same rule, and a total from 1 to k-1 is
  hidden like any count.
* **Linked tables.** Numbers that count the same people in several tables (the caseload KPI is the total of
  the caseload map, trend, office and service tables) are one member of the problem, identified by what they
  count (``stream=caseload``), so a number hidden in one table is hidden in all (``protect_linked``).

Limits, on purpose: the rule protects against a total minus shown cells, not against every linear
combination of several tables (an interval attack on a two-way table can narrow a hidden pair down) nor
against differencing two filtered views; a table that is not declared linked (nationalities and return
destinations often count the same people) is protected on its own.

Output: the table with its ``value`` as nullable integers (NA where hidden) and a boolean ``suppressed``
column, which views use to hatch a state or footnote a cell (``footnote``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flowmon import schema

DEFAULT_K = 5
K_FLOORS: dict[str, int] = {
    "caseload": DEFAULT_K,
    "return": DEFAULT_K,
    "referral": 11,
    "displacement": DEFAULT_K,
}
SUPPRESSED = "suppressed"

OperatorK = int | Mapping[str, int] | None
K = int | Mapping[str, int]


def k_for(stream: str, operator_k: OperatorK = None) -> int:
    """The threshold of ``stream``: its floor, or the operator's k when that is higher.

    ``operator_k`` is one k for every stream or a mapping from stream to k. A k below the stream's floor is an
    error, not silently raised: an operator who asks for k = 3 must learn that flowmon will not show it.
    """
    if stream not in K_FLOORS:
        raise ValueError(f"unknown stream {stream!r} (expected one of {', '.join(K_FLOORS)})")
    floor = K_FLOORS[stream]
    if operator_k is None:
        return floor
    if isinstance(operator_k, Mapping):
        unknown = set(operator_k) - set(K_FLOORS)
        if unknown:
            raise ValueError(f"k for unknown stream {sorted(unknown)[0]!r}")
        if stream not in operator_k:
            return floor
        asked = operator_k[stream]
        if asked < floor:
            raise ValueError(f"k for {stream} cannot be lowered below {floor} (asked {asked})")
        return int(asked)
    if operator_k < DEFAULT_K:
        raise ValueError(f"k cannot be lowered below {DEFAULT_K} (asked {operator_k})")
    return max(floor, int(operator_k))


def k_by_stream(operator_k: OperatorK = None) -> dict[str, int]:
    """``k_for`` of every stream, displacement included."""
    return {stream: k_for(stream, operator_k) for stream in K_FLOORS}


# ---------------------------------------------------------------------------------------------- release

CKEY = "ckey"
CASE_STREAMS = schema.STREAMS
# Columns derived from published numbers, recomputed after perturbation: from true counts, a change
# would give the exact difference of two protected numbers away.
_DERIVED = ("change", "change_pct")
_FOOTNOTES = {
    "en": "Figures are adjusted slightly to protect individuals, so totals may differ from the sum of "
    "their parts.",
    "ar": "عُدِّلت الأرقام تعديلاً طفيفاً لحماية الأفراد، لذا قد تختلف المجاميع عن مجموع أجزائها.",
}


def release(
    table: pd.DataFrame,
    k: OperatorK = None,
    *,
    stream: str | Sequence[str] | None = None,
    columns: Mapping[str, str] | None = None,
    data_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """``table`` as it may be published: counts of the case streams perturbed, cell keys dropped.

    ``table`` comes from the counting functions of ``flowmon.aggregate``: a ``value`` column of true counts
    and, next to it, ``ckey`` (the cell key). The stream of each row is its ``stream`` column, or
    ``stream`` for a table without one (return flows: ``stream="return"``); a table whose rows count several
    streams together (their cell keys added modulo 256) gives them all (``stream=("caseload", "referral")``)
    and is published with the highest of their k. ``k`` is the operator's k (one,
    or per stream, as ``k_for``), never below ``K_FLOORS``. ``columns`` maps each count column to its key
    column (default ``{"value": "ckey"}``; a KPI table also has ``{"previous": "previous_ckey"}``, which is
    added when present). ``data_dir`` is where an operator's own perturbation tables are looked for.

    Returns a new frame: every column of ``table`` but the keys, counts as nullable integers (NA stays NA),
    ``change`` and ``change_pct`` recomputed from the published numbers when present, and a ``suppressed``
    column (always False: nothing is hidden any more; kept while views still read it).
    """
    if columns is None:
        columns = {"value": CKEY}
        if "previous" in table.columns and "previous_ckey" in table.columns:
            columns = {**columns, "previous": "previous_ckey"}
    if "stream" in table.columns:
        streams = table["stream"].astype("object").to_numpy()
    elif isinstance(stream, str):
        streams = np.full(len(table), stream, dtype=object)
    elif stream is not None:
        # Several streams counted together: the strictest of them decides (its k and its table).
        chosen = [s for s in stream if s in CASE_STREAMS]
        strictest = max(chosen, key=lambda s: k_for(s, k)) if chosen else schema.DISPLACEMENT
        streams = np.full(len(table), strictest, dtype=object)
    else:
        raise ValueError("release: the table has no stream column; say which stream it counts (stream=...)")
    unknown = set(pd.unique(streams)) - set(K_FLOORS)
    if unknown:
        raise ValueError(f"release: unknown stream {sorted(map(str, unknown))[0]!r}")
    out = table.drop(columns=[c for c in (*columns.values(), SUPPRESSED) if c in table.columns])
    for value_column, key_column in columns.items():
        if value_column not in table.columns:
            raise ValueError(f"release: the table has no column {value_column!r}")
        out[value_column] = _published(table, value_column, key_column, streams, k, data_dir)
    if "previous" in columns and all(c in out.columns for c in _DERIVED):
        change = out["value"] - out["previous"]
        out["change"] = change
        previous = out["previous"].astype("Float64")
        out["change_pct"] = (100 * change.astype("Float64") / previous.where(previous != 0)).round(1)
    out[SUPPRESSED] = False
    if "previous" in columns:
        out["previous_suppressed"] = False
    return out


def _published(
    table: pd.DataFrame, value: str, key: str, streams: np.ndarray, k: OperatorK, data_dir
) -> pd.arrays.IntegerArray:
    counts = pd.array(table[value], dtype="Int64")
    missing = counts.isna()
    numbers = counts.to_numpy(dtype=np.int64, na_value=0)
    if len(numbers) and numbers.min() < 0:
        raise ValueError(f"release: {value} must be counts (no negative values)")
    out = numbers.copy()
    protected = np.isin(streams, CASE_STREAMS) & ~missing
    if protected.any():
        if key not in table.columns:
            raise ValueError(
                f"release: no cell keys ({key!r}) for counts of case records; count with flowmon.aggregate "
                "from events loaded by flowmon.store, which gives every record its key"
            )
        keys = pd.array(table[key], dtype="Int64")
        if keys[protected].isna().any():
            raise ValueError(f"release: a count of case records has no cell key ({key!r} is missing)")
        keys = keys.to_numpy(dtype=np.int64, na_value=0)
        from flowmon import ptable

        for name in pd.unique(streams[protected]):
            rows = protected & (streams == name)
            table_k = ptable.load(k_for(str(name), k), data_dir)
            out[rows] = table_k.perturb(numbers[rows], keys[rows])
    return pd.arrays.IntegerArray(out, missing.copy())


def footnote(
    streams: Iterable[str] = schema.ALL_STREAMS, operator_k: OperatorK = None, language: str = "en"
) -> str:
    """The footnote of a view or export: figures are adjusted to protect individuals (English or Arabic).

    Empty when the streams shown are displacement only (public data, published as it is). ``operator_k``
    is accepted for callers that pass it; the sentence is the same for every k.
    """
    if language not in _FOOTNOTES:
        raise ValueError(f"footnote: language must be one of {', '.join(_FOOTNOTES)}, not {language!r}")
    if not any(s in CASE_STREAMS for s in streams):
        return ""
    return _FOOTNOTES[language]


def suppression_footnote(streams: Iterable[str] = schema.ALL_STREAMS, operator_k: OperatorK = None) -> str:
    """One sentence for the footnote of a view that hides cells (the superseded suppression)."""
    ks = {stream: k_for(stream, operator_k) for stream in streams}
    groups: dict[int, list[str]] = {}
    for stream, k in ks.items():
        groups.setdefault(k, []).append(stream)
    if len(groups) <= 1:
        k = next(iter(groups), DEFAULT_K)
        bounds = f"from 1 to {k - 1}"
    else:
        parts = [f"1 to {k - 1} for {', '.join(names)}" for k, names in sorted(groups.items())]
        bounds = "from " + "; ".join(parts)
    return f"* hidden: counts {bounds}, and other counts that would let them be worked out from the totals."


# ---------------------------------------------------------------------------------------------- the solver


def complementary(
    values: np.ndarray,
    hidden: np.ndarray,
    equations: Sequence[np.ndarray],
    *,
    level: np.ndarray | None = None,
    thresholds: np.ndarray | None = None,
) -> np.ndarray:
    """Hide more members until no equation gives a hidden member away; returns the new hidden mask.

    ``values`` are the non-negative members, ``hidden`` the primary suppression, each equation the indices of
    the members that add up (a total and its parts). An equation gives a member away when

    * exactly one of its members is hidden (total minus the shown parts), or
    * its total is shown and the hidden parts add up to too little: hidden counts are never zero, so n hidden
      parts that sum to H each lie between 1 and H - (n - 1); unless that upper bound reaches the parts'
      threshold (``thresholds``, the k of each member), the parts are pinned down (sum 3 over three hidden
      states: each is 1).

    The member hidden to protect another is the finest (lowest ``level``: 0 for a cell, more for coarser
    totals) shown non-zero member of the equation, the smallest of those, the first on ties; the total only
    when no part is left. Always terminates: each step hides one more member.
    """
    values = np.asarray(values)
    hidden = np.array(hidden, dtype=bool)
    if not equations:
        return hidden
    level = np.zeros(len(values), dtype=np.int64) if level is None else np.asarray(level, dtype=np.int64)
    thresholds = np.ones(len(values), dtype=np.int64) if thresholds is None else np.asarray(thresholds)
    # Preference order: finer members before coarser totals, then by value, then by position.
    preference = np.empty(len(values), dtype=np.int64)
    preference[np.lexsort((np.arange(len(values)), values, level))] = np.arange(len(values))
    # The total of an equation is its coarsest member (the largest on ties: parts are never above it).
    totals = [eq[np.lexsort((values[eq], level[eq]))[-1]] if len(eq) else -1 for eq in equations]
    while True:
        changed = False
        for eq, total in zip(equations, totals, strict=True):
            if len(eq) == 0:
                continue
            members_hidden = hidden[eq]
            count = int(members_hidden.sum())
            if count == 0:
                continue
            if count == 1:
                pick = _pick(eq, hidden, values, preference)
            elif not hidden[total]:
                parts = eq[(eq != total) & hidden[eq]]
                slack = int(values[parts].sum()) - (len(parts) - 1)
                if slack >= int(thresholds[parts].max()):
                    continue
                pick = _pick(eq, hidden, values, preference)
            else:
                continue
            if pick is None:
                if count == 1:
                    # Only possible if the equation does not add up (a total that is not its parts' sum).
                    raise ValueError("inconsistent table: a total does not equal the sum of its cells")
                continue  # every member is hidden or zero: nothing more can be hidden, nothing is revealed
            hidden[pick] = True
            changed = True
        if not changed:
            return hidden


def _pick(equation: np.ndarray, hidden: np.ndarray, values: np.ndarray, preference: np.ndarray) -> int | None:
    """The shown non-zero member of ``equation`` to hide next, or None when there is none."""
    candidates = equation[~hidden[equation] & (values[equation] > 0)]
    return int(candidates[np.argmin(preference[candidates])]) if len(candidates) else None


# ---------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Linked:
    """One table of a linked protection problem.

    ``keys`` are the columns that identify a cell; ``margins`` the totals published with the table, each as
    the columns it keeps (``()`` is the grand total, ``("stream",)`` a total per stream). ``fixed`` adds
    what every row counts without a column for it (``{"stream": "return"}``) and ``dims`` renames columns
    to the dimension they mean in other tables (``{"state_pcode": "destination_pcode"}``): two members with
    the same dimensions and values count the same people and are one member.
    """

    frame: pd.DataFrame
    keys: tuple[str, ...]
    margins: tuple[tuple[str, ...], ...] = ((),)
    value: str = "value"
    fixed: Mapping[str, Hashable] = field(default_factory=dict)
    dims: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Protected:
    """A protected table: its cells and its totals (one frame per margin), each with ``suppressed``."""

    cells: pd.DataFrame
    value: str
    _totals: dict[tuple[str, ...], _Totals] = field(repr=False)
    _hidden: np.ndarray = field(repr=False)

    @functools.cached_property
    def totals(self) -> dict[tuple[str, ...], pd.DataFrame]:
        # Built on demand: the dashboard shows the cells and reads totals from the KPIs.
        return {margin: t.frame(margin, self.value, self._hidden) for margin, t in self._totals.items()}

    def total(self, margin: Sequence[str] = ()) -> pd.DataFrame:
        return self.totals[tuple(margin)]


class _Members:
    """Members of the problem, one per distinct identity (what they count), with their values and k."""

    def __init__(self, k: K) -> None:
        self.k = k
        self.index: dict[tuple, int] = {}
        self.values: list[int] = []
        self.thresholds: list[int] = []

    def add(self, identity: tuple, value: int, threshold: int) -> int:
        at = self.index.get(identity)
        if at is None:
            at = self.index[identity] = len(self.values)
            self.values.append(value)
            self.thresholds.append(threshold)
            return at
        if self.values[at] != value:
            raise ValueError(f"linked tables disagree on {dict(identity)}: {self.values[at]} and {value}")
        self.thresholds[at] = max(self.thresholds[at], threshold)
        return at

    def levels(self) -> np.ndarray:
        """How coarse each member is: the fewer dimensions it is identified by, the more it adds up."""
        dims = np.array([len(identity) for identity in self.index], dtype=np.int64)
        return dims.max(initial=0) - dims

    def threshold(self, streams: Iterable[Hashable]) -> int:
        if not isinstance(self.k, Mapping):
            return int(self.k)
        ks = [self.k[s] for s in streams if s in self.k]
        return max(ks) if ks else max(self.k.values(), default=DEFAULT_K)


def _identifier(fixed: Mapping[str, Hashable], dims: Sequence[str]):
    """A function from the values of ``dims`` to the identity of the member they name (with ``fixed``)."""
    if len(set(dims)) != len(dims) or set(dims) & set(fixed):
        raise ValueError(f"dimensions named twice in {[*fixed, *dims]}")
    names = sorted([*fixed, *dims])
    where = {d: i for i, d in enumerate(dims)}
    fixed_items = {d: (d, v) for d, v in fixed.items()}
    slots = [(fixed_items.get(n), where.get(n)) for n in names]

    def identity(values: Sequence[Hashable]) -> tuple:
        return tuple(
            item if item is not None else (names[n], values[at]) for n, (item, at) in enumerate(slots)
        )

    return identity


def _plain(value: Hashable) -> Hashable:
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class _Totals:
    """The totals of one margin: group labels, sums and member indices (frames are built on demand)."""

    labels: list[tuple]
    sums: list[int]
    members: np.ndarray

    def frame(self, margin: tuple[str, ...], value: str, hidden: np.ndarray) -> pd.DataFrame:
        if not margin:  # the grand total: one row, 0 for an empty table
            return _shown(
                pd.DataFrame({value: [sum(self.sums)]}),
                value,
                hidden[self.members][:1] if self.sums else [False],
            )
        table = pd.DataFrame(self.labels, columns=list(margin))
        table[value] = np.array(self.sums, dtype=np.int64)
        return _shown(table, value, hidden[self.members])


@dataclass
class _Layout:
    cells: np.ndarray  # member index of each row
    totals: dict[tuple[str, ...], _Totals]


def _check(table: Linked, name: str) -> None:
    columns = set(table.frame.columns)
    missing = [c for c in (*table.keys, table.value) if c not in columns]
    if missing:
        raise ValueError(f"table {name!r} has no column {missing[0]!r}")
    for margin in table.margins:
        if not set(margin) <= set(table.keys):
            raise ValueError(f"table {name!r}: margin {margin} is not made of its keys {table.keys}")
    values = table.frame[table.value].to_numpy()
    if values.dtype.kind not in "iu" and (pd.isna(values).any() or values.dtype.kind not in "f"):
        raise ValueError(f"table {name!r}: {table.value} must be counts (no missing or negative values)")
    if len(values) and values.min() < 0:
        raise ValueError(f"table {name!r}: {table.value} must be counts (no missing or negative values)")


def protect_linked(tables: Mapping[str, Linked], k: K = DEFAULT_K) -> dict[str, Protected]:
    """Protect tables that share members together (see the module's docstring); ``k`` is one k or per stream.

    A table's rows need not include zeros; its totals are the sums of its rows.
    """
    members = _Members(k)
    equations: list[np.ndarray] = []
    layouts: dict[str, _Layout] = {}
    for name, table in tables.items():
        _check(table, name)
        layouts[name] = _layout(name, table, members, equations)
    values = np.array(members.values, dtype=np.int64)
    thresholds = np.array(members.thresholds, dtype=np.int64)
    primary = (values >= 1) & (values < thresholds)
    hidden = complementary(values, primary, equations, level=members.levels(), thresholds=thresholds)
    return {name: _result(tables[name], layouts[name], hidden) for name in tables}


def _layout(name: str, table: Linked, members: _Members, equations: list[np.ndarray]) -> _Layout:
    frame = table.frame
    fixed = {d: _plain(v) for d, v in table.fixed.items()}
    stream_fixed = [fixed["stream"]] if "stream" in fixed else None

    def dims(columns: Sequence[str]) -> list[str]:
        return [table.dims.get(c, c) for c in columns]

    key_rows = (
        list(zip(*(frame[c].tolist() for c in table.keys), strict=True)) if table.keys else [()] * len(frame)
    )
    if len(set(key_rows)) != len(key_rows):
        raise ValueError(f"table {name!r}: two rows have the same {', '.join(table.keys)}")
    streams = frame["stream"].tolist() if "stream" in table.keys else (stream_fixed or [None]) * len(frame)
    values = frame[table.value].to_numpy(dtype=np.int64)
    thresholds = {s: members.threshold([s]) for s in set(streams)}
    cell_identity = _identifier(fixed, dims(table.keys))
    cells = np.array(
        [
            members.add(cell_identity(key), v, thresholds[s])
            for key, v, s in zip(key_rows, values.tolist(), streams, strict=True)
        ],
        dtype=np.int64,
    )
    # Each margin's totals, and which rows (cells) fall in each total's group.
    position = {c: i for i, c in enumerate(table.keys)}
    groups: dict[tuple[str, ...], dict[tuple, list[int]]] = {}
    totals: dict[tuple[str, ...], _Totals] = {}
    for margin in map(tuple, table.margins):
        group: dict[tuple, list[int]] = {}
        for row, key in enumerate(key_rows):
            group.setdefault(tuple(key[position[c]] for c in margin), []).append(row)
        groups[margin] = group
        total_identity = _identifier(fixed, dims(margin))
        sums = [int(values[rows].sum()) for rows in group.values()]
        index = [
            members.add(
                total_identity(label),
                total,
                members.threshold(stream_fixed or sorted({streams[r] for r in rows})),
            )
            for (label, rows), total in zip(group.items(), sums, strict=True)
        ]
        totals[margin] = _Totals(list(group), sums, np.array(index, dtype=np.int64))
        # The total equals the sum of its cells ...
        for at, rows in zip(index, group.values(), strict=True):
            equations.append(np.array([at, *cells[rows]], dtype=np.int64))
    # ... and the sum of the totals of any finer margin inside it.
    for coarse in groups:
        for fine in groups:
            if set(coarse) < set(fine):
                fine_index = totals[fine].members
                fine_labels = list(groups[fine])
                inside: dict[tuple, list[int]] = {}
                for i, label in enumerate(fine_labels):
                    inside.setdefault(tuple(label[fine.index(c)] for c in coarse), []).append(fine_index[i])
                coarse_labels = list(groups[coarse])
                for label, parts in inside.items():
                    at = totals[coarse].members[coarse_labels.index(label)]
                    equations.append(np.array([at, *parts], dtype=np.int64))
    return _Layout(cells=cells, totals=totals)


def _shown(frame: pd.DataFrame, value: str, hidden: np.ndarray) -> pd.DataFrame:
    hidden = np.asarray(hidden, dtype=bool)
    shown = pd.arrays.IntegerArray(frame[value].to_numpy(dtype=np.int64), hidden.copy())
    # Cell keys never leave: with the perturbation table they would give the noise away.
    columns = {
        c: shown if c == value else frame[c]
        for c in frame.columns
        if c != SUPPRESSED and not c.endswith(CKEY)
    }
    return pd.DataFrame({**columns, SUPPRESSED: hidden}, index=frame.index, copy=False)


def _result(table: Linked, layout: _Layout, hidden: np.ndarray) -> Protected:
    cells = _shown(table.frame.reset_index(drop=True), table.value, hidden[layout.cells])
    return Protected(cells=cells, value=table.value, _totals=layout.totals, _hidden=hidden)


def protect(
    table: pd.DataFrame,
    keys: Sequence[str] | None = None,
    margins: Sequence[Sequence[str]] = ((),),
    *,
    value: str = "value",
    k: K = DEFAULT_K,
) -> Protected:
    """Protect one table: cells and published totals (``margins``, see ``Linked``).

    ``keys`` default to every column but ``value``. ``k`` is one k, or a mapping from stream to k read from
    the table's ``stream`` column (use ``k_by_stream(operator_k)``).
    """
    keys = tuple(c for c in table.columns if c != value) if keys is None else tuple(keys)
    linked = Linked(frame=table, keys=keys, margins=tuple(tuple(m) for m in margins), value=value)
    return protect_linked({"table": linked}, k)["table"]


def suppress(
    table: pd.DataFrame,
    value: str = "value",
    *,
    k: K = DEFAULT_K,
    margins: Sequence[Sequence[str]] = ((),),
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``table`` with ``value`` hidden (NA) where it is from 1 to k-1 or could reveal such a count through
    one of the published ``margins`` (default: the grand total), and a boolean ``suppressed`` column."""
    return protect(table, keys, margins, value=value, k=k).cells
