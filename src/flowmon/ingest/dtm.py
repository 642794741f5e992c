"""DTM master lists into the ``flows`` table.

Two layouts are read:

- the admin-1 matrix of the DTM Sudan IDP Master List: one row per state of displacement, a total column
  (``IDPs``, ``#affected+idps+ind``), households, one column per state of origin under a group label such as
  "STATE of ORIGIN BY INDIVIUALS", and nationality columns (Sudanese / non-Sudanese);
- long tables with an origin column, a destination column and an individuals column (households optional).

Totals are preserved: a row whose state-of-origin columns (or nationality columns) do not add up to its own
total column is rejected whole, with the difference in the reason, so what is stored always adds up to the
file's totals of the stored rows and no invented "other origin" is ever stored. A matrix gives households per
state of displacement only, not per origin, so matrix flows carry no households (NA); long tables keep theirs.
A "Total" row is checked against the sum of the rows above and is not stored. Sub-state rows (a locality or
site column) are summed per state pair; without one, a state pair given twice is rejected (the later row).

The round date comes from ``--period`` (YYYY-MM), else a date column, else a date in the title rows
("IDP Master List 25-03-2024"), else a date in the file name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from flowmon import schema
from flowmon.ingest import columns, values
from flowmon.ingest.cases import NothingUsable, problems_frame
from flowmon.ingest.readers import RawTable

KEY = ["period", "origin_pcode", "destination_pcode", "population_type"]
TOTAL_ROW_WORDS = frozenset({"total", "grand total", "totals", "sum", "المجموع", "الاجمالي", "الإجمالي"})
SOURCE_MAX = 200
HOUSEHOLDS_NOTE = "households are given per state of displacement only: the flows carry none (NA)"


@dataclass
class ParsedFlows:
    flows: pd.DataFrame  # canonical flow columns plus "row" (the user's row number) and "column" (header)
    problems: pd.DataFrame
    rows: int
    unmatched: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    aggregate: bool = False  # sub-state rows: sum flows per state pair


def _header(raw: RawTable, position: int) -> str:
    text = raw.header[position] if position < len(raw.header) else ""
    return (
        text or (raw.hxl[position] if raw.hxl and position < len(raw.hxl) else "") or f"column {position + 1}"
    )


def round_date(raw: RawTable, period: pd.Timestamp | None) -> tuple[pd.Timestamp | None, list[str]]:
    found = values.date_in_text(raw.title_text) or values.date_in_text(raw.path.stem)
    if period is not None:
        note = (
            []
            if found is None or found.to_period("M") == period.to_period("M")
            else [f"--period {period:%Y-%m} used; the file itself says {found:%Y-%m-%d}"]
        )
        return period, note
    return found, []


def population_type(raw: RawTable, position: int | None) -> str:
    """Returnees when the title, the header or the HXL tag of the individuals column says so; else IDPs."""
    words = [raw.title_text]
    if position is not None:
        words.append(raw.header[position] if position < len(raw.header) else "")
        words.append(raw.hxl[position] if raw.hxl and position < len(raw.hxl) else "")
    return "returnee" if "returnee" in " ".join(words).casefold() else "idp"


def source_name(raw: RawTable) -> str:
    name = " ".join(raw.title_text.split()) or raw.path.name
    return name[:SOURCE_MAX]


def _states(
    raw: RawTable,
    present: dict[str, int],
    code_field: str,
    name_field: str,
    problems: list,
    unmatched: Counter,
    is_total: pd.Series,
):
    """Parse the pcode and name columns of one side (origin or destination), as in case exports."""
    data, index = raw.data, raw.data.index
    parsed = {}
    for name in (code_field, name_field):
        if name in present:
            cells = data[present[name]]
            result = values.parse_column(cells, values.parse_state)
            problems.append(problems_frame(index, _header(raw, present[name]), cells, result.problems))
            bad = result.problems.notna() & ~is_total
            unmatched.update(cells[bad].map(values.text_of).value_counts().to_dict())
            parsed[name] = result.values
    state, disagree = values.combine_states(parsed.get(code_field), parsed.get(name_field))
    if disagree.any():
        problems.append(
            pd.DataFrame(
                {
                    "row": index[disagree.to_numpy()],
                    "column": _header(raw, present[name_field]),
                    "value": data.loc[disagree, present[name_field]]
                    .map(values.text_of)
                    .to_numpy(dtype=object),
                    "reason": (
                        "the state name and the state pcode disagree (the pcode is "
                        + parsed[code_field][disagree]
                        + ")"
                    ).to_numpy(dtype=object),
                }
            )
        )
    return state


def _numbers(raw: RawTable, position: int, problems: list, *, blank_is_zero: bool) -> pd.Series:
    cells = raw.data[position]

    def parse(value: object):
        if blank_is_zero and (values.is_blank(value) or values.text_of(value) in {"-", "–"}):
            return 0, None
        number, problem = values.parse_count(value)
        if number is not None and number < 0:
            return None, "a negative number of people"
        return number, problem

    result = values.parse_column(cells, parse)
    problems.append(problems_frame(raw.data.index, _header(raw, position), cells, result.problems))
    return result.values


def _total_rows(raw: RawTable, present: dict[str, int]) -> pd.Series:
    is_total = pd.Series(False, index=raw.data.index)
    for name in ("destination", "destination_pcode", "origin", "origin_pcode", "locality"):
        if name in present:
            is_total |= raw.data[present[name]].map(lambda v: columns.normalise(v) in TOTAL_ROW_WORDS)
    return is_total


def _repeats(keys: pd.DataFrame, valid: pd.Series) -> pd.Series:
    """For each row whose key repeats an earlier valid row's key: that earlier row's number."""
    ok = keys[valid.to_numpy()]
    first = ok.reset_index().drop_duplicates(list(keys.columns), keep="first")
    merged = ok.reset_index().merge(first, on=list(keys.columns), suffixes=("", "_first"))
    merged = merged[merged[keys.index.name or "index"] != merged[(keys.index.name or "index") + "_first"]]
    label = keys.index.name or "index"
    return pd.Series(merged[label + "_first"].to_numpy(), index=merged[label].to_numpy(), dtype=object)


def parse_dtm(
    raw: RawTable, *, period: pd.Timestamp | None = None, operation: str | None = None
) -> ParsedFlows:
    """Read a DTM file into flows: a stock table (DTM API layouts, or states with IDPs and no origin), a long
    table (origin and destination columns) or a matrix (one column per state of origin)."""
    from flowmon.ingest import stocks  # it builds on this module's helpers

    mapping = columns.map_columns(raw.header, raw.hxl, schema.DISPLACEMENT)
    present = mapping.fields
    raw, scope_notes = stocks.sudan_rows(raw, present)
    if stocks.is_stock_table(present):
        parsed = stocks.parse_stocks(raw, present, period, operation)
    elif "origin" in present or "origin_pcode" in present:
        parsed = _parse_long(raw, present, period)
    elif _origin_columns(raw, present)[0] or not ({"destination", "destination_pcode"} & set(present)):
        parsed = _parse_matrix(raw, present, period)
    elif "individuals" in present:
        parsed = stocks.parse_stocks(raw, present, period, operation)
    else:
        parsed = _parse_matrix(raw, present, period)
    if operation is not None and not stocks.is_stock_table(present):
        parsed.notes.append(f"--operation {operation!r} ignored: this file has no operation column")
    parsed.notes[:0] = scope_notes
    return parsed


# What each field is called in the messages that say a column is missing.
FIELD_WORDS = {
    "destination": "the state of displacement (name)",
    "destination_pcode": "its pcode",
    "origin": "the state of origin (name)",
    "origin_pcode": "its pcode",
    "individuals": "the number of people",
}


def _require(raw: RawTable, present: dict[str, int], *groups: tuple[str, ...]) -> None:
    missing = [g for g in groups if not any(name in present for name in g)]
    if missing:
        raise NothingUsable(f"{raw.path}: {missing_columns(raw, missing)}")


def missing_columns(raw: RawTable, groups: list[tuple[str, ...]]) -> str:
    """What was looked for and what is there: "no column for X (looked for A, B, ...); the file's columns"."""
    parts = []
    for group in groups:
        words = " or ".join(FIELD_WORDS.get(n, n.replace("_", " ")) for n in group)
        spellings = [s for n in group for s in columns.spellings(n, schema.DISPLACEMENT)]
        shown = ", ".join(spellings[:8]) + (", ..." if len(spellings) > 8 else "")
        parts.append(f"no column for {words} (looked for {shown})")
    found = [h for h in raw.header if h] or [t for t in (raw.hxl or []) if t]
    listed = ", ".join(found[:12]) + (f" and {len(found) - 12} more" if len(found) > 12 else "")
    return "; ".join(parts) + f"; the file's columns: {listed or 'none'}"


def _origin_columns(raw: RawTable, present: dict[str, int]) -> tuple[list[int], list[int]]:
    used = set(present.values())
    groups = [columns.normalise(g) for g in raw.groups]
    origins, nationalities = [], []
    for position, header in enumerate(raw.header):
        if position in used or not header:
            continue
        group = groups[position] if position < len(groups) else ""
        key = columns.normalise(header)
        if "origin" in group:
            origins.append(position)
        elif "nationality" in group or key in NATIONALITY_HEADERS:
            nationalities.append(position)
        elif not group and values.parse_state(header)[0] is not None:
            origins.append(position)
        elif not group and _origin_prefixed(key):
            origins.append(position)  # analysts' wide tables: origin_aj_jazirah, from_khartoum
    return origins, nationalities


NATIONALITY_HEADERS = frozenset({"sudanese", "non sudanese", "sudanese nationals", "non sudanese nationals"})
_ORIGIN_PREFIXES = ("origin ", "from ", "state of origin ")


def _origin_prefixed(key: str) -> bool:
    return any(key.startswith(p) and values.parse_state(key[len(p) :])[0] for p in _ORIGIN_PREFIXES)


def _origin_state(header: str) -> tuple[str | None, str | None]:
    """The state an origin column names: ``Khartoum``, or ``origin_khartoum`` in an analyst's table."""
    code, problem = values.parse_state(header)
    if code is None:
        key = columns.normalise(header)
        for prefix in _ORIGIN_PREFIXES:
            if key.startswith(prefix):
                found = values.parse_state(key[len(prefix) :])
                if found[0] is not None:
                    return found
    return code, problem


