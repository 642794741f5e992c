"""Flow monitoring registry exports into the ``crossings`` table: ``flowmon ingest crossings FILE...``.

A registry export comes long (a direction column and a count column: ``#indicator+num``) or wide (one count
column per direction: incoming, outgoing, transit, in English or Arabic), daily or monthly (a date such as
``2024-05`` or ``May 2024`` is the month, stored as its first day). Columns are found through the synonyms
file (scope ``crossings``), HXL tags first; the point is a code, English or Arabic name of
geo/crossing_points.csv or a known alias (Arqin, Qustul, Metema...). Origin and destination are a country
(ISO code or name) or a Sudanese state (pcode or name). Missing optional columns read unknown.

The rules are the other streams': every problem is a rejection naming the row the user sees, the user's
header and the value; exit 0 when every row is accepted, 1 when some are rejected (the others stored), 2 when
a file is unreadable or has nothing usable (nothing at all stored); the store is written atomically, once.
Rows that describe the same people (same day, point, direction, nationality, sex, age group, origin,
destination, transport) are summed first (a registry kept at a finer level than flowmon's, such as localities
of origin) and then compared with what is stored or given earlier in the run: the same count is a note (not
stored again), a different one a conflict (the rows are rejected).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pandas as pd

from flowmon import recordkeys, schema, store
from flowmon.ingest import columns, readers, values
from flowmon.ingest.cases import NothingUsable, problems_frame
from flowmon.ingest.report import FileReport, begin

STREAM = "crossings"
WIDE = {"count_in": "in", "count_out": "out", "count_transit": "transit"}
IDENTITY = list(recordkeys.CROSSING_IDENTITY)
# Names people use for the points besides those of geo/crossing_points.csv (the town across, older spellings).
POINT_ALIASES = {
    "arqin": "ARG", "argin": "ARG", "arqeen": "ARG", "ashkit": "ASH", "ashkeit": "ASH", "qustul": "ASH",
    "adre": "ADR", "adré": "ADR", "adri": "ADR", "metema": "GAL", "matamma": "GAL", "qallabat": "GAL",
    "al gallabat": "GAL", "al qallabat": "GAL", "lafa": "KAS", "al lafa": "KAS", "kassala": "KAS",
    "halfa": "WHF", "port sudan": "PZU", "bur sudan": "PZU", "sawakin": "SUA", "suakin": "SUA", "renk": "JOD",
    "al kurmuk": "KUR", "kusti": "KST",
}  # fmt: skip
_MONTH_ONLY = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MONTH_NAME_YEAR = re.compile(r"^([A-Za-z]{3,9})\.?[\s\-_/]+(\d{4})$")


@cache
def _point_index() -> dict[str, str]:
    from flowmon.geo.crossing_points import crossing_points

    index = {columns.normalise(k): v for k, v in POINT_ALIASES.items()}
    for row in crossing_points().itertuples():
        for name in (row.code, row.name, row.name_ar, re.sub(r"\s*\(.*\)", "", row.name)):
            index[columns.normalise(name)] = row.code
    return index


def parse_point(value: object) -> values.Parsed:
    if values.is_blank(value):
        return None, None
    code = _point_index().get(columns.normalise(values.text_of(value)))
    if code is None:
        return None, "not a point of geo/crossing_points.csv (a code, English or Arabic name)"
    return code, None


def parse_place(value: object) -> values.Parsed:
    """A country (ISO code or name) or a Sudanese state (pcode or name); blank and unknown read UNK."""
    if values.is_blank(value) or columns.normalise_value(value) in columns.unknown_tokens():
        return schema.UNKNOWN_COUNTRY, None
    state, _ = values.parse_state(value)
    if state is not None:
        return state, None
    country, problem = values.parse_country(blank=schema.UNKNOWN_COUNTRY)(value)
    if problem is None:
        return country, None
    return None, "not a country (ISO code or name) or a state of Sudan (pcode or name)"


def parse_month_or_day(order: str, mixed: bool):
    """Dates as ``values.parse_date``, and months (``2024-05``, ``May 2024``) as their first day."""
    day = values.parse_date(order, mixed)

    def parse(value: object) -> values.Parsed:
        if isinstance(value, str):
            text = value.strip()
            if match := _MONTH_ONLY.match(text):
                month = int(match[2])
                return (
                    (pd.Timestamp(int(match[1]), month, 1), None)
                    if 1 <= month <= 12
                    else (None, "not a date")
                )
            if (match := _MONTH_NAME_YEAR.match(text)) and match[1].lower() in values._MONTHS:
                return pd.Timestamp(int(match[2]), values._MONTHS[match[1].lower()], 1), None
        return day(value)

    return parse


def parse_file(raw: readers.RawTable, *, period: pd.Timestamp | None, date_order: str | None, source: str):
    """``(frame, problems, unmatched, notes)``: one row per direction given on a file row (canonical values,
    ``row``: the user's row number, ``column``: the header of its count) and the problems found."""
    mapping = columns.map_columns(raw.header, raw.hxl, STREAM)
    present = mapping.fields
    wide = [name for name in WIDE if name in present]
    missing = []
    if "date" not in present and period is None:
        missing.append("date")
    if "point" not in present:
        missing.append("point")
    if not wide and "count" not in present:
        missing.append("count")
    if not wide and "direction" not in present:
        missing.append("direction")
    if missing:
        details = "; ".join(
            f"no column for {name} (expected a header such as "
            f"{', '.join(repr(s) for s in columns.spellings(name, STREAM)[:5])})"
            for name in missing
        )
        raise NothingUsable(f"{raw.path}: {details}")

    data, index = raw.data, raw.data.index
    problems: list[pd.DataFrame] = []
    notes: list[str] = []
    unmatched: Counter = Counter()
    frame = pd.DataFrame(index=index)

    def header_of(name: str) -> str:
        at = present[name]
        text = raw.header[at] if at < len(raw.header) else ""
        return text or (raw.hxl[at] if raw.hxl else "") or f"column {at + 1}"

    def run(name: str, parser, *, names_unmatched: bool = False) -> pd.Series:
        cells = data[present[name]]
        parsed = values.parse_column(cells, parser)
        problems.append(problems_frame(index, header_of(name), cells, parsed.problems))
        if names_unmatched:
            unmatched.update(cells[parsed.problems.notna()].map(values.text_of).value_counts().to_dict())
        return parsed.values

    if "date" in present:
        order, mixed, note = values.date_order(data[present["date"]], date_order)
        if note:
            notes.append(f"column {header_of('date')!r}: {note}")
        frame["date"] = run("date", parse_month_or_day(order, mixed))
    else:
        frame["date"] = period
        notes.append(f"no date column: every row dated {period:%Y-%m-%d} (--period)")
    frame["point"] = run("point", parse_point, names_unmatched=True)
    defaults = (
        ("nationality", values.parse_country(blank=schema.UNKNOWN_COUNTRY), schema.UNKNOWN_COUNTRY),
        ("sex", values.parse_coded("sex", STREAM, blank="unknown"), "unknown"),
        ("age", values.parse_age, "unknown"),
        ("origin", parse_place, schema.UNKNOWN_COUNTRY),
        ("destination", parse_place, schema.UNKNOWN_COUNTRY),
        ("transport", values.parse_coded("transport", STREAM, blank="unknown"), "unknown"),
    )
    for name, parser, default in defaults:
        canonical = "age_group" if name == "age" else name
        if name in present:
            frame[canonical] = run(name, parser, names_unmatched=name in ("origin", "destination"))
        else:
            frame[canonical] = default
            notes.append(f"no {name} column: every row reads {default}")
    if "source" in present:
        cells = data[present["source"]]
        frame["source"] = cells.map(lambda v: None if values.is_blank(v) else values.text_of(v)).fillna(
            source
        )
    else:
        frame["source"] = source

    parts = []
    if wide:
        if "direction" in present or "count" in present:
            notes.append(
                "counts read from the columns per direction; the direction and count columns are not read"
            )
        for name in wide:
            part = frame.assign(
                direction=WIDE[name], count=run(name, values.parse_count), column=header_of(name)
            )
            parts.append(part[part["count"].notna()])  # a blank cell: nobody recorded that way
    else:
        frame["direction"] = run("direction", values.parse_coded("direction", STREAM, blank=None))
        frame["count"] = run("count", values.parse_count)
        parts.append(frame.assign(column=header_of("count")))
    for position, name in mapping.shadowed.items():
        notes.append(
            f"column {raw.header[position]!r} not read: {header_of(name)!r} already gives the {name}"
        )
    long = pd.concat(parts).rename_axis("row").reset_index()
    long["date"] = pd.to_datetime(long["date"])
    found = [p for p in problems if len(p)]
    problem_table = pd.concat(found, ignore_index=True) if found else schema.empty_rejections()
    return long, problem_table, unmatched, notes


def _identity(frame: pd.DataFrame) -> pd.Series:
    return recordkeys.crossing_identity(frame)


def ingest_crossings(
    paths: Iterable[str | os.PathLike],
    data_dir: str | os.PathLike | None = None,
    period: pd.Timestamp | None = None,
    sheet: str | None = None,
    *,
    date_order: str | None = None,
    synthetic: bool = False,
):
    """Ingest flow monitoring exports into the crossings table (see the module docstring for the rules)."""
    from flowmon.ingest.pipeline import IngestResult, _without_path

    folder = store.resolve_data_dir(data_dir)
    known = store.known_sha256(folder)
    existing = store.load_table(folder, "crossings") if folder.exists() else schema.empty("crossings")
    # What is stored: identity -> count (rows of one identity summed, as new files are).
    seen = existing.assign(_id=_identity(existing)).groupby("_id")["count"].sum() if len(existing) else None
    seen_counts: dict[str, tuple[int, str]] = (
        {k: (int(v), "already stored") for k, v in seen.items()} if seen is not None else {}
    )
    reports: list[FileReport] = []
    new_parts: list[pd.DataFrame] = []
    sources: list[dict] = []
    run_hashes: set[str] = set()
    for path in map(Path, paths):
        report, digest = begin(path, STREAM, known, run_hashes)
        reports.append(report)
        if digest is None:
            continue
        try:
            raw = readers.read_raw(path, sheet)
            report.rows = len(raw.data) + len(raw.problems)
            long, problems, unmatched, notes = parse_file(
                raw, period=period, date_order=date_order, source=path.name
            )
        except (readers.UnreadableFile, NothingUsable) as error:
            report.fatal = _without_path(str(error), path)
            report.rejections = [{"row": None, "column": None, "value": None, "reason": report.fatal}]
            report.rejected = report.rows
            continue
        report.notes.extend(notes)
        report.unmatched_names = dict(sorted(unmatched.items(), key=lambda item: (-item[1], item[0])))
        reader_problems = pd.DataFrame(raw.problems, columns=list(schema.REJECTION_COLUMNS))
        bad_rows = set(problems["row"].dropna())
        candidates = long[~long["row"].isin(bad_rows)]
        checked, schema_rejections = schema.validate(
            candidates[list(schema.CROSSING_COLUMNS)].set_axis(range(len(candidates))), "crossings"
        )
        if len(schema_rejections):
            at = schema_rejections["row"].astype(int)
            schema_rejections = schema_rejections.assign(
                row=candidates["row"].to_numpy()[at], column=candidates["column"].to_numpy()[at]
            )
        checked = checked.assign(row=candidates["row"].to_numpy()[checked.index])
        rejections = pd.concat(
            [p for p in (reader_problems, problems, schema_rejections) if len(p)]
            or [schema.empty_rejections()],
            ignore_index=True,
        )
        rejected_rows = set(rejections["row"].dropna())
        checked = checked[~checked["row"].isin(rejected_rows)]
        kept, conflicts, already = _judge(checked, seen_counts, path.name, report)
        rejections = pd.concat([rejections, conflicts], ignore_index=True) if len(conflicts) else rejections
        report.tally(rejections, already)
        if report.fatal or kept.empty:
            continue
        new_parts.append(kept)
        sources.append(
            {
                "path": str(path.resolve()),
                "sha256": digest,
                "stream": schema.CROSSING,
                "table": "crossings",
                "sheet": raw.sheet,
                "rows": report.rows,
                "accepted": report.accepted,
                "rejected": report.rejected,
                "ingested_at": store.now(),
                "synthetic": synthetic,
                "as_of": pd.Timestamp(kept["date"].max()).date().isoformat(),
            }
        )

    result = IngestResult(files=reports, exit_code=0, data_dir=folder)
    if any(report.fatal for report in reports):
        result.exit_code = 2
        return result
    result.exit_code = 1 if any(report.rejected for report in reports) else 0
    if sources:
        new = pd.concat([schema.conform(part, "crossings") for part in new_parts], ignore_index=True)
        combined = pd.concat([existing, new], ignore_index=True)
        store.commit(folder, {"crossings": combined}, sources, synthetic=True if synthetic else None)
        result.stored = {"crossings": len(new)}
        result.new_rows = {"crossings": new}
        result.totals = {"crossings": len(combined)}
    return result


def _judge(checked: pd.DataFrame, seen: dict[str, tuple[int, str]], label: str, report: FileReport):
    """Sum the rows of one identity; keep the new ones, note those already known with the same count and
    reject those known with another (a conflict). Returns kept rows, rejections and the rows already known."""
    if checked.empty:
        return checked.drop(columns="row"), schema.empty_rejections(), 0
    keyed = checked.assign(_id=_identity(checked).to_numpy())
    groups = keyed.groupby("_id", sort=False)
    summed = groups.agg(count=("count", "sum"), rows=("row", list), first=("row", "first"))
    if (summed["rows"].map(len) > 1).any():
        report.notes.append(
            f"{len(keyed):,} rows describe {len(summed):,} groups of people (same day, point, direction, "
            "nationality, sex, age group, origin, destination and transport): their counts are added up"
        )
    kept_ids, conflict_rows, already = [], [], 0
    for identity, row in summed.iterrows():
        total = int(row["count"])
        if identity not in seen:
            seen[identity] = (total, f"given earlier in this run by {label}")
            kept_ids.append(identity)
        elif seen[identity][0] == total:
            already += len(set(row["rows"]))
        else:
            stored, whence = seen[identity]
            reason = f"conflict: these people are counted {total:,} here, {stored:,} {whence}; not stored"
            conflict_rows += [(r, reason) for r in dict.fromkeys(row["rows"])]
    if already:
        report.notes.append(
            f"{already:,} rows give counts already stored with the same figures: not stored again"
        )
    conflicts = pd.DataFrame(
        {
            "row": [r for r, _ in conflict_rows],
            "column": None,
            "value": None,
            "reason": [m for _, m in conflict_rows],
        }
    )
    first = keyed.drop_duplicates("_id").set_index("_id")
    kept = first.loc[kept_ids].assign(count=summed.loc[kept_ids, "count"].to_numpy())
    kept = kept.reset_index(drop=True).drop(columns="row")
    return (
        kept[list(schema.CROSSING_COLUMNS)],
        conflicts if len(conflicts) else schema.empty_rejections(),
        already,
    )
