"""TRQN assignments (Temporary Return of Qualified Nationals): read, check, store and count them.

One row per assignment of a Sudanese expert living abroad with a Sudanese host institution: ``phase``,
``state_pcode``, ``sector``, ``host_institution``, ``expert_sex``, ``country_of_residence``, ``start`` and
``end`` (empty while under way), and a pseudonymous ``assignment_id`` (``flowmon.schema.TRQN_COLUMNS``). The
table is stored as ``trqn.parquet`` beside the other tables, with its source in the manifest.

``ingest_trqn`` follows the ingest rules of ``flowmon.ingest.pipeline``: the same JSON report and terminal
summary, exit 0 when every row is stored, 1 when some rows are rejected (the others stored), 2 when the file
is unreadable or has nothing usable (nothing stored); an assignment already stored with the same content is a
note, not a rejection; the table is replaced atomically and the manifest renamed last.

Counts of assignments are counts of named experts, few per cell: ``counts`` publishes them through
``privacy.release`` with the cell key method at k = 5 (keys from the store's secret and the assignment id),
never as they are. No row-level field (id, institution, phase) leaves this module.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

from flowmon import privacy, recordkeys, schema, store
from flowmon.filters import period_span
from flowmon.ingest import readers
from flowmon.ingest.report import FileReport, dumps, summary

TABLE_FILE = "trqn.parquet"
STREAM = "trqn"
K = 5
# The cell key perturbation of a case stream at k = 5: TRQN counts are published like case counts (their
# own k, not the caseload's: an operator's k for caseloads does not move it below 5 or above it).
_RELEASE_STREAM = "caseload"
_HEADERS = {
    "assignment_id": ("assignment id", "assignment", "id", "trqn id", "code"),
    "phase": ("phase", "trqn phase", "project phase"),
    "state_pcode": ("state pcode", "state", "admin1pcode", "admin1 pcode", "pcode"),
    "sector": ("sector",),
    "host_institution": ("host institution", "institution", "host"),
    "expert_sex": ("expert sex", "sex", "gender"),
    "country_of_residence": ("country of residence", "residence", "country", "host country abroad"),
    "start": ("start", "start date", "assignment start"),
    "end": ("end", "end date", "assignment end"),
}
_SEX = {"f": "female", "female": "female", "m": "male", "male": "male", "unknown": "unknown", "": "unknown"}


def table_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / TABLE_FILE


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.TRQN_DTYPES.items()})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for column, dtype in schema.TRQN_DTYPES.items():
        values = frame[column]
        if column in ("start", "end"):
            values = pd.to_datetime(values)
        out[column] = values.astype(dtype)
    return out.reset_index(drop=True)


def load(data_dir: str | os.PathLike) -> pd.DataFrame:
    """The stored assignments (empty with the canonical columns when none are stored)."""
    path = table_path(data_dir)
    return conform(pd.read_parquet(path)) if path.exists() else empty()


# ------------------------------------------------------------------------------------------------ reading


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", str(text).strip().lower())


def _columns(header: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Canonical column -> position in the file, and canonical column -> the user's header."""
    wanted = {_key(name): column for column, names in _HEADERS.items() for name in (column, *names)}
    positions: dict[str, int] = {}
    shown: dict[str, str] = {}
    for position, text in enumerate(header):
        column = wanted.get(_key(text or ""))
        if column and column not in positions:
            positions[column] = position
            shown[column] = text
    return positions, shown