def _parse_matrix(raw: RawTable, present: dict[str, int], period: pd.Timestamp | None) -> ParsedFlows:
    _require(raw, present, ("destination", "destination_pcode"))
    origins, nationalities = _origin_columns(raw, present)
    if not origins:
        raise NothingUsable(
            f"{raw.path}: no state of origin: neither an origin column nor one column per state of origin "
            "(state names as headers, under a group label with 'origin', or origin_<state>); "
            + missing_columns(raw, [("individuals",)] if "individuals" not in present else []).removeprefix(
                "; "
            )
        )
    when, notes = round_date(raw, period)
    if when is None:
        raise NothingUsable(f"{raw.path}: no round date in the title or file name; give --period YYYY-MM-DD")

    index = raw.data.index
    problems: list[pd.DataFrame] = []
    unmatched: Counter = Counter()
    is_total = _total_rows(raw, present)
    destination = _states(raw, present, "destination_pcode", "destination", problems, unmatched, is_total)
    destination = destination.where(~is_total)
    problems = [p[~p["row"].isin(index[is_total.to_numpy()])] for p in problems]

    origin_codes, cells = {}, {}
    for position in origins:
        header = raw.header[position]
        code, problem = _origin_state(header)
        if problem:
            unmatched[header] += 1
        cells[position] = _numbers(raw, position, problems, blank_is_zero=True)
        first = next((p for p, c in origin_codes.items() if c is not None and c == code), None)
        origin_codes[position] = code if first is None else None
        if origin_codes[position] is None:
            why = (
                f"the header {header!r} is not a state ({problem or 'unknown'})"
                if first is None
                else f"the header {header!r} names the same state as {raw.header[first]!r} ({code})"
            )
            nonzero = cells[position].map(lambda v: v not in (0, None)) & ~is_total
            problems.append(
                pd.DataFrame(
                    {
                        "row": index[nonzero.to_numpy()],
                        "column": header,
                        "value": cells[position][nonzero].astype(str).to_numpy(dtype=object),
                        "reason": f"{why}: its people cannot be given an origin",
                    }
                )
            )
    matrix = pd.DataFrame(cells, index=index)
    origin_sum = matrix.apply(pd.to_numeric).sum(axis=1, min_count=len(origins))

    if "individuals" in present:
        total = pd.to_numeric(_numbers(raw, present["individuals"], problems, blank_is_zero=False))
        total_header = _header(raw, present["individuals"])
    else:
        total, total_header = origin_sum, None
        notes.append("no total column: each row's total is the sum of its state-of-origin columns")
    checks = [("state-of-origin", origin_sum)]
    if nationalities:
        by_nationality = pd.DataFrame(
            {p: _numbers(raw, p, problems, blank_is_zero=True) for p in nationalities}, index=index
        ).apply(pd.to_numeric)
        checks.append(("nationality", by_nationality.sum(axis=1, min_count=len(nationalities))))
    if total_header is not None:
        for label, summed in checks:
            off = summed.notna() & total.notna() & (summed != total) & ~is_total
            problems.append(
                pd.DataFrame(
                    {
                        "row": index[off.to_numpy()],
                        "column": total_header,
                        "value": total[off].astype("Int64").astype(str).to_numpy(dtype=object),
                        "reason": [
                            f"the {label} columns add up to {int(s):,}, not to this total ({int(s - t):+,}); "
                            "the row is not stored, so that no total is misstated"
                            for s, t in zip(summed[off], total[off], strict=True)
                        ],
                    }
                )
            )
    problems.extend(_check_total_rows(raw, is_total, {p: matrix[p] for p in origins}, total, total_header))

    aggregate = "locality" in present
    rows_with_problems = set(pd.concat(problems)["row"]) if problems else set()
    valid = destination.notna() & ~is_total & ~index.isin(rows_with_problems)
    if not aggregate:
        earlier = _repeats(pd.DataFrame({"destination": destination}, index=index.rename("row")), valid)
        if len(earlier):
            problems.append(
                pd.DataFrame(
                    {
                        "row": earlier.index,
                        "column": _header(raw, present.get("destination", present.get("destination_pcode"))),
                        "value": raw.data.loc[
                            earlier.index, present.get("destination", present.get("destination_pcode"))
                        ]
                        .map(values.text_of)
                        .to_numpy(dtype=object),
                        "reason": [
                            f"this state of displacement is already given in row {r}" for r in earlier
                        ],
                    }
                )
            )

    ptype = population_type(raw, present.get("individuals"))
    source = source_name(raw)
    keep = ~is_total
    long = (
        matrix.loc[keep, [p for p, code in origin_codes.items() if code]]
        .rename(columns=origin_codes)
        .stack(future_stack=True)
        if keep.any()
        else pd.Series()
    )
    flows = pd.DataFrame(
        {
            "row": long.index.get_level_values(0).to_numpy(),
            "origin_pcode": long.index.get_level_values(1).to_numpy(dtype=object),
            "individuals": long.to_numpy(dtype=object),
        }
    )
    flows["column"] = flows["origin_pcode"].map({c: raw.header[p] for p, c in origin_codes.items() if c})
    flows["destination_pcode"] = destination.reindex(flows["row"]).to_numpy(dtype=object)
    flows["period"] = when
    flows["population_type"] = ptype
    flows["households"] = pd.NA
    flows["source"] = source
    flows = flows[flows["origin_pcode"].notna()]
    return ParsedFlows(
        flows=flows.reset_index(drop=True),
        problems=_combined(problems),
        rows=int((~is_total).sum()) + _failed_total_rows(problems, is_total),
        unmatched=unmatched,
        notes=[
            *notes,
            *_total_notes(problems, is_total),
            *([HOUSEHOLDS_NOTE] if "households" in present else []),
        ],
        aggregate=aggregate,
    )


