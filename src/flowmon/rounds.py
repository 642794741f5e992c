"""Which DTM round a displacement view counts: pure functions over the ``flows`` table, for the view layer.

A source with a single date is a snapshot (a DTM master list, or one round of a DTM API operation: people
displaced at that date, a stock); a source with many dates is a series of movements that add up. Of the
snapshot rows a view selects, only one round may count, or the same people are counted again: the DTM API's
"Armed Clashes in Sudan" operation published rounds weekly, three of them in April 2024, each a stock of about
6.7 million people. So rounds are compared by their date, not their month, and when two sources have a round
on the same latest date (two operations, or a master list and an API round), the first by name is kept and
the view names it. Stock rows may have no state of origin (``origin_pcode`` missing): they count for the
state of displacement and the totals, never as an origin -> destination pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

ROUND_COLUMNS = ("source", "operation", "round", "date", "individuals")
SOURCE_PREFIX = "DTM API"
_SOURCE = re.compile(
    r"^(?P<prefix>.+?): (?P<operation>.+), round (?P<round>[^,]+), (?P<date>\d{4}-\d{2}-\d{2})$"
)


@dataclass(frozen=True)
class Round:
    """What a stock's ``source`` says: the operation, the round number (text) and its date."""

    operation: str
    round: str
    date: pd.Timestamp


def source_label(operation: str, round_number: str, date: pd.Timestamp, prefix: str = SOURCE_PREFIX) -> str:
    """``DTM API: Armed Clashes in Sudan (Monthly), round 8, 2024-04-30``: the ``source`` of a stock round
    (written by :mod:`flowmon.ingest.stocks`)."""
    return f"{prefix}: {operation}, round {round_number}, {date:%Y-%m-%d}"


def parse_source(source: str) -> Round | None:
    """The operation, round and date a stock ``source`` names; None for other sources (master lists)."""
    found = _SOURCE.match(str(source))
    if found is None:
        return None
    return Round(found["operation"], found["round"], pd.Timestamp(found["date"]))


def _days(flows: pd.DataFrame) -> np.ndarray:
    return pd.DatetimeIndex(flows["period"]).normalize().asi8


SNAPSHOT = "snapshot"  # a column flowmon.aggregate.prepare adds once, so a filter change does not regroup


def snapshot_rows(flows: pd.DataFrame) -> np.ndarray:
    """Rows of sources that hold a single date: stocks, of which only the latest round may count."""
    if SNAPSHOT in flows.columns:
        return flows[SNAPSHOT].to_numpy(dtype=bool)
    if flows.empty:
        return np.zeros(0, dtype=bool)
    source = pd.Categorical(flows["source"].astype(str)).codes
    dates = pd.Series(_days(flows)).groupby(source).transform("nunique").to_numpy()
    return dates == 1


def latest_round(flows: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
    """``mask`` with, of its snapshot rows, only those of one source: the one with the latest date (the first
    by name when several share it). Rows of multi-date sources (monthly movements) are kept as they are."""
    mask = np.asarray(mask, dtype=bool)
    snapshot = snapshot_rows(flows) & mask
    if not snapshot.any():
        return mask
    days = _days(flows)
    latest = days[snapshot].max()
    sources = flows["source"].astype(str).to_numpy()
    chosen = min(sources[snapshot & (days == latest)])
    return mask & ~(snapshot & (sources != chosen))


def known_origin(flows: pd.DataFrame) -> np.ndarray:
    """Rows whose state of origin is known: the only ones an origin -> destination arrow or a
    "displaced from" map may use."""
    return flows["origin_pcode"].notna().to_numpy()


def shown_rounds(flows: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """The snapshot rounds ``mask`` counts (after :func:`latest_round`, one): ``source``, ``operation`` and
    ``round`` (for DTM API stocks; NA for master lists), ``date``, ``individuals``; for the view's title and
    footnote ("DTM Armed Clashes in Sudan, round 46, 17 April 2024")."""
    mask = np.asarray(mask, dtype=bool)
    rows = flows[snapshot_rows(flows) & mask]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROUND_COLUMNS})
    totals = rows.groupby(rows["source"].astype(str), sort=True).agg(
        date=("period", "max"), individuals=("individuals", "sum")
    )
    parsed = [parse_source(source) for source in totals.index]
    return pd.DataFrame(
        {
            "source": totals.index.to_numpy(dtype=object),
            "operation": [p.operation if p else None for p in parsed],
            "round": [p.round if p else None for p in parsed],
            "date": pd.to_datetime(totals["date"]).to_numpy(),
            "individuals": totals["individuals"].to_numpy(dtype=np.int64),
        }
    )
