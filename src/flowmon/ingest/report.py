"""What an ingest did, per file: the JSON report and the terminal summary.

The JSON has exactly the shape of issue 4::

    {"files": [{"path", "stream", "rows", "accepted", "rejected",
                "rejections": [{"row", "column", "value", "reason"}], "unmatched_names": {name: count}}]}

``row`` is the row number the user sees in the file (None for a problem of the whole file), ``column`` the
user's own header. The terminal summary says the same, plus notes (how dates were read, columns not found,
files skipped as already ingested).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SHOWN_REJECTIONS = 20


def begin(path: Path, stream: str, known: set[str], seen: set[str]) -> tuple[FileReport, str | None]:
    """The report of one input file, and its sha256 when it is to be read: None when it cannot be read
    (fatal) or was already ingested (skipped: the same content is in the manifest or earlier in this run)."""
    from flowmon import store

    report = FileReport(path=str(path), stream=stream)
    try:
        digest = store.sha256_file(path)
    except OSError as error:
        report.fatal = f"cannot read the file ({error.strerror or error})"
        report.rejections = [{"row": None, "column": None, "value": None, "reason": report.fatal}]
        return report, None
    if digest in known or digest in seen:
        report.skipped = True
        report.notes.append("already ingested: the manifest has a file with the same sha256")
        return report, None
    seen.add(digest)
    return report, digest


@dataclass
class FileReport:
    path: str
    stream: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    rejections: list[dict] = field(default_factory=list)
    unmatched_names: dict[str, int] = field(default_factory=dict)
    # Not in the JSON:
    notes: list[str] = field(default_factory=list)
    fatal: str | None = None  # why nothing of this file can be used
    skipped: bool = False  # already ingested (same sha256)

    def tally(self, rejections: pd.DataFrame, already: int = 0) -> None:
        """Record the file's rejections and counts; nothing usable (and nothing already stored) is fatal.

        ``already`` counts rows that are records already stored with the same content: neither accepted
        nor rejected (a note says so), and no reason to call the file unusable.
        """
        self.rejections = rejection_records(rejections)
        self.rejected = int(rejections["row"].dropna().nunique())
        self.accepted = self.rows - self.rejected - already
        if self.rows == 0:
            self.fatal = "no data rows below the header"
        elif self.accepted <= 0 and not already:
            self.fatal = "no row is usable"

    def as_json(self) -> dict:
        return {
            "path": self.path,
            "stream": self.stream,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejections": self.rejections,
            "unmatched_names": self.unmatched_names,
        }


def rejection_records(rejections: pd.DataFrame) -> list[dict]:
    """Rejections as JSON-ready dicts, sorted by row; values as the user wrote them (text) or null."""
    out = []
    ordered = rejections.assign(_key=pd.to_numeric(rejections["row"], errors="coerce")).sort_values(
        "_key", kind="stable", na_position="first"
    )
    for row, column, value, reason in ordered[["row", "column", "value", "reason"]].itertuples(index=False):
        out.append(
            {
                "row": None if row is None or pd.isna(row) else int(row),
                "column": None
                if column is None or (isinstance(column, float) and pd.isna(column))
                else str(column),
                "value": None
                if value is None or (not isinstance(value, str) and pd.isna(value))
                else str(value),
                "reason": str(reason),
            }
        )
    return out


def as_json(reports: list[FileReport]) -> dict:
    return {"files": [report.as_json() for report in reports]}


def dumps(reports: list[FileReport]) -> str:
    return json.dumps(as_json(reports), indent=2, ensure_ascii=False) + "\n"


def summary(
    reports: list[FileReport],
    stored: dict[str, int],
    totals: dict[str, int],
    exit_code: int,
    data_dir,
    notes: list[str] = (),
) -> str:
    """The terminal summary: per file its counts, the first rejections, unmatched names and notes."""
    lines = [f"note: {note}" for note in notes]
    for report in reports:
        if report.skipped:
            lines.append(f"{report.path} ({report.stream}): skipped, already ingested (same content)")
            continue
        if report.fatal:
            lines.append(f"{report.path} ({report.stream}): not usable: {report.fatal}")
        else:
            lines.append(
                f"{report.path} ({report.stream}): {report.rows:,} rows, {report.accepted:,} accepted, "
                f"{report.rejected:,} rejected"
            )
        # A problem of the whole file is the "not usable" line itself: it is not printed twice.
        shown = [r for r in report.rejections if not (r["row"] is None and r["reason"] == report.fatal)]
        for item in shown[:SHOWN_REJECTIONS]:
            where = "file" if item["row"] is None else f"row {item['row']}"
            column = f", column {item['column']!r}" if item["column"] else ""
            value = f": {item['value']!r}" if item["value"] is not None else ""
            lines.append(f"  {where}{column}{value}: {item['reason']}")
        hidden = len(shown) - SHOWN_REJECTIONS
        if hidden > 0:
            lines.append(f"  ... and {hidden:,} more (write them all with --report FILE.json)")
        if report.unmatched_names:
            names = ", ".join(
                f"{name!r} x{count:,}" for name, count in list(report.unmatched_names.items())[:10]
            )
            more = len(report.unmatched_names) - 10
            lines.append(f"  names not recognised: {names}" + (f" and {more} more" if more > 0 else ""))
        for note in report.notes:
            lines.append(f"  note: {note}")
    if exit_code == 2:
        lines.append(f"nothing stored: {data_dir} is unchanged")
    elif stored:
        added = ", ".join(f"{count:,} {table}" for table, count in stored.items())
        now = ", ".join(f"{count:,} {table}" for table, count in totals.items())
        lines.append(f"stored {added} in {data_dir} (now {now})")
    else:
        lines.append(f"nothing new to store in {data_dir}")
    return "\n".join(lines)