def _check_total_rows(raw, is_total, origin_cells, total, total_header) -> list[pd.DataFrame]:
    """A "Total" row must equal the sum of the rows above it, column by column."""
    out = []
    if not is_total.any():
        return out
    body = ~is_total
    sums = {raw.header[p]: pd.to_numeric(c[body]).sum() for p, c in origin_cells.items()}
    if total_header is not None:
        sums[total_header] = total[body].sum()
    for row in raw.data.index[is_total.to_numpy()]:
        cells = {raw.header[p]: c.at[row] for p, c in origin_cells.items()}
        if total_header is not None:
            cells[total_header] = total.at[row]
        for header, value in cells.items():
            if value is not None and not pd.isna(value) and int(value) != int(sums[header]):
                out.append(
                    pd.DataFrame(
                        [
                            {
                                "row": row,
                                "column": header,
                                "value": str(value),
                                "reason": f"the total row says {int(value):,}; "
                                f"the rows above add up to {int(sums[header]):,}",
                            }
                        ]
                    )
                )
    return out


def _total_notes(problems: list[pd.DataFrame], is_total: pd.Series) -> list[str]:
    rows = set(_combined(problems)["row"])
    return [
        f"row {row} is a total row: it matches the rows above and is not stored"
        for row in is_total.index[is_total.to_numpy()]
        if row not in rows
    ]


