"""Perturbation tables of the cell key method: the shipped ones, an operator's own, and the lookup.

``ptable_k5.csv`` (caseload, returns) and ``ptable_k11.csv`` (trafficking referrals) ship with flowmon; they
are exactly what ``make_ptable.py`` writes with its ``DEFAULTS`` (a test checks it). An operator who wants
other parameters writes ``<data dir>/ptable/ptable_k<k>.csv`` with that script, and flowmon uses it for that
k. A k with no table anywhere (an operator's higher k) gets the script's default table for it, made on
first use (the same every time).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FOLDER = "ptable"
KEY_RANGE = 256  # cell keys 0..255, as the ONS reference implementation
MAX_PCV = 750  # rows for counts 1..750; counts above 750 reuse rows 501..750 (ONS)
WRAP_FROM, WRAP_PERIOD = 501, 250
COLUMNS = ("pcv", "ckey", "pvalue")


def file_name(k: int) -> str:
    return f"ptable_k{k}.csv"


def shipped_path(k: int) -> Path:
    return Path(__file__).with_name(file_name(k))


@dataclass(frozen=True)
class PTable:
    """A perturbation table as a lookup: ``noise[pcv, ckey]`` (row 0, the count 0, is all zeros)."""

    k: int
    noise: np.ndarray
    source: str

    def pcv(self, counts: np.ndarray) -> np.ndarray:
        """The row of each count: the count up to 750, above it one of rows 501..750 (as ONS)."""
        counts = np.asarray(counts, dtype=np.int64)
        top = self.noise.shape[0] - 1
        wrapped = (counts - 1) % WRAP_PERIOD + WRAP_FROM
        return np.where(counts <= top, counts, wrapped)

    def perturb(self, counts: np.ndarray, ckeys: np.ndarray) -> np.ndarray:
        """Published counts: count + noise of its row and cell key; 0 stays 0."""
        counts = np.asarray(counts, dtype=np.int64)
        if len(counts) and counts.min() < 0:
            raise ValueError("counts must not be negative")
        ckeys = np.asarray(ckeys, dtype=np.int64) % KEY_RANGE
        return counts + self.noise[self.pcv(counts), ckeys]

    @functools.cached_property
    def possible(self) -> dict[int, tuple[int, int]]:
        """For each published count, the lowest and highest true count (up to 750) that can give it."""
        counts = np.repeat(np.arange(self.noise.shape[0]), self.noise.shape[1])
        published = counts + self.noise.ravel()
        frame = pd.DataFrame({"published": published, "count": counts})
        bounds = frame.groupby("published")["count"].agg(["min", "max"])
        return {int(p): (int(lo), int(hi)) for p, lo, hi in bounds.itertuples()}

    def bounds(self, published: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest true counts that could have been published as ``published`` (what an
        attacker who knows this table can say from one number)."""
        published = np.asarray(published, dtype=np.int64)
        low = self.noise.min(axis=1)[1:].min()  # most negative noise anywhere
        high = self.noise.max(axis=1)[1:].max()
        lo = np.maximum(published - high, 0)
        hi = published - low
        known = self.possible
        for at, value in enumerate(published.tolist()):
            if value in known and value < self.noise.shape[0] - abs(low):
                lo[at], hi[at] = known[value]
        return lo, hi


def _read(path: Path, k: int) -> np.ndarray:
    table = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: no column {missing[0]!r} (a p-table has pcv, ckey, pvalue)")
    pcv, ckey = table["pcv"].to_numpy(), table["ckey"].to_numpy()
    top = int(pcv.max())
    if top < MAX_PCV or pcv.min() < 1 or ckey.min() < 0 or ckey.max() >= KEY_RANGE:
        raise ValueError(f"{path}: rows must cover counts 1..{MAX_PCV} and cell keys 0..255")
    noise = np.zeros((top + 1, KEY_RANGE), dtype=np.int64)
    filled = np.zeros_like(noise, dtype=bool)
    noise[pcv, ckey] = table["pvalue"].to_numpy()
    filled[pcv, ckey] = True
    if not filled[1:].all():
        row = int(np.flatnonzero(~filled[1:].all(axis=1))[0]) + 1
        raise ValueError(f"{path}: count {row} lacks some cell keys (every count needs all 256)")
    published = np.arange(top + 1)[:, None] + noise
    small = (published >= 1) & (published < k)
    if small[1:].any() or (published < 0).any():
        row = int(np.flatnonzero((small | (published < 0)).any(axis=1))[0])
        raise ValueError(f"{path}: count {row} can be published from 1 to {k - 1} or below 0 (k = {k})")
    return noise


@functools.lru_cache(maxsize=16)
def _load(k: int, folder: str | None) -> PTable:
    if folder is not None:
        own = Path(folder) / FOLDER / file_name(k)
        if own.exists():
            return PTable(k=k, noise=_read(own, k), source=str(own))
    shipped = shipped_path(k)
    if shipped.exists():
        return PTable(k=k, noise=_read(shipped, k), source=f"flowmon/ptable/{file_name(k)}")
    from flowmon.ptable import make_ptable  # only needed (with scipy) when no file exists

    parameters = make_ptable.default_parameters(k)
    table = make_ptable.make_ptable(parameters)
    noise = np.zeros((MAX_PCV + 1, KEY_RANGE), dtype=np.int64)
    noise[table["pcv"].to_numpy(), table["ckey"].to_numpy()] = table["pvalue"].to_numpy()
    return PTable(k=k, noise=noise, source=f"made with {parameters}")


def load(k: int, data_dir: str | os.PathLike | None = None) -> PTable:
    """The p-table of ``k``: the data folder's own (``<data dir>/ptable/ptable_k<k>.csv``), else shipped,
    else made with the default parameters for ``k``."""
    return _load(int(k), None if data_dir is None else _resolved(str(data_dir)))


@functools.lru_cache(maxsize=64)
def _resolved(data_dir: str) -> str:
    # Resolving touches the file system: once per folder, not once per published table.
    return str(Path(data_dir).resolve())
