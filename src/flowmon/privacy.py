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

Where the old rule fell short, and why this replaced it: per-view small-cell suppression kept each view
safe on its own, but a viewer chooses the views, and two month ranges (or "all" minus "all but one"
nationality) gave back every hidden count. Consistent perturbation over the bounded query space of
``flowmon.filters`` does not (``flowmon audit`` measures it).

Output: the table with ``value`` as nullable integers and a ``suppressed`` column, always False (nothing is
hidden any more; kept while renderers read it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from flowmon import schema

DEFAULT_K = 5
K_FLOORS: dict[str, int] = {
    "caseload": DEFAULT_K,
    "return": DEFAULT_K,
    "referral": 11,
    "displacement": DEFAULT_K,
    # Crossings (flow monitoring counts of people at a point on a day) are records of people, as caseloads.
    "crossing": DEFAULT_K,
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
# What is perturbed: the case streams and crossings (records of people); displacement is public.
PERTURBED = (*CASE_STREAMS, schema.CROSSING)
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
        chosen = [s for s in stream if s in PERTURBED]
        strictest = max(chosen, key=lambda s: k_for(s, k)) if chosen else schema.DISPLACEMENT
        streams = np.full(len(table), strictest, dtype=object)
    else:
        raise ValueError("release: the table has no stream column; say which stream it counts (stream=...)")
    unknown = set(pd.unique(streams)) - set(K_FLOORS)
    if unknown:
        raise ValueError(f"release: unknown stream {sorted(map(str, unknown))[0]!r}")
    # Column arrays into one new frame: a view's dozen small tables pay pandas' per-operation cost, not rows.
    dropped = {*columns.values(), SUPPRESSED}
    data = {name: column.array for name, column in table.items() if name not in dropped}
    for value_column, key_column in columns.items():
        if value_column not in table.columns:
            raise ValueError(f"release: the table has no column {value_column!r}")
        data[value_column] = _published(table, value_column, key_column, streams, k, data_dir)
    if "previous" in columns and all(c in data for c in _DERIVED):
        change = data["value"] - data["previous"]
        data["change"] = change
        previous = data["previous"].astype("Float64")
        previous[(previous == 0).fillna(False)] = pd.NA  # no share of nothing
        data["change_pct"] = (100 * change.astype("Float64") / previous).round(1)
    data[SUPPRESSED] = np.zeros(len(table), dtype=bool)
    if "previous" in columns:
        data["previous_suppressed"] = np.zeros(len(table), dtype=bool)
    return pd.DataFrame(data, index=table.index, copy=False)


def _published(
    table: pd.DataFrame, value: str, key: str, streams: np.ndarray, k: OperatorK, data_dir
) -> pd.arrays.IntegerArray:
    counts = pd.array(table[value].array, dtype="Int64")
    missing = counts.isna()
    numbers = counts.to_numpy(dtype=np.int64, na_value=0)
    if len(numbers) and numbers.min() < 0:
        raise ValueError(f"release: {value} must be counts (no negative values)")
    out = numbers.copy()
    protected = np.isin(streams, PERTURBED) & ~missing
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
    if not any(s in PERTURBED for s in streams):
        return ""
    return _FOOTNOTES[language]