def _failed_total_rows(problems: list[pd.DataFrame], is_total: pd.Series) -> int:
    rows = set(_combined(problems)["row"])
    return sum(1 for row in is_total.index[is_total.to_numpy()] if row in rows)


def _combined(problems: list[pd.DataFrame]) -> pd.DataFrame:
    found = [p for p in problems if len(p)]
    return pd.concat(found, ignore_index=True) if found else schema.empty_rejections()


def _parse_long(raw: RawTable, present: dict[str, int], period: pd.Timestamp | None) -> ParsedFlows:
    _require(raw, present, ("origin", "origin_pcode"), ("destination", "destination_pcode"), ("individuals",))
    index = raw.data.index
    problems: list[pd.DataFrame] = []
    unmatched: Counter = Counter()
    notes: list[str] = []
    is_total = _total_rows(raw, present)
    origin = _states(raw, present, "origin_pcode", "origin", problems, unmatched, is_total)
    destination = _states(raw, present, "destination_pcode", "destination", problems, unmatched, is_total)
    problems = [p[~p["row"].isin(index[is_total.to_numpy()])] for p in problems]
    individuals = _numbers(raw, present["individuals"], problems, blank_is_zero=False)
    households = (
        _numbers(raw, present["households"], problems, blank_is_zero=False)
        if "households" in present
        else pd.Series(None, index=index, dtype=object)
    )
    if "period" in present:
        cells = raw.data[present["period"]]
        order, mixed, note = values.date_order(cells)
        if note:
            notes.append(f"column {_header(raw, present['period'])!r}: {note}")
        parsed = values.parse_column(cells, values.parse_date(order, mixed))
        problems.append(problems_frame(index, _header(raw, present["period"]), cells, parsed.problems))
        when = parsed.values
        if period is not None:
            when = when.where(when.notna(), period)
    else:
        found, round_notes = round_date(raw, period)
        notes += round_notes
        if found is None:
            raise NothingUsable(
                f"{raw.path}: no date column and no round date in the title or file name; "
                "give --period YYYY-MM-DD"
            )
        when = pd.Series(found, index=index, dtype=object)
    if "population_type" in present:
        cells = raw.data[present["population_type"]]
        parsed = values.parse_column(
            cells, values.parse_coded("population_type", schema.DISPLACEMENT, blank=None)
        )
        problems.append(
            problems_frame(index, _header(raw, present["population_type"]), cells, parsed.problems)
        )
        ptype = parsed.values
    else:
        ptype = pd.Series(population_type(raw, present["individuals"]), index=index, dtype=object)
    problems.extend(_check_total_rows(raw, is_total, {present["individuals"]: individuals}, None, None))
    flows = pd.DataFrame(
        {
            "row": index.to_numpy(),
            "column": _header(raw, present["individuals"]),
            "period": when.to_numpy(dtype=object),
            "origin_pcode": origin.to_numpy(dtype=object),
            "destination_pcode": destination.to_numpy(dtype=object),
            "population_type": ptype.to_numpy(dtype=object),
            "individuals": individuals.to_numpy(dtype=object),
            "households": households.to_numpy(dtype=object),
            "source": source_name(raw),
        }
    )[~is_total.to_numpy()]
    aggregate = "locality" in present
    if not aggregate:
        bad_rows = set(_combined(problems)["row"])
        keys = flows.set_index("row")[KEY]
        valid = pd.Series(~keys.index.isin(bad_rows) & keys.notna().all(axis=1).to_numpy(), index=keys.index)
        earlier = _repeats(keys.astype(str), valid)
        if len(earlier):
            problems.append(
                pd.DataFrame(
                    {
                        "row": earlier.index,
                        "column": _header(raw, present["individuals"]),
                        "value": raw.data.loc[earlier.index, present["individuals"]]
                        .map(values.text_of)
                        .to_numpy(dtype=object),
                        "reason": [f"the same origin, destination and round as row {r}" for r in earlier],
                    }
                )
            )
    return ParsedFlows(
        flows=flows.reset_index(drop=True),
        problems=_combined(problems),
        rows=int((~is_total).sum()) + _failed_total_rows(problems, is_total),
        unmatched=unmatched,
        notes=[*notes, *_total_notes(problems, is_total)],
        aggregate=aggregate,
    )