def _country(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if text.upper() in schema.country_codes():
        return text.upper()
    try:
        return pycountry.countries.lookup(text).alpha_3
    except LookupError:
        return None


def parse(raw: readers.RawTable) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """The rows of ``raw`` that conform (canonical, index = the user's row numbers) and one rejection per
    failing cell (``row``, ``column`` as the user wrote it, ``value``, ``reason``)."""
    positions, shown = _columns(raw.header)
    missing = [c for c in schema.TRQN_COLUMNS if c not in positions and c != "end"]
    if missing:
        names = ", ".join(missing)
        raise readers.UnreadableFile(f"{raw.path}: no column for {names} (headers: {', '.join(raw.header)})")
    text = pd.DataFrame(
        {
            c: raw.data[p].astype("object").where(raw.data[p].notna(), "").astype(str).str.strip()
            for c, p in positions.items()
        },
        index=raw.data.index,
    )
    if "end" not in text:
        text["end"] = ""
        shown["end"] = "end"
    problems: list[tuple[int, str, str, str]] = []

    def bad(mask: pd.Series, column: str, reason: str) -> None:
        for row in text.index[mask.to_numpy()]:
            problems.append((row, shown[column], text.at[row, column], reason))

    out = pd.DataFrame(index=text.index)
    out["assignment_id"] = text["assignment_id"]
    bad(
        ~text["assignment_id"].str.match(schema.RECORD_ID_PATTERN),
        "assignment_id",
        "assignment id must be a pseudonymous code, not a name",
    )
    out["phase"] = text["phase"]
    bad(~text["phase"].str.len().between(1, 40), "phase", "phase must be named (at most 40 characters)")
    out["state_pcode"] = text["state_pcode"].str.upper()
    bad(~out["state_pcode"].isin(schema.STATE_PCODES), "state_pcode", "not a state pcode (SD01-SD19)")
    out["sector"] = text["sector"].str.lower()
    bad(
        ~out["sector"].isin(schema.TRQN_SECTORS),
        "sector",
        f"not a TRQN sector ({', '.join(schema.TRQN_SECTORS)})",
    )
    out["host_institution"] = text["host_institution"]
    bad(
        ~text["host_institution"].str.len().between(1, 120),
        "host_institution",
        "host institution must be named (at most 120 characters)",
    )
    out["expert_sex"] = text["expert_sex"].str.lower().map(_SEX)
    bad(out["expert_sex"].isna(), "expert_sex", "not one of female, male, unknown")
    out["country_of_residence"] = text["country_of_residence"].map(_country)
    bad(out["country_of_residence"].isna(), "country_of_residence", "not a country (ISO 3166-1 alpha-3)")
    for column in ("start", "end"):
        parsed = pd.to_datetime(text[column].replace("", None), errors="coerce", format="ISO8601")
        unparsed = parsed.isna() & (text[column] != "")
        bad(unparsed, column, "not a date (YYYY-MM-DD)")
        out[column] = parsed
    bad(out["start"].isna() & (text["start"] == ""), "start", "missing value")
    bad(
        out["end"].notna() & out["start"].notna() & (out["end"] < out["start"]),
        "end",
        "ends before it starts",
    )
    rejections = pd.DataFrame(problems, columns=list(schema.REJECTION_COLUMNS))
    rejections = rejections.drop_duplicates(["row", "column"])
    accepted = out.loc[~out.index.isin(rejections["row"])]
    return accepted, rejections, shown


# ------------------------------------------------------------------------------------------------ ingest


def ingest_trqn(
    path: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    *,
    sheet: str | None = None,
    synthetic: bool = False,
) -> tuple[FileReport, int, dict]:
    """Check ``path`` and add its assignments to the store; the report, the exit code and what was stored."""
    path = Path(path)
    folder = store.resolve_data_dir(data_dir)
    report = FileReport(path=str(path), stream=STREAM)
    digest = store.sha256_file(path)
    if digest in store.known_sha256(folder):
        report.skipped = True
        return report, 0, {}
    try:
        raw = readers.read_raw(path, sheet)
        report.rows = len(raw.data) + len(raw.problems)
        accepted, rejections, shown = parse(raw)
    except readers.UnreadableFile as error:
        report.fatal = str(error).removeprefix(f"{path}: ")
        report.rejections = [{"row": None, "column": None, "value": None, "reason": report.fatal}]
        report.rejected = report.rows
        return report, 2, {}
    if raw.problems:
        rejections = pd.concat([pd.DataFrame(raw.problems), rejections], ignore_index=True)
    existing = load(folder)
    accepted, more, already = _judge(accepted, existing, shown["assignment_id"])
    rejections = pd.concat([rejections, more], ignore_index=True)
    if already:
        report.notes.append(
            f"{already:,} rows are assignments already stored with the same content: not stored again"
        )
    report.tally(rejections, already)
    if report.fatal:
        return report, 2, {}
    code = 1 if report.rejected else 0
    if accepted.empty:
        return report, code, {}
    combined = conform(pd.concat([existing, conform(accepted)], ignore_index=True))
    source = {
        "path": str(path.resolve()),
        "sha256": digest,
        "stream": STREAM,
        "table": "trqn",
        "sheet": raw.sheet,
        "rows": report.rows,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "ingested_at": store.now(),
        "synthetic": synthetic,
        "as_of": pd.Timestamp(accepted["start"].max()).date().isoformat(),
    }
    commit(folder, combined, [source], synthetic=True if synthetic else None)
    return report, code, {"trqn": len(accepted), "total": len(combined)}


def _judge(accepted: pd.DataFrame, existing: pd.DataFrame, header: str):
    """Assignments already stored (same id): a note when the content is the same, a rejection otherwise;
    an id given twice in the file: the second is rejected."""
    columns = list(schema.TRQN_COLUMNS)
    stored = {
        row.assignment_id: row for row in conform(existing)[columns].astype(str).itertuples(index=False)
    }
    mine = conform(accepted)[columns].astype(str)
    problems, keep, already, first = [], [], 0, {}
    for label, row in zip(accepted.index, mine.itertuples(index=False), strict=True):
        known = stored.get(row.assignment_id)
        if known is not None:
            if tuple(known) == tuple(row):
                already += 1
            else:
                problems.append(
                    (
                        label,
                        header,
                        row.assignment_id,
                        "assignment id already stored with other content; the row is not stored",
                    )
                )
            continue
        if row.assignment_id in first:
            problems.append(
                (
                    label,
                    header,
                    row.assignment_id,
                    f"duplicate of row {first[row.assignment_id]} (same assignment id)",
                )
            )
            continue
        first[row.assignment_id] = label
        keep.append(label)
    return accepted.loc[keep], pd.DataFrame(problems, columns=list(schema.REJECTION_COLUMNS)), already


def commit(
    folder: Path,
    table: pd.DataFrame,
    sources: list[dict],
    *,
    synthetic: bool | None = None,
    replace_sources: bool = False,
) -> dict:
    """Replace ``trqn.parquet`` atomically, then record ``sources`` in the manifest (renamed last)."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = store._stage(folder, lambda f: conform(table).to_parquet(f, index=False))
    try:
        os.replace(staged, table_path(folder))
    finally:
        staged.unlink(missing_ok=True)
    if replace_sources:
        kept = [s for s in store.read_manifest(folder)["sources"] if s.get("stream") != STREAM]
        return store.commit(folder, {}, [*kept, *sources], synthetic=synthetic, replace_sources=True)
    return store.commit(folder, {}, sources, synthetic=synthetic)


# ------------------------------------------------------------------------------------------------ counting


def active(table: pd.DataFrame, period: str | None) -> pd.DataFrame:
    """Assignments under way at some time in the calendar period (all when ``period`` is None)."""
    if period is None or table.empty:
        return table
    first, last = period_span(period)
    starts_in_time = table["start"] <= last.end_time
    not_ended = table["end"].isna() | (table["end"] >= first.start_time)
    return table[starts_in_time & not_ended]


def counts(data_dir: str | os.PathLike, period: str | None, previous: str | None = None) -> dict:
    """Published (protected) TRQN counts of ``period``: ``by_sector``, ``by_state``, ``by_residence`` (frames
    with ``value``) and ``total`` (a frame of one row with ``value`` and ``previous``, ``change``)."""
    table = load(data_dir)
    if table.empty:
        return {}
    secret = recordkeys.load_secret(data_dir)
    table = table.assign(
        ckey=recordkeys.keys_for(pd.Series(STREAM, index=table.index), table["assignment_id"], secret).astype(
            np.int64
        )
    )
    now = active(table, period)
    before = active(table, previous) if previous else table.iloc[:0]

    def cells(column: str) -> pd.DataFrame:
        grouped = now.groupby(column, observed=False).agg(value=("ckey", "size"), ckey=("ckey", "sum"))
        grouped["ckey"] = grouped["ckey"] % recordkeys.KEY_RANGE
        return _release(grouped.reset_index(), data_dir)

    total = pd.DataFrame(
        {
            "value": [len(now)],
            "ckey": [int(now["ckey"].sum()) % 256],
            "previous": [len(before) if previous else pd.NA],
            "previous_ckey": [int(before["ckey"].sum()) % 256 if previous else pd.NA],
            "change": [pd.NA],
            "change_pct": [pd.NA],
        }
    )
    if previous is None:
        total = total.drop(columns=["previous", "previous_ckey", "change", "change_pct"])
    out = {
        "by_sector": cells("sector"),
        "by_state": cells("state_pcode"),
        "by_residence": cells("country_of_residence"),
        "total": _release(total, data_dir),
        "data_start": table["start"].min(),
        "data_end": pd.concat([table["start"], table["end"]]).max(),
    }
    out["by_residence"] = out["by_residence"][out["by_residence"]["value"] > 0].reset_index(drop=True)
    return out


def _release(table: pd.DataFrame, data_dir) -> pd.DataFrame:
    return privacy.release(table, {_RELEASE_STREAM: K}, stream=_RELEASE_STREAM, data_dir=data_dir)


# ------------------------------------------------------------------------------------------------ CLI


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "trqn",
        parents=[common],
        help="TRQN assignments: ingest a file of assignments into the store",
        description="TRQN assignments (Temporary Return of Qualified Nationals).",
        epilog="exit status: 0 every row stored; 1 some rows rejected (the others stored); 2 the file "
        "unreadable or with nothing usable (nothing stored).",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ingest = actions.add_parser(
        "ingest", parents=[common], help="validate a CSV/XLSX of assignments and store it"
    )
    ingest.add_argument("file", metavar="FILE")
    ingest.add_argument("--report", metavar="REPORT.json", help="write the report as JSON")
    ingest.add_argument("--sheet", metavar="NAME", help="the workbook sheet to read")
    ingest.set_defaults(func=run_ingest)


def run_ingest(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file" if not path.exists() else f"{path} is a folder")
    folder = store.resolve_data_dir(args.data_dir)
    report, code, stored = ingest_trqn(path, folder, sheet=args.sheet)
    added = {"trqn": stored["trqn"]} if stored else {}
    totals = {"trqn": stored["total"]} if stored else {}
    print(summary([report], added, totals, code, folder))
    if args.report:
        store.write_text_atomic(args.report, dumps([report]))
    return code
