"""Make a perturbation table (p-table) for the cell key method: ``python -m flowmon.ptable.make_ptable``.

The table says, for a cell's true count ``pcv`` and its cell key ``ckey`` (0..255), how much to add
(``pvalue``): the columns and the row layout of the ONS reference implementation (``cell-key-perturbation``:
rows for counts 1..750; larger counts reuse rows 501..750). A count of 0 has no row: it stays 0.

How each row is made (the design of Giessing's maximum-entropy p-tables, as in the ``ptable`` R package
used with the ABS and Eurostat cell key method):

* the published count j of a true count i is in ``[max(0, i - D), i + D]`` and never from 1 to k-1; a
  count below k may also become 0, and is never published above D + 1;
* its mean is i (no bias) and its variance V, where the row allows it; the first rows cannot have both
  (a count of 1 published as 0 or at least k has a larger variance; a count of k cannot go lower, so it is
  published as it is), and take the variance closest to V they can;
* near the threshold (counts below k + 2D), every possible j gets at least one of the 256 keys, so the noise
  of a small cell can be as large as D: an attacker who combines tables must allow for all of it, which keeps
  the intervals they can prove wide; with D > k a published 0 may be any count from 0 to D, and a count
  from 1 to k-1 is never pinned between a small total and its other parts. Larger counts (from k + 2D on)
  share one row: noise up to D_large, every value with a key, variance V;
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
    """``k``: smallest count published apart from 0; ``D``: maximum noise near the threshold; ``V``:
    variance of the noise; ``D_large``: maximum noise of large counts (default: k - 2, at least 5)."""

    k: int
    D: int
    V: float
    D_large: int | None = None

    def __post_init__(self) -> None:
        if self.D_large is None:
            object.__setattr__(self, "D_large", min(self.D, max(5, self.k - 2)))
        if not 1 <= self.D_large <= self.D:
            raise ValueError(f"D_large must be from 1 to D (got {self.D_large})")
        if self.k < 2:
            raise ValueError(f"k must be at least 2 (got {self.k})")
        if self.D < 1 or self.D > 60:
            raise ValueError(f"D (maximum noise) must be from 1 to 60 (got {self.D})")
        if not 0 < self.V <= self.D**2:
            raise ValueError(f"V (variance) must be above 0 and at most D squared (got {self.V})")


# The shipped tables: k = 5 (caseload, returns) and k = 11 (trafficking referrals, as CTDC publishes).
DEFAULTS: dict[int, Parameters] = {
    5: Parameters(k=5, D=6, V=2.0, D_large=5),
    11: Parameters(k=11, D=12, V=2.5, D_large=9),
}


def default_parameters(k: int) -> Parameters:
    """The shipped parameters of ``k``, or for another k (an operator's higher one) D = k + 1, V = 2.5,
    D_large = k - 2 (at least 5)."""
    return DEFAULTS.get(k) or Parameters(k=k, D=k + 1, V=2.5)


def support(i: int, p: Parameters) -> np.ndarray:
    """The counts a true count ``i`` may be published as.

    A count below k may always become 0, and goes up to D + 1 at most: a small count that jumped further up
    would, next to a total published as 0 (which can hide at most D), pin its siblings down.
    """
    if i < p.k:
        return np.concatenate([[0], np.arange(p.k, min(i + p.D, p.D + 1) + 1)])
    j = np.arange(max(0, i - p.D), i + p.D + 1)
    return j[(j == 0) | (j >= p.k)]


def _maximum_entropy(j: np.ndarray, i: int, variance: float) -> np.ndarray:
    """Probabilities on ``j`` with mean i and the given variance, each at least 1/256, of maximum entropy.

    Solved through the dual, which is convex and smooth: the optimum is q_j = max(1/256, exp(u_j)) with
    u_j = -1 - l0 - l1 d_j - l2 d_j^2 (d_j = j - i), for the multipliers l minimising
    sum_j h_j(l) + l0 + l2 V, where h_j is exp(u_j) above the floor and f (1 + u_j - log f) on it.
    """
    from scipy.optimize import minimize

    floor = 1.0 / KEY_RANGE
    d = (j - i).astype(float)
    features = np.vstack([np.ones_like(d), d, d**2])  # 3 x n
    target = np.array([1.0, 0.0, variance])

    def probabilities_of(multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = -1.0 - multipliers @ features
        return u, np.maximum(np.exp(np.minimum(u, 50.0)), floor)

    def dual(multipliers: np.ndarray) -> tuple[float, np.ndarray]:
        u, q = probabilities_of(multipliers)
        above = np.exp(np.minimum(u, 50.0)) >= floor
        h = np.where(above, q, floor * (1.0 + u - np.log(floor)))
        return float(h.sum() + multipliers @ target), target - features @ q

    start = np.array([np.log(len(d)) - 1.0, 0.0, 1.0 / (2 * max(variance, 0.1))])
    result = minimize(dual, start, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 10_000})
    # BFGS stops where SciPy's version lets it; Newton's steps from there (the dual's Hessian is
    # F diag(q) F' over the points above the floor) reach the optimum to the last digits, so the keys, which
    # round these probabilities, are the same whatever the SciPy.
    multipliers = result.x
    for _ in range(50):
        u, q = probabilities_of(multipliers)
        gradient = target - features @ q
        above = np.exp(np.minimum(u, 50.0)) >= floor
        hessian = (features * np.where(above, q, 0.0)) @ features.T
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        _, q_next = probabilities_of(multipliers - step)
        if np.abs(target - features @ q_next).max() >= np.abs(gradient).max():
            break  # as close as floating point allows
        multipliers = multipliers - step
    _, q = probabilities_of(multipliers)
    residual = np.abs(features @ q - target).max()
    if residual > 1e-6:
        raise RuntimeError(f"row {i}: no distribution with variance {variance:.3f} ({result.message})")
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
    if i >= steady_from(p):
        return generic_keys(p)
    j, q = probabilities(i, p)
    counts = _integer_counts(q, j - i)
    return np.repeat(j - i, counts).astype(np.int16)


def steady_from(p: Parameters) -> int:
    """The first count whose row is the generic one: far enough above k that no published number near the
    threshold can come from it, so its noise needs no long tails (less error on large counts)."""
    return p.k + 2 * p.D


def generic_keys(p: Parameters) -> np.ndarray:
    """The row of large counts: noise from -D_large to D_large, each with a key, mean 0, variance V (or the
    nearest the range allows), maximum entropy, symmetric.

    The long thin tails are what keeps a small cell found as the difference of two large ones (a state's
    total minus its other offices) from being pinned down: an attacker must allow the whole range.
    """
    d = np.arange(-p.D_large, p.D_large + 1)
    lowest, highest = _variance_range(d, 0)
    margin = min(0.25, 0.05 * (highest - lowest))
    q = _maximum_entropy(d, 0, min(max(p.V, lowest + margin), highest - margin))
    return np.repeat(d, _integer_counts(q, d)).astype(np.int16)


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
    steady = steady_from(p)  # from here on every row is the same
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
    parser.add_argument(
        "--max-noise-large", type=int, default=None, help="maximum noise of large counts (D_large)"
    )
    parser.add_argument("--output", "-o", default=None, help="CSV file (default: ptable_k<k>.csv here)")
    args = parser.parse_args(argv)
    base = default_parameters(args.k)
    try:
        p = Parameters(
            k=args.k,
            D=base.D if args.max_noise is None else args.max_noise,
            V=base.V if args.variance is None else args.variance,
            D_large=base.D_large if args.max_noise_large is None else args.max_noise_large,
        )
        table = make_ptable(p)
    except (ValueError, RuntimeError) as error:
        print(f"make_ptable: {error}", file=sys.stderr)
        return 2
    output = args.output or f"ptable_k{p.k}.csv"
    write(table, output)
    print(f"{output}: k={p.k} D={p.D} V={p.V} D_large={p.D_large} ({len(table)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
