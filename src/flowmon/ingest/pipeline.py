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
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flowmon import schema, store
from flowmon.ingest import cases, dtm, readers
from flowmon.ingest.report import FileReport, as_json, begin, summary

PROGRESS_MIN_ROWS = 5_000
CROSSINGS = "crossings"  # flow monitoring exports (flowmon.ingest.crossings): a table, not an events stream


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
    """``YYYY-MM`` as the first day of that month, ``YYYY-MM-DD`` as that day (a DTM round's date)."""
    if period is None or isinstance(period, pd.Timestamp):
        return period
    text = str(period).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return pd.Timestamp(text)
        return pd.Period(text, freq="M").to_timestamp()
    except ValueError as error:
        raise ValueError(f"--period {period!r}: expected YYYY-MM or YYYY-MM-DD") from error


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
            self.flows["whence"] = "already stored from " + existing["source"].astype(str)

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
            return STORED_DUPLICATE
        return f"duplicate of row {row} of {file} (same record id and content)"

    def judge_flows(self, accepted: pd.DataFrame, label: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
        """Keep the new rounds of ``accepted`` (canonical flows, ``row``, ``column``); judge the others.

        Rows are summed to state pairs first, so a locality-level file and a state-level file of the same
        round compare figure for figure. A state of displacement in a round already stored (or given earlier
        in this run) is a duplicate when every figure agrees (a note: nothing stored again) and a conflict
        otherwise (its rows are rejected, with both figures). Returns kept rows, rejections and notes.
        """
        if accepted.empty:
            return accepted, schema.empty_rejections(), []
        pairs = dtm.aggregate_flows(accepted)
        keyed = _keyed(pairs)
        known = _keyed(self.flows)
        groups = keyed[GROUP].drop_duplicates()
        overlap = groups.merge(known[GROUP].drop_duplicates(), on=GROUP)
        notes: list[str] = []
        rejections = schema.empty_rejections()
        judged = pd.DataFrame(columns=[*GROUP, "verdict"])
        if len(overlap):
            mine = keyed.merge(overlap, on=GROUP)
            theirs = known.merge(overlap, on=GROUP)
            both = mine.merge(theirs, on=KEY_TEXT, how="outer", suffixes=("", "_stored"))
            for column in ("individuals", "individuals_stored"):
                both[column] = both[column].fillna(0)
            both["same"] = (both["individuals"] == both["individuals_stored"]) & (
                both["households"].isna()
                | both["households_stored"].isna()
                | (both["households"] == both["households_stored"])
            )
            per_group = both.groupby(GROUP, sort=False).agg(
                same=("same", "all"),
                mine=("individuals", "sum"),
                theirs=("individuals_stored", "sum"),
                whence=("whence", "first"),
            )
            per_group = per_group.reset_index()
            per_group["verdict"] = per_group["same"].map({True: "duplicate", False: "conflict"})
            judged = per_group
            notes += _duplicate_notes(per_group[per_group["same"]], pairs, keyed)
            conflicts = per_group[~per_group["same"]]
            if len(conflicts):
                rows = _keyed(accepted).merge(conflicts, on=GROUP)
                rejections = pd.DataFrame(
                    {
                        "row": rows["row"].to_numpy(),
                        "column": rows["column"].to_numpy(dtype=object),
                        "value": rows["individuals"].astype("Int64").astype(str).to_numpy(dtype=object),
                        "reason": [
                            f"conflict: {d} in the round of {p}: this file gives {int(m):,} people in all, "
                            f"{int(t):,} are {o}; the row is not stored"
                            for d, p, m, t, o in zip(
                                rows["destination_pcode"], rows["period"], rows["mine"], rows["theirs"],
                                rows["whence"], strict=True,
                            )
                        ],
                    }
                ).drop_duplicates("row")  # fmt: skip
        settled = _keyed(accepted).merge(judged[GROUP], on=GROUP, how="left", indicator=True)
        kept = accepted[(settled["_merge"] == "left_only").to_numpy()]
        new_pairs = dtm.aggregate_flows(kept) if len(kept) else kept
        if len(new_pairs):
            self.flows = pd.concat(
                [self.flows, new_pairs[[*dtm.KEY, "individuals", "households", "source"]].assign(
                    whence=f"given earlier in this run by {label}")],
                ignore_index=True,
            )  # fmt: skip
        return kept, rejections, notes


GROUP = ["period", "destination_pcode", "population_type"]
KEY_TEXT = [*GROUP, "origin"]


STORED_DUPLICATE = "duplicate of a record already stored (same record id and content)"


def _keyed(flows: pd.DataFrame) -> pd.DataFrame:
    """Flows with plain comparable keys: the round's date, pcodes as text, "?" for an unknown origin."""
    out = pd.DataFrame(index=flows.index)
    out["period"] = pd.to_datetime(flows["period"]).dt.strftime("%Y-%m-%d").to_numpy()
    out["destination_pcode"] = flows["destination_pcode"].astype("object").to_numpy()
    out["population_type"] = flows["population_type"].astype("object").to_numpy()
    out["origin"] = flows["origin_pcode"].astype("object").fillna("?").to_numpy()
    out["individuals"] = pd.to_numeric(flows["individuals"]).to_numpy()
    out["households"] = pd.to_numeric(flows["households"]).astype("Float64").to_numpy()
    for column in ("row", "column", "source"):
        if column in flows.columns:
            out[column] = flows[column].to_numpy()
    if "whence" in flows.columns:
        out["whence"] = flows["whence"].to_numpy()
    return out


def _duplicate_notes(duplicates: pd.DataFrame, pairs: pd.DataFrame, keyed: pd.DataFrame) -> list[str]:
    notes = []
    for (period, whence), group in duplicates.groupby(["period", "whence"], sort=True):
        states = len(group)
        count = int(keyed.merge(group[GROUP], on=GROUP).shape[0])
        where = whence.replace("given earlier", "are given earlier").replace(
            "already stored", "are already stored"
        )
        notes.append(
            f"the round of {period}: its {count:,} state pairs ({states} states of displacement) {where} "
            "with the same figures: not stored again"
        )
    return notes


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


def _read_flows(raw, period, operation):
    """Phase one for DTM files: parse and check one file (its duplicates are judged once all are read)."""
    parsed = dtm.parse_dtm(raw, period=period, operation=operation)
    accepted, rejections = dtm.validate_flows(parsed)
    accepted = accepted.merge(parsed.flows[["row", "column"]].drop_duplicates("row"), on="row", how="left")
    return accepted, rejections, parsed.unmatched, parsed.notes, parsed.rows


@dataclass
class _Pending:
    """A file read and checked, waiting for the duplicate judgment and the commit."""

    report: FileReport
    path: Path
    digest: str
    sheet: str | None
    accepted: pd.DataFrame
    rejections: pd.DataFrame


def ingest_files(
    stream: str,
    paths: Iterable[str | os.PathLike],
    data_dir: str | os.PathLike | None = None,
    period: str | pd.Timestamp | None = None,
    sheet: str | None = None,
    *,
    date_order: str | None = None,
    operation: str | None = None,
    progress: bool | None = None,
    synthetic: bool = False,
) -> IngestResult:
    """Ingest exports of one stream into the store at ``data_dir``; see the module docstring for the rules.

    ``stream`` is caseload, return, referral, displacement or crossings (flow monitoring exports, see
    ``flowmon.ingest.crossings``); ``period`` (YYYY-MM or YYYY-MM-DD) dates a DTM round (or the rows of a
    case export without a date column); ``sheet`` picks a workbook sheet;
    ``date_order`` ("DMY" or "MDY") overrides the day/month order found in the data; ``operation`` picks the
    DTM operation of a file that holds several; ``progress`` forces the progress bar on or off (default: on
    for files over a few thousand rows); ``synthetic`` marks the sources (and the store) as synthetic data.
    """
    if stream == CROSSINGS:
        from flowmon.ingest.crossings import ingest_crossings

        return ingest_crossings(
            paths, data_dir, parse_period(period), sheet, date_order=date_order, synthetic=synthetic
        )
    if stream not in schema.ALL_STREAMS:
        raise ValueError(
            f"unknown stream {stream!r}; expected one of {', '.join((*schema.ALL_STREAMS, CROSSINGS))}"
        )
    if date_order not in (None, "DMY", "MDY"):
        raise ValueError(f"date order {date_order!r}: expected DMY or MDY")
    period = parse_period(period)
    folder = store.resolve_data_dir(data_dir)
    table = "flows" if stream == schema.DISPLACEMENT else "events"
    known = store.known_sha256(folder)
    existing = store.load_table(folder, table) if folder.exists() else schema.empty(table)
    seen = _Seen(table, existing)

    reports: list[FileReport] = []
    pending: list[_Pending] = []
    run_hashes: set[str] = set()
    for path in map(Path, paths):
        report, digest = begin(path, stream, known, run_hashes)
        reports.append(report)
        if digest is None:
            continue
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
                accepted, rejections, unmatched, notes, report.rows = _read_flows(raw, period, operation)
                report.rows += len(raw.problems)
        except (readers.UnreadableFile, cases.NothingUsable) as error:
            report.fatal = _without_path(str(error), path)
            report.rejections = [{"row": None, "column": None, "value": None, "reason": report.fatal}]
            report.rejected = report.rows  # none of the rows can be used
            continue
        problems = pd.DataFrame(raw.problems, columns=list(schema.REJECTION_COLUMNS))
        rejections = pd.concat([problems, rejections], ignore_index=True) if len(problems) else rejections
        report.notes.extend(notes)
        report.unmatched_names = dict(sorted(unmatched.items(), key=lambda item: (-item[1], item[0])))
        pending.append(_Pending(report, path, digest, raw.sheet, accepted, rejections))

    # Phase two, once every file is read: DTM rounds are judged against the store and the earlier files.
    new_parts: list[pd.DataFrame] = []
    sources: list[dict] = []
    for item in pending:
        report, accepted, rejections = item.report, item.accepted, item.rejections
        if table == "flows":
            accepted = accepted[~accepted["row"].isin(set(rejections["row"].dropna()))]
            accepted, conflicts, notes = seen.judge_flows(accepted, item.path.name)
            rejections = pd.concat([rejections, conflicts], ignore_index=True)
            report.notes.extend(notes)
            accepted = accepted[~accepted["row"].isin(set(rejections["row"].dropna()))]
            accepted = dtm.aggregate_flows(accepted) if len(accepted) else schema.empty("flows")
        already = 0
        if table == "events":
            # A record already stored with the same content is not a fault of the file (an export that
            # overlaps the last one): a note, as for DTM rounds, not a rejection.
            stored = rejections["reason"].eq(STORED_DUPLICATE)
            if stored.any():
                report.notes.append(
                    f"{int(stored.sum()):,} rows are records already stored with the same content: "
                    "not stored again"
                )
                already = int(rejections.loc[stored, "row"].nunique())
                rejections = rejections[~stored]
        report.tally(rejections, already)
        if report.fatal or accepted.empty:
            continue
        new_parts.append(accepted)
        sources.append(
            {
                "path": str(item.path.resolve()),
                "sha256": item.digest,
                "stream": stream,
                "table": table,
                "sheet": item.sheet,
                "rows": report.rows,
                "accepted": report.accepted,
                "rejected": report.rejected,
                "ingested_at": store.now(),
                "synthetic": synthetic,
                "as_of": _as_of(accepted, table),
                **({"operation": operation} if operation and table == "flows" else {}),
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


def _without_path(message: str, path: Path) -> str:
    """Readers name the file in their messages; the report names it already."""
    return message.removeprefix(f"{path}: ")


def _as_of(accepted: pd.DataFrame, table: str) -> str | None:
    column = "date" if table == "events" else "period"
    if accepted.empty:
        return None
    return pd.Timestamp(accepted[column].max()).date().isoformat()
