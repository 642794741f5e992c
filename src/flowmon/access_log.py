"""The access log: one JSON line per view change and per export, in the data folder, rotated by size.

A line holds the time, the user, the role, the filters asked for and the export kind; never a figure.
Several server processes write the same file: each line is appended under an exclusive lock, and rotation
happens under the same lock, so no process writes into a file another has just rotated away.
``flowmon access-log [--since DATE] [--user U]`` summarises it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import logging.handlers
import os
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

from flowmon import store

LOG_DIR = "logs"
LOG_FILE = "access.jsonl"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 20
EXPORT_KINDS = ("csv", "html", "png")


def log_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / LOG_DIR / LOG_FILE


class _LockedRotatingFile(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler made safe for several processes: lock, (rotate,) append, close, unlock."""

    def __init__(self, path: Path, max_bytes: int, backups: int):
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
        self._lock_path = path.with_name(f".{path.name}.lock")

    def emit(self, record: logging.LogRecord) -> None:
        descriptor = os.open(self._lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                super().emit(record)  # opens the file as it is now; rotates first when it would grow too big
            finally:
                self.close()  # another process may rotate next: never keep a stale handle
        finally:
            os.close(descriptor)

    def handleError(self, record: logging.LogRecord) -> None:
        raise


_handlers: dict[tuple[str, int, int], _LockedRotatingFile] = {}


def _handler(data_dir: str | os.PathLike, max_bytes: int, backups: int) -> _LockedRotatingFile:
    path = log_path(data_dir).resolve()
    key = (str(path), max_bytes, backups)
    if key not in _handlers:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # who looked at what is itself personal data
        handler = _LockedRotatingFile(path, max_bytes, backups)
        handler.setFormatter(logging.Formatter("%(message)s"))
        _handlers[key] = handler
    return _handlers[key]


def line(
    scope, filters: Mapping[str, object], export_kind: str | None, when: dt.datetime | None = None
) -> dict:
    """The record for one view or export: no figure, only who asked for what."""
    if export_kind is not None and export_kind not in EXPORT_KINDS:
        raise ValueError(f"export kind {export_kind!r} is not one of {', '.join(EXPORT_KINDS)}")
    when = when or dt.datetime.now(dt.UTC)
    return {
        "time": when.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "user": scope.user,
        "role": scope.role,
        "event": "export" if export_kind else "view",
        "filters": {str(k): _text(v) for k, v in sorted(filters.items()) if _text(v) != ""},
        "export": export_kind,
    }


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


def record(
    scope,
    filters: Mapping[str, object],
    export_kind: str | None = None,
    data_dir: str | os.PathLike | None = None,
    max_bytes: int = MAX_BYTES,
    backups: int = BACKUPS,
) -> dict:
    """Append one line for a view change (``export_kind`` None) or an export; returns what was written."""
    entry = line(scope, filters, export_kind)
    folder = Path(data_dir) if data_dir is not None else store.default_data_dir()
    message = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    _handler(folder, max_bytes, backups).emit(
        logging.makeLogRecord({"msg": message, "levelno": logging.INFO})
    )
    return entry


def read(data_dir: str | os.PathLike) -> Iterator[dict]:
    """Every line of the log and its rotated files, oldest first (a torn or foreign line is skipped)."""
    path = log_path(data_dir)
    rotated = [p for p in path.parent.glob(f"{LOG_FILE}.*") if p.suffix[1:].isdigit()]
    for file in [*sorted(rotated, key=lambda p: int(p.suffix[1:]), reverse=True), path]:
        if not file.is_file():
            continue
        with open(file, encoding="utf-8") as lines:
            for text in lines:
                try:
                    entry = json.loads(text)
                except ValueError:
                    continue
                if isinstance(entry, dict) and "time" in entry:
                    yield entry


def summarise(entries, since: dt.date | None = None, user: str | None = None) -> list[dict]:
    """Per user: views, exports by kind, the offices asked for, first and last time."""
    per_user: dict[str, dict] = defaultdict(lambda: {"views": 0, "exports": Counter(), "offices": Counter()})
    for entry in entries:
        when = dt.datetime.fromisoformat(entry["time"])
        if since is not None and when.date() < since:
            continue
        name = entry.get("user") or "(anonymous)"
        if user is not None and name != user:
            continue
        summary = per_user[name]
        summary["role"] = entry.get("role")
        summary.setdefault("first", entry["time"])
        summary["last"] = entry["time"]
        if entry.get("event") == "export":
            summary["exports"][entry.get("export")] += 1
        else:
            summary["views"] += 1
        offices = (entry.get("filters") or {}).get("office") or "all"
        for office in offices.split(","):
            summary["offices"][office] += 1
    return [{"user": name, **summary} for name, summary in sorted(per_user.items())]


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "access-log", parents=[common], help="summarise who looked at what",
        description="Summarise the access log (DATA_DIR/logs/access.jsonl and its rotated files): per user, "
        "the number of views and exports and the offices asked for. The log holds no figures.",
    )  # fmt: skip
    parser.add_argument("--since", metavar="DATE", type=_date, help="only from this day on (YYYY-MM-DD)")
    parser.add_argument("--user", metavar="U", help="only this user")
    parser.add_argument("--lines", action="store_true", help="print the matching lines themselves")
    parser.set_defaults(func=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    data_dir = store.resolve_data_dir(args.data_dir)
    entries = list(read(data_dir))
    if args.lines:
        for entry in entries:
            when = dt.datetime.fromisoformat(entry["time"])
            if (args.since is None or when.date() >= args.since) and (
                args.user is None or entry.get("user") == args.user
            ):
                print(json.dumps(entry, ensure_ascii=False))
        return 0
    rows = summarise(entries, args.since, args.user)
    if not rows:
        since = f" since {args.since}" if args.since else ""
        who = f" for {args.user}" if args.user else ""
        print(f"flowmon access-log: nothing recorded in {log_path(data_dir)}{since}{who}")
        return 0
    print(f"{'user':<28} {'role':<8} {'views':>6} {'exports':<22} {'offices asked':<28} last")
    for row in rows:
        exports = ", ".join(f"{kind} {n}" for kind, n in sorted(row["exports"].items())) or "-"
        offices = ", ".join(f"{office} {n}" for office, n in row["offices"].most_common(4))
        print(f"{row['user']:<28} {row['role'] or '-':<8} {row['views']:>6} {exports:<22} {offices:<28} "
              f"{row['last']}")  # fmt: skip
    return 0
