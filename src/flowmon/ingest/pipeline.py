"""``ingest_files``: read, check and store exports, all or nothing.

Exit codes (issue 4): 0 when every row is accepted, 1 when some rows are rejected (the accepted ones are
stored), 2 when a file is unreadable or has nothing usable. With 2 nothing at all is stored, not even the
other files of the same command, so the store is exactly as it was and the command can be rerun once the
file is fixed. A file already ingested (same sha256 in the manifest) is skipped. A record already stored,
or given earlier in the same run (same record id and same content), is rejected as a duplicate; for flows,
a state pair already stored for the same round is rejected (as a duplicate when the figures agree, as a
conflict when they do not).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flowmon import schema, store
from flowmon.ingest import cases, dtm, readers
from flowmon.ingest.report import FileReport, as_json, rejection_records, summary

PROGRESS_MIN_ROWS = 5_000


@dataclass
class IngestResult:
    files: list[FileReport]
    exit_code: int
    data_dir: Path
    stored: dict[str, int] = field(default_factory=dict)  # rows added per table
    new_rows: dict[str, pd.DataFrame] = field(default_factory=dict)  # the accepted rows, canonical
    totals: dict[str, int] = field(default_factory=dict)  # rows per table after the ingest
    notes: list[str] = field(default_factory=list)  # about the whole run

    @property
    def report(self) -> dict:
        """The JSON report: ``{"files": [{"path", "stream", "rows", "accepted", "rejected", ...}]}``."""
        return as_json(self.files)

    def summary(self) -> str:
        return summary(self.files, self.stored, self.totals, self.exit_code, self.data_dir, self.notes)


def parse_period(period: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """``YYYY-MM`` (or a date) as the first day of that month."""
    if period is None or isinstance(period, pd.Timestamp):
        return period
    try:
        return pd.Period(str(period), freq="M").to_timestamp()
    except ValueError as error:
        raise ValueError(f"--period {period!r}: expected YYYY-MM") from error


def _progress(rows: int, name: str, wanted: bool | None):
    show = rows > PROGRESS_MIN_ROWS if wanted is None else wanted
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=rows, desc=name, unit=" rows", file=sys.stderr, leave=False, mininterval=0.5)


class _Seen:
    """What is already stored or accepted earlier in this run, to find duplicates."""

    def __init__(self, table: str, existing: pd.DataFrame):
        self.table = table
        if table == "events":
            # Where each known record came from: its hash -> (file, row); file "" and row 0 = the store.
            hashes = _row_hashes(existing).drop_duplicates()
            self.files = pd.Series("", index=hashes.to_numpy(), dtype=object)
            self.rows = pd.Series(0, index=hashes.to_numpy(), dtype="int64")
        else:
            self.flows = existing[[*dtm.KEY, "individuals", "households", "source"]].copy()
            self.flows["origin"] = "already stored from " + existing["source"].astype(str)

    def events(self, accepted: pd.DataFrame, header: str, path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        hashes = pd.Series(_row_hashes(accepted).to_numpy(), index=accepted.index)
        seen_before = hashes.isin(self.files.index)
        repeat = hashes.duplicated(keep="first") & ~seen_before
        duplicate = seen_before | repeat
        rejections = pd.DataFrame(
            {
                "row": accepted.index[duplicate.to_numpy()],
                "column": header,
                "value": accepted.loc[duplicate, "record_id"].astype(str).to_numpy(dtype=object),
                "reason": [
                    self._reason(h, repeat_of) for h, repeat_of in self._earlier(hashes, duplicate, repeat)
                ],
            }
        )
        kept_hashes = hashes[~duplicate]
        self.files = pd.concat([self.files, pd.Series(path, index=kept_hashes.to_numpy(), dtype=object)])
        self.rows = pd.concat(
            [self.rows, pd.Series(kept_hashes.index.to_numpy(), index=kept_hashes.to_numpy())]
        )
        return accepted.loc[~duplicate], rejections

    @staticmethod
    def _earlier(hashes: pd.Series, duplicate: pd.Series, repeat: pd.Series):
        """For each duplicate: its hash, and the row of this file it repeats (None if seen before)."""
        first_row = pd.Series(hashes.index, index=hashes.to_numpy())
        first_row = first_row[~first_row.index.duplicated(keep="first")]
        for value, is_repeat in zip(hashes[duplicate], repeat[duplicate], strict=True):
            yield value, (int(first_row.at[value]) if is_repeat else None)

    def _reason(self, value, repeat_of: int | None) -> str:
        if repeat_of is not None:
            return f"duplicate of row {repeat_of} (same record id and content)"
        file, row = self.files.at[value], int(self.rows.at[value])
        if not file:
            return "duplicate of a record already stored (same record id and content)"
        return f"duplicate of row {row} of {file} (same record id and content)"

    def flow_rows(self, accepted: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        merged = accepted.merge(self.flows, on=dtm.KEY, how="inner", suffixes=("", "_stored"))
        if merged.empty:
            kept, rejections = accepted, schema.empty_rejections()
        else:
            same = (merged["individuals"] == merged["individuals_stored"]) & (
                merged["households"].fillna(-1) == merged["households_stored"].fillna(-1)
            )
            reason = merged["origin"].where(same, "a different figure for this round is " + merged["origin"])
            merged = merged.assign(reason=("duplicate: " + reason).where(same, "conflict: " + reason))
            merged = merged.drop_duplicates("row")
            rejections = pd.DataFrame(
                {
                    "row": merged["row"].to_numpy(),
                    "column": merged["column"].to_numpy(dtype=object) if "column" in merged else None,
                    "value": merged["individuals"].astype(str).to_numpy(dtype=object),
                    "reason": merged["reason"].to_numpy(dtype=object),
                }
            )
            kept = accepted[~accepted["row"].isin(merged["row"])]
        self.flows = pd.concat(
            [
                self.flows,
                kept[[*dtm.KEY, "individuals", "households", "source"]].assign(
                    origin="given earlier in this run"
                ),
            ],
            ignore_index=True,
        )
        return kept, rejections


def _row_hashes(events: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(events[list(schema.EVENT_COLUMNS)], index=False)


def _ingest_cases(raw, stream, period, date_order, seen: _Seen, progress, path_label):
    parsed = cases.parse_cases(raw, stream, period=period, date_order=date_order)
    bar = _progress(len(parsed.frame), raw.path.name, progress)
    try:
        accepted, rejections = cases.validate_cases(parsed, bar)
    finally:
        if bar is not None:
            bar.close()
    accepted, duplicates = seen.events(accepted, parsed.headers.get("record_id", "record_id"), path_label)
    rejections = pd.concat([rejections, duplicates], ignore_index=True)
    return accepted, rejections, parsed.unmatched, parsed.notes


def _ingest_flows(raw, period, seen: _Seen):
    parsed = dtm.parse_dtm(raw, period=period)
    accepted, rejections = dtm.validate_flows(parsed)
    accepted = accepted.merge(parsed.flows[["row", "column"]].drop_duplicates("row"), on="row", how="left")
    accepted, conflicts = seen.flow_rows(accepted)
    rejections = pd.concat([rejections, conflicts], ignore_index=True)
    rows_rejected = set(rejections["row"].dropna())
    accepted = accepted[~accepted["row"].isin(rows_rejected)]
    flows = dtm.aggregate_flows(accepted) if parsed.aggregate else schema.conform(accepted, "flows")
    return flows, rejections, parsed.unmatched, parsed.notes, parsed.rows


def ingest_files(
    stream: str,
    paths: Iterable[str | os.PathLike],
    data_dir: str | os.PathLike | None = None,
    period: str | pd.Timestamp | None = None,
    sheet: str | None = None,
    *,
    date_order: str | None = None,
    progress: bool | None = None,
    synthetic: bool = False,
) -> IngestResult:
    """Ingest exports of one stream into the store at ``data_dir``; see the module docstring for the rules.

    ``stream`` is caseload, return, referral or displacement; ``period`` (YYYY-MM) dates a DTM round (or the
    rows of a case export without a date column); ``sheet`` picks a workbook sheet; ``date_order`` ("DMY" or
    "MDY") overrides the day/month order found in the data; ``progress`` forces the progress bar on or off
    (default: on for files over a few thousand rows); ``synthetic`` marks the sources (and the store) as
    synthetic data.
    """
    if stream not in schema.ALL_STREAMS:
        raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(schema.ALL_STREAMS)}")
    if date_order not in (None, "DMY", "MDY"):
        raise ValueError(f"date order {date_order!r}: expected DMY or MDY")
    period = parse_period(period)
    folder = store.resolve_data_dir(data_dir)
    table = "flows" if stream == schema.DISPLACEMENT else "events"
    known = store.known_sha256(folder)
    existing = store.load_table(folder, table) if folder.exists() else schema.empty(table)
    seen = _Seen(table, existing)

    reports: list[FileReport] = []
    new_parts: list[pd.DataFrame] = []
    sources: list[dict] = []
    run_hashes: set[str] = set()
    for path in map(Path, paths):
        report = FileReport(path=str(path), stream=stream)
        reports.append(report)
        try:
            digest = store.sha256_file(path)
        except OSError as error:
            report.fatal = f"cannot read the file ({error.strerror or error})"
            report.rejections = [{"row": None, "column": None, "value": None, "reason": report.fatal}]
            continue
        if digest in known or digest in run_hashes:
            report.skipped = True
            report.notes.append("already ingested: the manifest has a file with the same sha256")
            continue
        run_hashes.add(digest)
        try:
            raw = readers.read_raw(path, sheet)
            report.rows = len(raw.data) + len(raw.problems)
            if raw.sheet:
                others = [s for s in raw.sheets if s != raw.sheet]
                report.notes.append(
                    f"sheet {raw.sheet!r} read"
                    + (f" (also in the workbook: {', '.join(others)})" if others else "")
                )
            if table == "events":
                accepted, rejections, unmatched, notes = _ingest_cases(
                    raw, stream, period, date_order, seen, progress, path.name
                )
            else:
                accepted, rejections, unmatched, notes, report.rows = _ingest_flows(raw, period, seen)
                report.rows += len(raw.problems)
        except (readers.UnreadableFile, cases.NothingUsable) as error:
            report.fatal = str(error)
            report.rejections = [{"row": None, "column": None, "value": None, "reason": str(error)}]
            report.rejected = report.rows  # none of the rows can be used
            continue
        problems = pd.DataFrame(raw.problems, columns=list(schema.REJECTION_COLUMNS))
        rejections = pd.concat([problems, rejections], ignore_index=True) if len(problems) else rejections
        report.notes.extend(notes)
        report.rejections = rejection_records(rejections)
        report.rejected = int(rejections["row"].dropna().nunique())
        report.accepted = report.rows - report.rejected
        report.unmatched_names = dict(sorted(unmatched.items(), key=lambda item: (-item[1], item[0])))
        if report.rows == 0:
            report.fatal = "no data rows below the header"
        elif report.accepted == 0:
            report.fatal = "no row is usable"
        if report.fatal:
            continue
        new_parts.append(accepted)
        sources.append(
            {
                "path": str(path.resolve()),
                "sha256": digest,
                "stream": stream,
                "table": table,
                "sheet": raw.sheet,
                "rows": report.rows,
                "accepted": report.accepted,
                "rejected": report.rejected,
                "ingested_at": store.now(),
                "synthetic": synthetic,
                "as_of": _as_of(accepted, table),
            }
        )

    result = IngestResult(files=reports, exit_code=0, data_dir=folder)
    if not synthetic and store.is_synthetic(folder):
        result.notes.append(
            f"{folder} holds synthetic demo data: what is added stays labelled synthetic; "
            "ingest real exports into a data folder of their own"
        )
    if any(report.fatal for report in reports):
        result.exit_code = 2
        return result
    result.exit_code = 1 if any(report.rejected for report in reports) else 0
    if sources:
        new = pd.concat([schema.conform(part, table) for part in new_parts], ignore_index=True)
        combined = pd.concat([existing, new], ignore_index=True)
        store.commit(folder, {table: combined}, sources, synthetic=True if synthetic else None)
        result.stored = {table: len(new)}
        result.new_rows = {table: new}
        result.totals = {table: len(combined)}
    return result


def _as_of(accepted: pd.DataFrame, table: str) -> str | None:
    column = "date" if table == "events" else "period"
    if accepted.empty:
        return None
    return pd.Timestamp(accepted[column].max()).date().isoformat()
