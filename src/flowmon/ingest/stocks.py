"""DTM displacement stocks: IDPs present per state and round, without (or with) their state of origin.

The machine-readable DTM sources for Sudan give stocks, not origin x destination matrices: the HDX "Global
IOM DTM from API" CSV (both its layouts: the 2024 one and the 2025 one with ``adminLevel``,
``idpOriginAdmin1Name`` and ``#affected+idps``), the DTM API's JSON answers, and any table with a state and
an IDP count but no origin. They are stored in the ``flows`` table (see :mod:`flowmon.schema`):

- ``destination_pcode`` is the state where the IDPs are; ``origin_pcode`` is their state of origin when the
  file gives one, else missing (unknown origin; "Not available" counts as unknown, it is not rejected);
- ``period`` is the round's reporting date; ``source`` names the operation and the round, as
  ``DTM API: <operation>, round <n>, <YYYY-MM-DD>`` (:func:`flowmon.rounds.source_label`), so that each
  round is a source of its own with a single date: a snapshot, of which a view counts only the latest;
- admin-1 rows are used, or admin-2 rows summed to admin-1 for a round that has no admin-1 rows, never both;
  admin-0 rows and the admin-2 rows of a round with admin-1 rows only check the totals (a difference is a
  note); rows split by displacement reason or sex are summed;
- one DTM operation per ingest: a file that holds several must be given ``--operation NAME``, and the
  message lists each operation with its latest round and date.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from flowmon.ingest import columns, values
from flowmon.ingest.cases import NothingUsable
from flowmon.ingest.dtm import (
    SOURCE_MAX,
    ParsedFlows,
    _combined,
    _header,
    _numbers,
    _states,
    population_type,
    source_name,
)
from flowmon.ingest.readers import RawTable
from flowmon.rounds import source_label

STOCK_FIELDS = ("operation", "round", "level")


def is_stock_table(present: dict[str, int]) -> bool:
    """A DTM API layout: an operation, round or admin-level column next to a count of IDPs."""
    return "individuals" in present and any(field in present for field in STOCK_FIELDS)


def _text(raw: RawTable, present: dict[str, int], field: str) -> pd.Series:
    if field not in present:
        return pd.Series("", index=raw.data.index, dtype=object)
    return raw.data[present[field]].map(lambda v: "" if values.is_blank(v) else values.text_of(v))


def _round_text(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


def _levels(raw: RawTable, present: dict[str, int]) -> pd.Series:
    """0, 1 or 2 per row: the ``adminLevel`` column, else the finest area the row names."""
    if "level" in present:
        level = pd.to_numeric(_text(raw, present, "level"), errors="coerce")
        if level.notna().all():
            return level.astype(int)
    level = pd.Series(0, index=raw.data.index)
    for field in ("destination", "destination_pcode"):
        level = level.where(_text(raw, present, field) == "", 1) if field in present else level
    if "locality" in present:
        level = level.where(_text(raw, present, "locality") == "", 2)
    return level


def operations_table(operation: pd.Series, round_number: pd.Series, when: pd.Series) -> pd.DataFrame:
    """One row per operation: its latest round and date (the operations a file holds, for the user)."""
    frame = pd.DataFrame({"operation": operation, "round": round_number, "date": when})
    frame = frame[frame["operation"] != ""].sort_values(["operation", "date"], kind="stable")
    latest = frame.groupby("operation", sort=False).tail(1)
    return latest.sort_values("date", ascending=False, kind="stable").reset_index(drop=True)


def _describe_operations(table: pd.DataFrame) -> str:
    return "; ".join(
        f"{r.operation!r} (latest round {r.round}, {r.date:%Y-%m-%d})"
        if pd.notna(r.date)
        else repr(r.operation)
        for r in table.itertuples()
    )


def parse_stocks(
    raw: RawTable, present: dict[str, int], period: pd.Timestamp | None, operation: str | None
) -> ParsedFlows:
    index = raw.data.index
    notes: list[str] = []
    problems: list[pd.DataFrame] = []
    unmatched: Counter = Counter()

    ops = _text(raw, present, "operation")
    rounds = _text(raw, present, "round").map(_round_text)
    if "period" in present:
        when = pd.to_datetime(_text(raw, present, "period"), errors="coerce", format="ISO8601")
        bad = when.isna() & (_text(raw, present, "period") != "")
        if bad.any():
            cells = raw.data.loc[bad, present["period"]]
            problems.append(
                pd.DataFrame(
                    {
                        "row": cells.index,
                        "column": _header(raw, present["period"]),
                        "value": cells.map(values.text_of).to_numpy(dtype=object),
                        "reason": "not a date (YYYY-MM-DD)",
                    }
                )
            )
        when = when.dt.normalize()
        if period is not None:
            when = when.fillna(period)
    else:
        found = period or values.date_in_text(raw.title_text) or values.date_in_text(raw.path.stem)
        if found is None:
            raise NothingUsable(
                f"{raw.path}: no date column and no round date in the title or file name; give --period "
                "YYYY-MM-DD"
            )
        when = pd.Series(found, index=index)

    table = operations_table(ops, rounds, when)
    if operation is not None:
        wanted = ops.str.casefold() == operation.strip().casefold()
        if not wanted.any():
            listed = _describe_operations(table) or "none (no operation column)"
            raise NothingUsable(f"{raw.path}: no DTM operation {operation!r}; the file holds {listed}")
        chosen = ops[wanted].iloc[0]
    elif len(table) > 1:
        raise NothingUsable(
            f"{raw.path}: {len(table)} DTM operations, whose figures overlap; "
            f"give one with --operation NAME: {_describe_operations(table)}"
        )
    else:
        chosen = table["operation"].iloc[0] if len(table) else ""
    in_operation = ops == chosen
    if (~in_operation).any():
        others = sorted(set(ops[~in_operation]) - {""})
        notes.append(
            f"{int((~in_operation).sum()):,} rows of other operations set aside ({', '.join(others)})"
        )

    level = _levels(raw, present)
    round_key = rounds + "|" + when.dt.strftime("%Y-%m-%d").fillna("")
    scope = in_operation & when.notna()
    has_admin1 = (level == 1) & scope
    admin1_rounds = set(round_key[has_admin1])
    uses = scope & (
        ((level == 1) & round_key.isin(admin1_rounds)) | ((level == 2) & ~round_key.isin(admin1_rounds))
    )
    national_only = sorted(set(round_key[scope & (level == 0)]) - set(round_key[uses]))
    if national_only:
        notes.append(
            f"{len(national_only)} round(s) with a national total only, no state: not stored "
            f"({', '.join(k.replace('|', ' of ') for k in national_only[:5])})"
        )

    used = raw.data.index[uses.to_numpy()]
    sub = RawTable(**{**raw.__dict__, "data": raw.data.loc[used]})
    destination = _states(
        sub, present, "destination_pcode", "destination", problems, unmatched, pd.Series(False, index=used)
    )
    individuals = _numbers(sub, present["individuals"], problems, blank_is_zero=False)
    if "origin" in present or "origin_pcode" in present:
        origin = _states(
            sub, present, "origin_pcode", "origin", problems, unmatched, pd.Series(False, index=used)
        )
        unknown = int(origin.isna().sum())
        if unknown:
            notes.append(
                f"{unknown:,} rows without a state of origin ('Not available' or blank): origin unknown"
            )
    else:
        origin = pd.Series(None, index=used, dtype=object)
        notes.append("no state of origin in this file: stored as IDPs present per state, origin unknown")
    households = (
        _numbers(sub, present["households"], problems, blank_is_zero=False)
        if "households" in present
        else pd.Series(None, index=used, dtype=object)
    )

    with_operation = "operation" in present
    labels = {
        key: source_label(chosen, key.split("|")[0] or "?", pd.Timestamp(key.split("|")[1]))[:SOURCE_MAX]
        if with_operation
        else f"{source_name(raw)}, {key.split('|')[1]}"[:SOURCE_MAX]
        for key in set(round_key[uses])
    }
    flows = pd.DataFrame(
        {
            "row": used.to_numpy(),
            "column": _header(raw, present["individuals"]),
            "period": when[uses].to_numpy(dtype=object),
            "origin_pcode": origin.to_numpy(dtype=object),
            "destination_pcode": destination.to_numpy(dtype=object),
            "population_type": population_type(raw, present["individuals"]),
            "individuals": individuals.to_numpy(dtype=object),
            "households": households.to_numpy(dtype=object),
            "source": round_key[uses].map(labels).to_numpy(dtype=object),
        }
    )
    notes += _checks(raw, present, level, round_key, scope, uses, individuals)
    if uses.any():
        levels = sorted(set(level[uses]))
        how = (
            "admin-1 rows"
            if levels == [1]
            else "admin-2 rows summed to states"
            if levels == [2]
            else "admin-1 rows, and admin-2 rows summed to states where a round has no admin-1 rows"
        )
        rounds_used = len(labels)
        notes.insert(0, f"{chosen or 'stocks'}: {rounds_used} round(s) from {how}")
    return ParsedFlows(
        flows=flows,
        problems=_combined(problems),
        rows=len(used),
        unmatched=unmatched,
        notes=notes,
        aggregate=True,
    )


def _checks(raw, present, level, round_key, scope, uses, individuals) -> list[str]:
    """Admin-0 totals, and admin-2 sums of rounds stored from admin-1 rows, against what is stored."""
    stored = pd.to_numeric(individuals, errors="coerce").groupby(round_key[uses]).sum()
    notes = []
    all_numbers = pd.to_numeric(
        raw.data[present["individuals"]].map(lambda v: values.parse_count(v)[0]), errors="coerce"
    )
    for check_level, label in ((0, "national (admin-0) total"), (2, "admin-2 rows")):
        rows = scope & (level == check_level) & round_key.isin(stored.index) & ~uses
        if not rows.any():
            continue
        given = all_numbers[rows].groupby(round_key[rows]).sum()
        off = [(k, int(stored[k]), int(v)) for k, v in given.items() if int(v) != int(stored[k])]
        if off:
            shown = ", ".join(f"{k.replace('|', ' of ')}: {s:,} stored, {label} {v:,}" for k, s, v in off[:3])
            notes.append(f"{len(off)} round(s) whose {label} differ from the stored states' sum ({shown})")
        else:
            notes.append(f"the {label} of {len(given)} round(s) agree with the stored states' sums")
    return notes


def sudan_rows(raw: RawTable, present: dict[str, int]) -> tuple[RawTable, list[str]]:
    """Only Sudan's rows of a file that names countries (``admin0Pcode``, ``#country+code``, a country name).

    NothingUsable, naming the countries found, when there are none.
    """
    code_field = "country" if "country" in present else "country_name" if "country_name" in present else None
    if code_field is None:
        return raw, []
    cells = _text(raw, present, code_field)
    if code_field == "country":
        keys = cells.str.upper()
        sudan = keys.isin({"SDN", "SD"})
    else:
        keys = cells
        sudan = cells.map(columns.normalise).isin({"sudan", "السودان", "republic of the sudan"})
    if not sudan.any():
        found = sorted(set(keys) - {""})
        listed = ", ".join(found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12 else "")
        raise NothingUsable(f"{raw.path}: no Sudan rows (found {listed or 'no country'})")
    notes = []
    if (~sudan).any():
        others = sorted(set(keys[~sudan]) - {""})
        notes.append(f"{int((~sudan).sum()):,} rows of other countries set aside ({', '.join(others[:12])})")
    return RawTable(**{**raw.__dict__, "data": raw.data[sudan.to_numpy()]}), notes
