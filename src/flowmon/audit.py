"""``flowmon audit``: attack the store's own protected release, and report what an attacker gets.

The evidence for a data protection officer. The audit plays a viewer who may request every view the query
space allows (a calendar month, quarter, half-year or year; office, state, nationality, sex and age group
each one value or all; every table a view shows) and combine them. It

1. draws views (``--budget N`` of them, seeded; ``--budget all`` for every non-empty view) the way a viewer
   would reach them: around a random record, each filter set to that record's value or left at all;
2. takes their small cells (a true count from 1 to k-1) as targets, per stream;
3. attacks each target with everything the query space offers around it:
   - *differencing*: for each filter or table dimension of the cell, its parent (that dimension at all; a
     month's quarter, half-year, year) minus its siblings (the other values), and *chains* of two such steps
     (a year minus the other quarters minus the other months of the quarter);
   - *averaging*: every estimate of the cell (the published number and all differences), combined by
     inverse-variance weights, rounded and kept inside what the published number allows;
   - *linear-programming bounds* (``scipy.optimize.linprog``): the lowest and highest true count consistent
     with every published number involved (each true count lies in the range its published number can come
     from, read from the perturbation table) and every additive relation between them;
4. reports per stream: small cells audited, disclosed exactly (the bounds meet), narrowed below width k
   (fewer than k counts left possible), the attacker's hit rate (rounded estimate equal to the truth), and the
   cost to users: the error of published numbers by size band (1-9, 10-99, 100+) and of the KPIs (stream
   totals).

A published cell is ``privacy.release`` of the count of the records a view selects, with their cell key: the
number the dashboard, the exports and the CLI show, since it depends on the record set only.

An empty group is published as 0, like a small one the table rounds down: in the bounds an attacker can only
allow each 0 from 0 to the most a published 0 can hide, unless the group is known to be empty without the
data (an office outside the states it serves). The report also gives the bounds of a stronger attacker who
is told every empty group.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from flowmon import aggregate, privacy, ptable, recordkeys, schema, store

PERIOD_KINDS = ("month", "quarter", "half", "year")
# Month ordinal -> period ordinal of each kind; a kind's parent kind.
_PARENT_KIND = {"month": "quarter", "quarter": "half", "half": "year"}
FILTER_DIMS = ("office", "state_pcode", "nationality", "sex", "age_group")
# Dimensions a view only tabulates (one at a time); nationality is both (a table lists every nationality, the
# filter offers only those with at least k people).
TABLE_DIMS = ("category", "referred_to", "destination")
DIMS = (*FILTER_DIMS, *TABLE_DIMS)
_ONLY_STREAM = {"referred_to": "referral", "destination": "return"}
BANDS = ((1, 9), (10, 99), (100, None))
TARGETS = {
    "disclosed_exactly": 0,
    "narrowed_share": 0.01,
    "hit_rate": 0.35,
    "within_3pct_100plus": 0.95,
    # A KPI of 100 moved by 2 is 2% off: "within 1%" is read as the mean relative error of KPIs of 100+.
    "kpi_mean_error": 0.01,
}
DEFAULT_BUDGET = 400
DEFAULT_DEPTH = 2


def _kind_ordinals(months: np.ndarray, kind: str) -> np.ndarray:
    if kind == "month":
        return months
    if kind == "quarter":
        return months // 3
    if kind == "half":
        return months // 6
    return months // 12


def _months_in(kind: str, ordinal: int, sub: str) -> list[int]:
    """Ordinals of the ``sub`` periods inside the ``kind`` period ``ordinal``."""
    size = {"month": 1, "quarter": 3, "half": 6, "year": 12}
    first = ordinal * size[kind]
    return sorted({m // size[sub] for m in range(first, first + size[kind])})


def period_label(kind: str, ordinal: int) -> str:
    if kind == "month":
        return str(pd.Period(ordinal=ordinal, freq="M"))
    if kind == "quarter":
        return f"{1970 + ordinal // 4}-Q{ordinal % 4 + 1}"
    if kind == "half":
        return f"{1970 + ordinal // 2}-H{ordinal % 2 + 1}"
    return str(1970 + ordinal)


# A cell: (stream, period kind, period ordinal, ((dim, code), ...) sorted by dim order).
Cell = tuple


@dataclass
class Cube:
    """The events as integer codes, and every cell a view can publish, counted on demand."""

    events: pd.DataFrame
    k: Mapping[str, int]
    data_dir: Path | None = None
    _patterns: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        ev = self.events
        if recordkeys.RECORD_KEY not in ev.columns:
            raise ValueError("audit: the events have no record keys (load them with flowmon.store)")
        self.vocab = {d: tuple(schema.vocabulary(d)) for d in DIMS}
        self.vocab["referred_to"] = (*schema.REFERRAL_SERVICES, aggregate.NOT_RECORDED)
        self.codes = {}
        for d in DIMS:
            codes = aggregate._codes(ev[d], schema.vocabulary(d)).astype(np.int64)
            if d == "referred_to":  # a referral without a service is counted as "not recorded"
                codes = np.where(codes < 0, len(schema.REFERRAL_SERVICES), codes)
            self.codes[d] = codes
        self.stream = aggregate._codes(ev["stream"], schema.STREAMS).astype(np.int64)
        self.months = aggregate._months_of(ev).astype(np.int64)
        self.count = ev["count"].to_numpy(dtype=np.int64)
        self.key_weight = ev[recordkeys.RECORD_KEY].to_numpy(dtype=np.int64) * self.count
        self.tables = {s: ptable.load(self.k[s], self.data_dir) for s in schema.STREAMS}
        # Offices serve known states (public): an office with a state it never had is a known empty group.
        self.office_states = frozenset(
            zip(self.codes["office"].tolist(), self.codes["state_pcode"].tolist(), strict=True)
        )
        self.stream_categories = {
            s: frozenset(self.vocab["category"].index(c) for c in schema.CATEGORIES[name])
            for s, name in enumerate(schema.STREAMS)
        }
        totals = pd.Series(self.count).groupby(self.codes["nationality"]).sum()
        floor = max(self.k[s] for s in schema.STREAMS)
        self.nationality_options = frozenset(int(c) for c, n in totals.items() if n >= floor)

    # -- counting

    def _pattern(self, kind: str, dims: tuple[str, ...]):
        """Every non-empty cell of one shape: sorted combined codes, true counts and cell keys."""
        key = (kind, dims)
        if key not in self._patterns:
            rows = np.ones(len(self.count), dtype=bool)
            for d in dims:
                if d in _ONLY_STREAM:
                    rows &= self.stream == schema.STREAMS.index(_ONLY_STREAM[d])
                rows &= self.codes[d] >= 0
            combined = self._combine(
                self.stream[rows],
                _kind_ordinals(self.months[rows], kind),
                [self.codes[d][rows] for d in dims],
                dims,
            )
            uniques, inverse = np.unique(combined, return_inverse=True)
            counts = np.bincount(inverse, weights=self.count[rows], minlength=len(uniques))
            keys = np.bincount(inverse, weights=self.key_weight[rows], minlength=len(uniques))
            self._patterns[key] = (
                uniques,
                np.rint(counts).astype(np.int64),
                (np.rint(keys).astype(np.int64) % recordkeys.KEY_RANGE),
            )
        return self._patterns[key]

    def _radix(self, dims: tuple[str, ...]) -> list[int]:
        return [len(self.vocab[d]) for d in dims]

    def _combine(self, stream, period, codes: Sequence, dims: tuple[str, ...]) -> np.ndarray:
        combined = np.asarray(stream, dtype=np.int64) * 100_000 + np.asarray(period, dtype=np.int64)
        for values, size in zip(codes, self._radix(dims), strict=True):
            combined = combined * size + np.asarray(values, dtype=np.int64)
        return combined

    def lookup(self, cells: Sequence[Cell]) -> tuple[np.ndarray, np.ndarray]:
        """True counts and published counts of ``cells`` (0 and 0 for an empty cell)."""
        true = np.zeros(len(cells), dtype=np.int64)
        published = np.zeros(len(cells), dtype=np.int64)
        groups: dict[tuple, list[int]] = {}
        for at, cell in enumerate(cells):
            groups.setdefault((cell[1], tuple(d for d, _ in cell[3])), []).append(at)
        for (kind, dims), positions in groups.items():
            uniques, counts, keys = self._pattern(kind, dims)
            chosen = [cells[p] for p in positions]
            combined = self._combine(
                [c[0] for c in chosen],
                [c[2] for c in chosen],
                [[dict(c[3])[d] for c in chosen] for d in dims],
                dims,
            )
            where = np.searchsorted(uniques, combined)
            where = np.minimum(where, max(len(uniques) - 1, 0))
            found = (uniques[where] == combined) if len(uniques) else np.zeros(len(combined), dtype=bool)
            index = np.asarray(positions)
            true[index[found]] = counts[where[found]]
            stream_codes = np.array([c[0] for c in chosen])
            for s, name in enumerate(schema.STREAMS):
                pick = found & (stream_codes == s)
                if pick.any():
                    published[index[pick]] = self.tables[name].perturb(counts[where[pick]], keys[where[pick]])
        return true, published

    # -- the query space

    def publishable(self, cell: Cell) -> bool:
        dims = dict(cell[3])
        table_only = [d for d in TABLE_DIMS if d in dims]
        nationality_as_table = "nationality" in dims and dims["nationality"] not in self.nationality_options
        if len(table_only) + nationality_as_table > 1:
            return False
        return all(
            _ONLY_STREAM.get(d, schema.STREAMS[cell[0]]) == schema.STREAMS[cell[0]] for d in table_only
        )

    def known_empty(self, cell: Cell) -> bool:
        """Whether anyone can tell the cell is empty without the data: an office outside its states."""
        dims = dict(cell[3])
        if "office" in dims and "state_pcode" in dims:
            return (dims["office"], dims["state_pcode"]) not in self.office_states
        return False

    def relations(self, cell: Cell) -> list[tuple[Cell, list[Cell]]]:
        """Each way the query space splits a published parent into ``cell`` and its siblings."""
        stream, kind, ordinal, fixed = cell
        out = []
        for at, (d, value) in enumerate(fixed):
            parent = (stream, kind, ordinal, fixed[:at] + fixed[at + 1 :])
            values = self.stream_categories[stream] if d == "category" else range(len(self.vocab[d]))
            siblings = [
                (stream, kind, ordinal, (*fixed[:at], (d, v), *fixed[at + 1 :])) for v in values if v != value
            ]
            out.append((parent, siblings))
        if kind in _PARENT_KIND:
            coarser = kind
            while coarser in _PARENT_KIND:
                coarser = _PARENT_KIND[coarser]
                parent_ordinal = _kind_ordinals(np.array([ordinal * _size(kind)]), coarser)[0] // 1
                parent_ordinal = int(ordinal * _size(kind) // _size(coarser))
                inside = _months_in(coarser, parent_ordinal, kind)
                siblings = [(stream, kind, o, fixed) for o in inside if o != ordinal]
                out.append(((stream, coarser, parent_ordinal, fixed), siblings))
        return out


def _size(kind: str) -> int:
    return {"month": 1, "quarter": 3, "half": 6, "year": 12}[kind]


# ---------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class View:
    kind: str
    ordinal: int
    filters: tuple[tuple[str, int], ...]  # (dim, code) for the filters not at "all"

    def label(self, cube: Cube) -> str:
        parts = [f"period={period_label(self.kind, self.ordinal)}"]
        parts += [f"{d}={cube.vocab[d][v]}" for d, v in self.filters]
        return "&".join(parts)


def sample_views(cube: Cube, budget: int | None, seed: int) -> list[View]:
    """Views around random records (each filter that record's value or all); None: every non-empty view."""
    rng = np.random.default_rng(seed)
    n = len(cube.count)
    if n == 0:
        return []
    views: dict[View, None] = {}
    if budget is None:
        for row in range(n):
            for kind in PERIOD_KINDS:
                for mask in itertools.product((False, True), repeat=len(FILTER_DIMS)):
                    views[_view_of(cube, row, kind, mask)] = None
        return list(views)
    attempts = 0
    while len(views) < budget and attempts < 50 * budget:
        attempts += 1
        row = int(rng.integers(n))
        kind = PERIOD_KINDS[int(rng.integers(len(PERIOD_KINDS)))]
        mask = rng.random(len(FILTER_DIMS)) < 0.5
        views[_view_of(cube, row, kind, mask)] = None
    return list(views)


def _view_of(cube: Cube, row: int, kind: str, mask) -> View:
    filters = []
    for d, keep in zip(FILTER_DIMS, mask, strict=True):
        value = int(cube.codes[d][row])
        if keep and (d != "nationality" or value in cube.nationality_options):
            filters.append((d, value))
    ordinal = int(_kind_ordinals(np.array([cube.months[row]]), kind)[0])
    return View(kind, ordinal, tuple(filters))


def view_cells(cube: Cube, view: View) -> list[Cell]:
    """The cells a view publishes: its KPIs, one table per dimension it does not fix and the return flows
    (origin by destination), per stream, and the months of its trend."""
    fixed = dict(view.filters)
    cells = []
    for s, stream in enumerate(schema.STREAMS):
        base = tuple((d, fixed[d]) for d in DIMS if d in fixed)
        cells.append((s, view.kind, view.ordinal, base))
        for d in DIMS:
            if d in fixed or (d in _ONLY_STREAM and _ONLY_STREAM[d] != stream):
                continue
            for v in range(len(cube.vocab[d])):
                fixed_d = {**fixed, d: v}
                cells.append(
                    (s, view.kind, view.ordinal, tuple((x, fixed_d[x]) for x in DIMS if x in fixed_d))
                )
        # Return flows: from each state (or office) to each country.
        if stream == "return" and "destination" not in fixed:
            for origin in ("state_pcode", "office"):
                if origin in fixed:
                    continue
                for o, v in itertools.product(
                    range(len(cube.vocab[origin])), range(len(cube.vocab["destination"]))
                ):
                    pair = {**fixed, origin: o, "destination": v}
                    cells.append((s, view.kind, view.ordinal, tuple((x, pair[x]) for x in DIMS if x in pair)))
        # The trend: the months (or quarters) of the period.
        if view.kind != "month":
            for o in _months_in(view.kind, view.ordinal, "month"):
                cells.append((s, "month", o, base))
    return [c for c in cells if cube.publishable(c)]


# ---------------------------------------------------------------------------------------------- attacks


@dataclass
class Known:
    """What the attacker has collected: published numbers (and, for scoring only, the truth)."""

    cube: Cube
    true: dict = field(default_factory=dict)
    published: dict = field(default_factory=dict)

    def fetch(self, cells: Sequence[Cell]) -> None:
        new = [c for c in dict.fromkeys(cells) if c not in self.published]
        if not new:
            return
        true, published = self.cube.lookup(new)
        for c, t, p in zip(new, true.tolist(), published.tolist(), strict=True):
            self.true[c] = t
            self.published[c] = p


def _noise_variance(table: ptable.PTable) -> float:
    return float(table.noise[-1].var())


@dataclass
class TargetResult:
    stream: str
    true: int
    published: int
    estimate: dict[str, int]
    low: int | None
    high: int | None
    estimates: int
    told_low: int | None = None
    told_high: int | None = None


def attack(known: Known, target: Cell, depth: int, lp: bool) -> TargetResult:
    cube = known.cube
    stream = schema.STREAMS[target[0]]
    table = cube.tables[stream]
    variance = _noise_variance(table)
    # Every relation usable around the target, to the given depth: (parent, siblings) with all published.
    relations = []
    frontier = [(target, 0)]
    seen = {target}
    while frontier:
        cell, level = frontier.pop()
        if level >= depth:
            continue
        for parent, siblings in cube.relations(cell):
            if not cube.publishable(parent) or not all(cube.publishable(s) for s in siblings):
                continue
            known.fetch([parent, *siblings])
            nonzero = [s for s in siblings if known.true[s] > 0]
            # Empty siblings published as 0: the attacker cannot tell them from small ones, unless the group
            # is known to be empty (an office outside its states).
            unknown_zeros = sum(
                1
                for s in siblings
                if known.true[s] == 0 and known.published[s] == 0 and not cube.known_empty(s)
            )
            relations.append((cell, parent, nonzero, unknown_zeros))
            if parent not in seen:
                seen.add(parent)
                frontier.append((parent, level + 1))
    # Estimates: the published number, and differences (chains through estimates of the parent).
    estimates = {target: [(float(known.published[target]), variance)]}
    for cell, parent, siblings, _ in relations:
        parent_estimates = [(float(known.published[parent]), variance)]
        rest = sum(known.published[s] for s in siblings)
        spread = variance * len(siblings)
        for value, var in parent_estimates + _chains(relations, parent, known, variance, cell):
            estimates.setdefault(cell, []).append((value - rest, var + spread))
    values = np.array([v for v, _ in estimates[target]])
    weights = 1.0 / np.array([w for _, w in estimates[target]])
    lo_p, hi_p = (int(x[0]) for x in table.bounds(np.array([known.published[target]])))
    # Three ways to combine them; the attacker is credited with whichever hits most often (per stream).
    guesses = {
        "weighted": values @ weights / weights.sum(),
        "mean": values.mean(),
        "median": float(np.median(values)),
    }
    guess = {name: int(np.clip(np.rint(g), lo_p, hi_p)) for name, g in guesses.items()}
    low = high = told_low = told_high = None
    if lp:
        low, high = _lp_bounds(known, target, relations, table, told_empty=False)
        told_low, told_high = _lp_bounds(known, target, relations, table, told_empty=True)
    return TargetResult(
        stream,
        known.true[target],
        known.published[target],
        guess,
        low,
        high,
        len(values),
        told_low,
        told_high,
    )


def _chains(
    relations, parent: Cell, known: Known, variance: float, exclude: Cell
) -> list[tuple[float, float]]:
    """Estimates of ``parent`` from its own parents (one step further), not going back down to ``exclude``."""
    out = []
    for cell, grand, siblings, _ in relations:
        if cell != parent or exclude in siblings:
            continue
        rest = sum(known.published[s] for s in siblings)
        out.append((known.published[grand] - rest, variance * (1 + len(siblings))))
    return out


def _lp_bounds(
    known: Known, target: Cell, relations, table: ptable.PTable, *, told_empty: bool
) -> tuple[int, int]:
    """The lowest and highest true count of ``target`` consistent with every published number involved.

    Each relation is parent = cell + its non-empty siblings + the empty siblings published as 0, which the
    attacker can only bound (0 to the most a published 0 can hide, each) unless ``told_empty`` (the
    conservative variant: the attacker knows which groups are empty).
    """
    from scipy.optimize import linprog

    cells = list(dict.fromkeys([target, *(c for r in relations for c in (r[0], r[1], *r[2]))]))
    index = {c: i for i, c in enumerate(cells)}
    published = np.array([known.published[c] for c in cells])
    lo, hi = table.bounds(published)
    zero_high = float(table.bounds(np.array([0]))[1][0])
    slack = [] if told_empty else [r[3] * zero_high for r in relations]
    width = len(cells) + len(slack)
    rows = []
    for at, (cell, parent, siblings, _) in enumerate(relations):
        row = np.zeros(width)
        row[index[parent]] = 1.0
        row[index[cell]] -= 1.0
        for s in siblings:
            row[index[s]] -= 1.0
        if slack:
            row[len(cells) + at] = -1.0
        rows.append(row)
    equalities = np.array(rows) if rows else None
    rhs = np.zeros(len(rows)) if rows else None
    bounds = list(zip(lo.astype(float), hi.astype(float), strict=True)) + [(0.0, s) for s in slack]
    objective = np.zeros(width)
    found = []
    for sign in (1.0, -1.0):
        objective[0] = sign
        result = linprog(objective, A_eq=equalities, b_eq=rhs, bounds=bounds, method="highs")
        if not result.success:  # cannot happen with true values feasible; be loud if it does
            raise RuntimeError(f"audit: the bounds problem of a cell has no solution ({result.message})")
        found.append(sign * result.fun)
    return int(np.ceil(found[0] - 1e-6)), int(np.floor(found[1] + 1e-6))


# ---------------------------------------------------------------------------------------------- the audit


def run_audit(
    events: pd.DataFrame,
    *,
    operator_k: privacy.OperatorK = None,
    budget: int | None = DEFAULT_BUDGET,
    seed: int = 0,
    depth: int = DEFAULT_DEPTH,
    lp_budget: int | None = 2000,
    data_dir: Path | None = None,
) -> dict:
    """Attack the release of ``events`` (with record keys); the report as a dict (see ``format_report``)."""
    started = time.perf_counter()
    k = {s: privacy.k_for(s, operator_k) for s in schema.STREAMS}
    cube = Cube(aggregate.prepare(events), k, data_dir)
    views = sample_views(cube, budget, seed)
    known = Known(cube)
    cells: dict[Cell, None] = {}
    for view in views:
        # Empty cells are neither targets nor part of the accuracy figures: keep the others only.
        candidates = [c for c in view_cells(cube, view) if c not in known.published]
        true, published = cube.lookup(candidates)
        for c, t, p in zip(candidates, true.tolist(), published.tolist(), strict=True):
            if t or p:
                known.true[c], known.published[c] = t, p
                cells[c] = None
    cells = list(cells)
    targets = [c for c in cells if 1 <= known.true[c] < k[schema.STREAMS[c[0]]]]
    rng = np.random.default_rng(seed + 1)
    lp_targets = set(targets)
    if lp_budget is not None and len(targets) > lp_budget:
        lp_targets = {targets[i] for i in rng.choice(len(targets), lp_budget, replace=False)}
    results = [attack(known, t, depth, t in lp_targets) for t in targets]
    report = {
        "views": len(views),
        "budget": "all" if budget is None else budget,
        "seed": seed,
        "depth": depth,
        "k": k,
        "ptables": {s: cube.tables[s].source for s in schema.STREAMS},
        "streams": {},
    }
    for s, stream in enumerate(schema.STREAMS):
        mine = [r for r in results if r.stream == stream]
        bounded = [r for r in mine if r.low is not None]
        stream_cells = [c for c in cells if c[0] == s]
        true = np.array([known.true[c] for c in stream_cells], dtype=np.int64)
        published = np.array([known.published[c] for c in stream_cells], dtype=np.int64)
        kpi = np.array([len(c[3]) == 0 for c in stream_cells], dtype=bool)
        report["streams"][stream] = {
            "k": k[stream],
            "cells": len(stream_cells),
            "small_cells": len(mine),
            "published_in_1_to_k_minus_1": int(((published >= 1) & (published < k[stream])).sum()),
            "lp_audited": len(bounded),
            "disclosed_exactly": sum(r.low == r.high for r in bounded),
            "narrowed_below_k": sum(r.high - r.low + 1 < k[stream] for r in bounded),
            "narrowed_share": _share(sum(r.high - r.low + 1 < k[stream] for r in bounded), len(bounded)),
            "median_width": float(np.median([r.high - r.low + 1 for r in bounded])) if bounded else None,
            "truth_outside_bounds": sum(not (r.low <= r.true <= r.high) for r in bounded),
            "told_empty": {
                "disclosed_exactly": sum(r.told_low == r.told_high for r in bounded),
                "narrowed_below_k": sum(r.told_high - r.told_low + 1 < k[stream] for r in bounded),
                "narrowed_share": _share(
                    sum(r.told_high - r.told_low + 1 < k[stream] for r in bounded), len(bounded)
                ),
            },
            "hit_rate_by_method": {
                m: _share(sum(r.estimate[m] == r.true for r in mine), len(mine))
                for m in ("weighted", "mean", "median")
            },
            "hit_rate": max(
                (_share(sum(r.estimate[m] == r.true for r in mine), len(mine)) or 0.0)
                for m in ("weighted", "mean", "median")
            )
            if mine
            else None,
            "published_hit_rate": _share(sum(r.published == r.true for r in mine), len(mine)),
            "median_estimates_per_cell": float(np.median([r.estimates for r in mine])) if mine else None,
            "utility": _utility(true, published, kpi),
        }
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["pass"] = _verdict(report)
    return report


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _utility(true: np.ndarray, published: np.ndarray, kpi: np.ndarray) -> dict:
    out = {}
    error = np.abs(published - true)
    for low, high in BANDS:
        band = (true >= low) & (true <= (high if high is not None else np.iinfo(np.int64).max))
        name = f"{low}-{high}" if high is not None else f"{low}+"
        relative = error[band] / true[band]
        out[name] = {
            "cells": int(band.sum()),
            "mean_abs_error": round(float(error[band].mean()), 3) if band.any() else None,
            "max_abs_error": int(error[band].max()) if band.any() else None,
            "within_3pct": round(float((relative <= 0.03).mean()), 4) if band.any() else None,
        }
    big_kpi = kpi & (true >= 100)
    relative = error[big_kpi] / true[big_kpi]
    out["kpi_100+"] = {
        "cells": int(big_kpi.sum()),
        "mean_relative_error": round(float(relative.mean()), 5) if big_kpi.any() else None,
        "within_1pct": round(float((relative <= 0.01).mean()), 4) if big_kpi.any() else None,
        "max_relative_error": round(float(relative.max()), 4) if big_kpi.any() else None,
    }
    return out


def _verdict(report: dict) -> dict:
    checks = {}
    for stream, r in report["streams"].items():
        utility = r["utility"]
        checks[stream] = {
            "disclosed_exactly": r["disclosed_exactly"] <= TARGETS["disclosed_exactly"],
            "narrowed": (r["narrowed_share"] or 0.0) <= TARGETS["narrowed_share"],
            "hit_rate": (r["hit_rate"] or 0.0) <= TARGETS["hit_rate"],
            "within_3pct_100plus": (utility["100+"]["within_3pct"] or 1.0) >= TARGETS["within_3pct_100plus"],
            "no_small_published": r["published_in_1_to_k_minus_1"] == 0,
            "kpi_error": (utility["kpi_100+"]["mean_relative_error"] or 0.0) <= TARGETS["kpi_mean_error"],
        }
    return checks


def format_report(report: dict) -> str:
    lines = [
        f"flowmon audit: {report['views']} views (budget {report['budget']}, seed {report['seed']}), "
        f"chains of {report['depth']} steps, {report['seconds']} s",
    ]
    for stream, r in report["streams"].items():
        u = r["utility"]
        lines += [
            f"{stream} (k = {r['k']}, {report['ptables'][stream]})",
            f"  small cells audited {r['small_cells']:,} (bounds for {r['lp_audited']:,}); disclosed exactly "
            f"{r['disclosed_exactly']}; narrowed below width {r['k']}: {r['narrowed_below_k']} "
            f"({_percent(r['narrowed_share'])}); median width {r['median_width']}",
            f"  if told which groups are empty: disclosed exactly {r['told_empty']['disclosed_exactly']}; "
            f"narrowed {r['told_empty']['narrowed_below_k']} ({_percent(r['told_empty']['narrowed_share'])})",
            f"  attacker's hit rate {_percent(r['hit_rate'])} (best of "
            + ", ".join(f"{m} {_percent(v)}" for m, v in r["hit_rate_by_method"].items())
            + ")",
            f"  published number equal to the truth: {_percent(r['published_hit_rate'])}; median "
            f"{r['median_estimates_per_cell']} estimates a cell",
            "  error by size: "
            + "; ".join(
                f"{band} mean {v['mean_abs_error']} max {v['max_abs_error']} ({v['cells']:,} cells)"
                for band, v in u.items()
                if band != "kpi_100+"
            ),
            f"  100+ within 3%: {_percent(u['100+']['within_3pct'])}; KPIs of 100+: mean error "
            f"{_percent(u['kpi_100+']['mean_relative_error'], 2)}, within 1% "
            f"{_percent(u['kpi_100+']['within_1pct'])} ({u['kpi_100+']['cells']} KPIs)",
        ]
        failed = [name for name, ok in report["pass"][stream].items() if not ok]
        lines.append("  targets: " + ("all met" if not failed else "NOT MET: " + ", ".join(failed)))
    return "\n".join(lines)


def _percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


# ---------------------------------------------------------------------------------------------- the CLI


def _budget(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError("--budget is a number of views, or all") from error
    if value < 1:
        raise argparse.ArgumentTypeError("--budget must be at least 1")
    return value


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "audit",
        parents=[common],
        help="attack the store's own protected release and report disclosure and accuracy",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument(
        "--budget",
        type=_budget,
        default=DEFAULT_BUDGET,
        metavar="N",
        help=f"views to draw (default {DEFAULT_BUDGET}; 'all' for every non-empty view, slow)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawing of views (default 0)")
    parser.add_argument("--depth", type=int, default=DEFAULT_DEPTH, help="steps of differencing chains")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the report as JSON to FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir = store.resolve_data_dir(args.data_dir)
    if not store.table_path(data_dir, "events").exists():
        raise FileNotFoundError(f"{data_dir}: no events stored (flowmon demo or flowmon ingest first)")
    events = store.load_table(data_dir, "events")
    report = run_audit(events, budget=args.budget, seed=args.seed, depth=args.depth, data_dir=data_dir)
    print(format_report(report))
    if args.json:
        store.write_text_atomic(args.json, json.dumps(report, indent=2) + "\n")
        print(f"written {args.json}")
    return 0 if all(all(c.values()) for c in report["pass"].values()) else 1