def validate_flows(parsed: ParsedFlows) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accepted flows (canonical dtypes plus ``row``) and rejections; a row is stored whole or not at all."""
    flows = parsed.flows
    bad_rows = set(parsed.problems["row"].dropna())
    candidates = flows[~flows["row"].isin(bad_rows)].reset_index(drop=True)
    candidates = candidates.assign(
        individuals=pd.to_numeric(candidates["individuals"]),
        households=pd.to_numeric(candidates["households"]).astype("Float64"),
        period=pd.to_datetime(candidates["period"]),
    )
    accepted, rejections = schema.validate(candidates, "flows")
    if len(rejections):
        row_of = candidates["row"]
        header_of = candidates["column"]
        rejections = rejections.assign(
            column=[
                header_of.at[r] if c in ("individuals", "origin_pcode") else c
                for r, c in zip(rejections["row"], rejections["column"], strict=True)
            ],
            row=[row_of.at[r] if r is not None else None for r in rejections["row"]],
        )
    all_rejections = _combined([parsed.problems, rejections])
    all_rejections = all_rejections.drop_duplicates(["row", "column"], keep="first")
    rejected_rows = set(all_rejections["row"].dropna())
    accepted = accepted.assign(row=candidates.loc[accepted.index, "row"].to_numpy())
    accepted = accepted[~accepted["row"].isin(rejected_rows)].reset_index(drop=True)
    return accepted, all_rejections.reset_index(drop=True)


def aggregate_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """Sum sub-state rows per state pair and round (households stay NA unless every part has them)."""
    summed = flows.groupby([*KEY, "source"], observed=True, dropna=False).agg(
        individuals=("individuals", "sum"),
        households=("households", lambda h: h.sum() if h.notna().all() else np.nan),
    )
    return schema.conform(summed.reset_index(), "flows")
