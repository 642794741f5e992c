"""Case exports (caseload, return, referral) into the ``events`` table.

Each column of the file is placed on a field through the synonyms file (:mod:`flowmon.ingest.columns`); each
field's values are parsed into canonical codes (:mod:`flowmon.ingest.values`); the result is validated by
:func:`flowmon.schema.validate`. Every rejection names the row number the user sees, the user's own column
header and the value as written.

Required columns: a record id, a date (or ``--period`` when the file has no date column), an office, a state
(pcode or name) and the category of the stream (service, reintegration status or exploitation type; a referral
file without one reads ``unknown``), plus the destination country for returns. Optional: nationality, sex and
age (unknown when absent), the count (1 when absent: one row is one event) and, for referrals, the service
referred to.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from flowmon import schema
from flowmon.ingest import columns, values
from flowmon.ingest.readers import RawTable

VALIDATE_CHUNK = 250_000


class NothingUsable(ValueError):
    """The file is readable but cannot give a single row (a required column is missing)."""


@dataclass
class Parsed:
    """A file's rows as canonical values, the problems found on the way, and notes for the user."""

    frame: pd.DataFrame  # canonical columns, index = the user's row numbers
    problems: pd.DataFrame  # row, column, value, reason
    unmatched: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> the user's header
    originals: dict[str, pd.Series] = field(default_factory=dict)  # canonical column -> raw cells
    fields: dict[str, str] = field(default_factory=dict)  # the user's header -> canonical column


def required_fields(stream: str, has_period: bool) -> list[tuple[str, ...]]:
    """Each entry lists the fields of which at least one must be present."""
    needed = [("record_id",), ("office",), ("state_pcode", "state")]
    if not has_period:
        needed.insert(1, ("date",))
    if stream != "referral":
        needed.append(("category",))
    if stream == "return":
        needed.append(("destination",))
    return needed


def _expected_names(field_name: str, stream: str) -> str:
    names = [
        synonym
        for scope, synonym, target in columns.synonyms().columns
        if target == field_name and columns._applies(scope, stream) and not synonym.startswith("#")
    ]
    return ", ".join(repr(n) for n in names[:6])


def problems_frame(rows: pd.Index, column: str, raw: pd.Series, reasons: pd.Series) -> pd.DataFrame:
    bad = reasons.notna()
    return pd.DataFrame(
        {
            "row": rows[bad.to_numpy()],
            "column": column,
            "value": raw[bad].map(values.text_of).to_numpy(dtype=object),
            "reason": reasons[bad].to_numpy(dtype=object),
        }
    )


def parse_cases(
    raw: RawTable, stream: str, *, period: pd.Timestamp | None = None, date_order: str | None = None
) -> Parsed:
    mapping = columns.map_columns(raw.header, raw.hxl, stream)
    present = mapping.fields
    missing = [
        group for group in required_fields(stream, period is not None) if not any(f in present for f in group)
    ]
    if missing:
        details = "; ".join(
            f"no column for {group[-1].replace('_', ' ')} (expected a header such as "
            f"{_expected_names(group[-1], stream)})"
            for group in missing
        )
        raise NothingUsable(f"{raw.path}: {details}")

    data = raw.data
    index = data.index
    problems: list[pd.DataFrame] = []
    frame = pd.DataFrame(index=index)
    headers: dict[str, str] = {}
    fields: dict[str, str] = {}
    originals: dict[str, pd.Series] = {}
    notes: list[str] = []
    unmatched: Counter = Counter()

    def header_of(name: str) -> str:
        text = raw.header[present[name]] if present[name] < len(raw.header) else ""
        return text or (raw.hxl[present[name]] if raw.hxl else "") or f"column {present[name] + 1}"

    def run(name: str, parser, canonical: str, *, names_unmatched: bool = False) -> pd.Series:
        cells = data[present[name]]
        parsed = parser(cells) if name == "record_id" else values.parse_column(cells, parser)
        header = header_of(name)
        problems.append(problems_frame(index, header, cells, parsed.problems))
        headers.setdefault(canonical, header)
        originals.setdefault(canonical, cells)
        fields[header] = canonical
        if names_unmatched:
            bad = parsed.problems.notna()
            unmatched.update(cells[bad].map(values.text_of).value_counts().to_dict())
        return parsed.values

    frame["record_id"] = run("record_id", values.parse_record_ids, "record_id")
    frame["stream"] = stream

    if "date" in present:
        cells = data[present["date"]]
        order, mixed, note = values.date_order(cells, date_order)
        if note:
            notes.append(f"column {header_of('date')!r}: {note}")
        frame["date"] = run("date", values.parse_date(order, mixed), "date")
    else:
        frame["date"] = period
        notes.append(f"no date column: every row dated {period:%Y-%m-%d} (--period)")

    frame["office"] = run("office", values.parse_office, "office", names_unmatched=True)
    frame["state_pcode"] = _state(run, data, present, header_of, problems, index)

    for name, parser, default in (
        ("nationality", values.parse_country(blank=schema.UNKNOWN_COUNTRY), schema.UNKNOWN_COUNTRY),
        ("sex", values.parse_coded("sex", stream, blank="unknown"), "unknown"),
        ("age", values.parse_age, "unknown"),
    ):
        canonical = "age_group" if name == "age" else name
        if name in present:
            frame[canonical] = run(name, parser, canonical, names_unmatched=name == "nationality")
        else:
            frame[canonical] = default
            notes.append(f"no {name} column: every row reads {default}")

    category_blank = "unknown" if "unknown" in schema.CATEGORIES[stream] else None
    if "category" in present:
        frame["category"] = run(
            "category", values.parse_coded("category", stream, blank=category_blank), "category"
        )
    else:
        frame["category"] = category_blank
        notes.append(f"no {schema.CATEGORY_LABELS[stream]} column: every row reads {category_blank}")

    if stream == "return":
        frame["destination"] = run(
            "destination",
            values.parse_country(blank=schema.UNKNOWN_COUNTRY),
            "destination",
            names_unmatched=True,
        )
    else:
        frame["destination"] = None
    if stream == "referral" and "referred_to" in present:
        frame["referred_to"] = run(
            "referred_to", values.parse_coded("referred_to", stream, blank=None), "referred_to"
        )
    else:
        frame["referred_to"] = None

    if "count" in present:
        frame["count"] = run("count", values.parse_count, "count")
    else:
        frame["count"] = 1

    for position, name in mapping.shadowed.items():
        notes.append(
            f"column {raw.header[position]!r} not read: {header_of(name)!r} already gives the {name}"
        )
    frame = frame[list(schema.EVENT_COLUMNS)]
    frame["date"] = pd.to_datetime(frame["date"])
    frame["count"] = pd.to_numeric(frame["count"])
    found = [p for p in problems if len(p)]
    problem_table = pd.concat(found, ignore_index=True) if found else schema.empty_rejections()
    return Parsed(frame, problem_table, unmatched, notes, headers, originals, fields)


