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

import pandas as pd

SHOWN_REJECTIONS = 20


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
