"""Make a perturbation table (p-table) for the cell key method: ``python -m flowmon.ptable.make_ptable``.

The table says, for a cell's true count ``pcv`` and its cell key ``ckey`` (0..255), how much to add
(``pvalue``): the columns and the row layout of the ONS reference implementation (``cell-key-perturbation``:
rows for counts 1..750; larger counts reuse rows 501..750). A count of 0 has no row: it stays 0.

How each row is made (the design of Giessing's maximum-entropy p-tables, as in the ``ptable`` R package
used with the ABS and Eurostat cell key method):

* the published count j of a true count i is in ``[max(0, i - D), i + D]`` and never from 1 to k-1; a
  count below k may also become 0;
* its mean is i (no bias) and its variance V, where the row allows it; the first rows cannot have both
  (a count of 1 published as 0 or at least k has a larger variance; a count of k cannot go lower, so it is
  published as it is), and take the variance closest to V they can;
* every possible j gets at least one of the 256 keys, so the noise of a cell can be as large as D: an
  attacker who combines tables must allow for all of it, which keeps the intervals they can prove wide;
* among such rows, the one of maximum entropy (the least informative);
* probabilities are turned into 256 keys per row (ckeys in ascending order of the published count) and the
  keys are adjusted so that the mean stays i exactly wherever the row's range allows.

Parameters (the operator's; DEFAULTS are the shipped tables): ``k`` (smallest count that may be published
apart from 0), ``D`` (maximum noise), ``V`` (variance of the noise of counts well above k). Larger D and V
protect more and cost more accuracy; ``flowmon audit`` measures both on the operator's own data. Write a
table next to the store (``<data dir>/ptable/ptable_k<k>.csv``) and flowmon uses it instead of the
shipped one.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from flowmon.ptable import KEY_RANGE, MAX_PCV


@dataclass(frozen=True)
class Parameters:
    k: int
    D: int
    V: float

    def __post_init__(self) -> None:
        if self.k < 2:
            raise ValueError(f"k must be at least 2 (got {self.k})")
        if self.D < 1 or self.D > 60:
            raise ValueError(f"D (maximum noise) must be from 1 to 60 (got {self.D})")
        if not 0 < self.V <= self.D**2:
            raise ValueError(f"V (variance) must be above 0 and at most D squared (got {self.V})")


# The shipped tables: k = 5 (caseload, returns) and k = 11 (trafficking referrals, as CTDC publishes).
DEFAULTS: dict[int, Parameters] = {
    5: Parameters(k=5, D=6, V=2.0),
    11: Parameters(k=11, D=8, V=2.5),
}


def default_parameters(k: int) -> Parameters:
    """The shipped parameters of ``k``, or for another k (an operator's higher one) D = k - 3, V = 2.5."""
    return DEFAULTS.get(k) or Parameters(k=k, D=max(6, k - 3), V=2.5)


def support(i: int, p: Parameters) -> np.ndarray:
    """The counts a true count ``i`` may be published as (a count below k may always become 0)."""
    j = np.arange(0 if i < p.k else max(0, i - p.D), i + p.D + 1)
    return j[(j == 0) | (j >= p.k)]


def _maximum_entropy(j: np.ndarray, i: int, variance: float) -> np.ndarray:
    """Probabilities on ``j`` with mean i and the given variance, each at least 1/256, of maximum entropy."""
    from scipy.optimize import minimize

    floor = 1.0 / KEY_RANGE
    d = (j - i).astype(float)
    n = len(j)
    start = np.exp(-(d**2) / (2 * max(variance, 0.5)))
    start = np.maximum(start / start.sum(), floor)
    start /= start.sum()

    def negative_entropy(q: np.ndarray) -> float:
        return float(np.sum(q * np.log(q)))

    def gradient(q: np.ndarray) -> np.ndarray:
        return np.log(q) + 1.0

    constraints = [
        {"type": "eq", "fun": lambda q: q.sum() - 1.0, "jac": lambda q: np.ones(n)},
        {"type": "eq", "fun": lambda q: q @ d, "jac": lambda q: d},
        {"type": "eq", "fun": lambda q: q @ d**2 - variance, "jac": lambda q: d**2},
    ]
    result = minimize(
        negative_entropy,
        start,
        jac=gradient,
        bounds=[(floor, 1.0)] * n,
        constraints=constraints,
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    if not result.success:
        raise RuntimeError(f"row {i}: no distribution with variance {variance:.3f} ({result.message})")
    q = np.maximum(result.x, floor)
    return q / q.sum()


def _variance_range(j: np.ndarray, i: int) -> tuple[float, float]:
    """Smallest and largest variance of a mean-i distribution on ``j`` with every point at least 1/256."""
    from scipy.optimize import linprog

    floor = 1.0 / KEY_RANGE
    d = (j - i).astype(float)
    bounds = [(floor, 1.0)] * len(j)
    equalities = np.vstack([np.ones(len(j)), d])
    found = []
    for sign in (1.0, -1.0):
        result = linprog(sign * d**2, A_eq=equalities, b_eq=[1.0, 0.0], bounds=bounds, method="highs")
        found.append(float(result.x @ d**2) if result.success else np.nan)
    return found[0], found[1]


def probabilities(i: int, p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """The published counts of a true count ``i`` and their probabilities (before keys are assigned)."""
    j = support(i, p)
    if len(j) == 1:  # a count that can only be published as 0 (below k, and k is more than D away)
        return j, np.ones(1)
    if len(j) == 2:  # 0 or k: the unbiased choice between them is fixed
        return j, np.array([j[1] - i, i - j[0]], dtype=float) / (j[1] - j[0])
    lowest, highest = _variance_range(j, i)
    while np.isnan(lowest) and len(j) > 1:
        # No unbiased row gives every count a key (i is at the low edge, as k is): drop the farthest count.
        j = j[np.arange(len(j)) != np.argmax(np.abs(j - i))]
        if len(j) == 1:
            return j, np.ones(1)
        lowest, highest = _variance_range(j, i)
    # Where V cannot be had, the nearest feasible variance, kept off the edges (which are degenerate).
    margin = min(0.25, 0.05 * (highest - lowest))
    variance = min(max(p.V, lowest + margin), highest - margin)
    return j, _maximum_entropy(j, i, variance)


def keys(i: int, p: Parameters) -> np.ndarray:
    """The noise (pvalue) for each of the 256 cell keys of true count ``i``, in ascending order."""
    j, q = probabilities(i, p)
    counts = _integer_counts(q, j - i)
    return np.repeat(j - i, counts).astype(np.int16)


def _integer_counts(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Keys per published count: at least one each, 256 in all, the mean kept at 0 when the range allows."""
    if len(d) > 1 and np.array_equal(d, -d[::-1]):
        # A symmetric range: round one side and mirror it, so the noise is exactly symmetric.
        middle = len(d) // 2
        side = np.maximum(1, np.rint((q[middle + 1 :] + q[middle - 1 :: -1]) / 2 * KEY_RANGE)).astype(int)
        while KEY_RANGE - 2 * side.sum() < 1:
            side[np.argmax(side)] -= 1
        return np.concatenate([side[::-1], [KEY_RANGE - 2 * side.sum()], side])
    raw = q * KEY_RANGE
    counts = np.maximum(1, np.floor(raw)).astype(int)
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    at = 0
    while counts.sum() < KEY_RANGE:  # largest remainders first
        counts[order[at % len(order)]] += 1
        at += 1
    while counts.sum() > KEY_RANGE:
        counts[np.argmax(counts)] -= 1
    # Move single keys one step towards the middle until the noise adds up to 0 (mean exactly unbiased).
    for _ in range(10 * KEY_RANGE):
        total = int(counts @ d)
        if total == 0 or len(d) == 1:
            break
        step = 1 if total < 0 else -1
        # From a count that can spare a key, to its neighbour in the direction that reduces the total.
        candidates = [
            a
            for a in range(len(d))
            if counts[a] > 1 and 0 <= a + step < len(d) and abs(d[a + step] - d[a]) <= abs(total)
        ]
        if not candidates:
            break
        source = max(candidates, key=lambda a: (counts[a], -abs(d[a])))
        counts[source] -= 1
        counts[source + step] += 1
    return counts


def make_ptable(p: Parameters, max_pcv: int = MAX_PCV) -> pd.DataFrame:
    """The p-table of ``p``: columns pcv, ckey, pvalue; rows for counts 1..max_pcv and every key."""
    steady = p.k + 2 * p.D + 1  # from here on every row is the same (full range, no constraint)
    rows = {}
    for i in range(1, min(max_pcv, steady) + 1):
        rows[i] = keys(i, p)
    generic = rows[min(max_pcv, steady)]
    noise = np.vstack([rows.get(i, generic) for i in range(1, max_pcv + 1)])
    return pd.DataFrame(
        {
            "pcv": np.repeat(np.arange(1, max_pcv + 1), KEY_RANGE),
            "ckey": np.tile(np.arange(KEY_RANGE), max_pcv),
            "pvalue": noise.ravel().astype(np.int64),
        }
    )


def write(table: pd.DataFrame, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flowmon.ptable.make_ptable",
        description="Write a cell key perturbation table (columns pcv, ckey, pvalue; ONS layout).",
    )
    parser.add_argument("--k", type=int, required=True, help="smallest count published apart from 0")
    parser.add_argument("--max-noise", "-D", type=int, default=None, help="maximum noise D")
    parser.add_argument("--variance", "-V", type=float, default=None, help="variance V of the noise")
    parser.add_argument("--output", "-o", default=None, help="CSV file (default: ptable_k<k>.csv here)")
    args = parser.parse_args(argv)
    base = default_parameters(args.k)
    try:
        p = Parameters(
            k=args.k,
            D=base.D if args.max_noise is None else args.max_noise,
            V=base.V if args.variance is None else args.variance,
        )
        table = make_ptable(p)
    except (ValueError, RuntimeError) as error:
        print(f"make_ptable: {error}", file=sys.stderr)
        return 2
    output = args.output or f"ptable_k{p.k}.csv"
    write(table, output)
    print(f"{output}: k={p.k} D={p.D} V={p.V} ({len(table)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