def _state(run, data, present, header_of, problems, index) -> pd.Series:
    by_code = (
        run("state_pcode", values.parse_state, "state_pcode", names_unmatched=True)
        if "state_pcode" in present
        else None
    )
    by_name = (
        run("state", values.parse_state, "state_pcode", names_unmatched=True) if "state" in present else None
    )
    state, disagree = values.combine_states(by_code, by_name)
    if disagree.any():
        problems.append(
            pd.DataFrame(
                {
                    "row": index[disagree.to_numpy()],
                    "column": header_of("state"),
                    "value": data.loc[disagree, present["state"]].map(values.text_of).to_numpy(dtype=object),
                    "reason": (
                        "the state name and the state pcode disagree (the pcode is " + by_code[disagree] + ")"
                    ).to_numpy(dtype=object),
                }
            )
        )
    return state


def validate_cases(parsed: Parsed, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accepted events (canonical dtypes, index = row numbers) and every rejection, in the user's terms."""
    frame = parsed.frame
    own = parsed.problems.assign(field=parsed.problems["column"].map(lambda c: parsed.fields.get(c, c)))
    accepted_parts, rejection_parts = [], [own]
    for start in range(0, len(frame), VALIDATE_CHUNK):
        chunk = frame.iloc[start : start + VALIDATE_CHUNK]
        accepted, rejections = schema.validate(chunk, "events")
        accepted_parts.append(accepted)
        rejection_parts.append(_in_user_terms(rejections.assign(field=rejections["column"]), parsed))
        if progress is not None:
            progress.update(len(chunk))
    rejections = pd.concat(
        [p for p in rejection_parts if len(p)] or [schema.empty_rejections()], ignore_index=True
    )
    # One problem per row and field: a state name not found is not also "missing" from the pcode column.
    known_field = rejections["field"] if "field" in rejections else rejections["column"]
    rejections = rejections.assign(field=known_field.fillna(rejections["column"]))
    rejections = rejections.drop_duplicates(["row", "field"], keep="first").drop(columns="field")
    accepted = pd.concat(accepted_parts) if accepted_parts else schema.empty("events")
    accepted = accepted.loc[~accepted.index.isin(rejections["row"].dropna())]
    return accepted, rejections


def _in_user_terms(rejections: pd.DataFrame, parsed: Parsed) -> pd.DataFrame:
    """Schema rejections name canonical columns and values: give them the user's header and cell instead."""
    if rejections.empty:
        return rejections
    out = rejections.copy()
    user_values = []
    for row, column, value in zip(out["row"], out["column"], out["value"], strict=True):
        cells = parsed.originals.get(column)
        user_values.append(values.text_of(cells.at[row]) if cells is not None and row is not None else value)
    out["value"] = [None if values.is_blank(v) else v for v in user_values]
    out["column"] = out["column"].map(lambda c: parsed.headers.get(c, c))
    return out
