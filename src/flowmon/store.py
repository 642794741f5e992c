"""The embedded store: one data folder holds the Parquet tables, the manifest and installed boundaries.

Layout of a data folder::

    events.parquet      the canonical events table (flowmon.schema)
    flows.parquet       the canonical flows table
    crossings.parquet   the canonical crossings table (flow monitoring points, border crossings)
    manifest.json       sources (path, sha256, rows accepted/rejected, time), synthetic or real, version
    record-keys.secret  the secret behind the record keys (owner-only; flowmon.recordkeys): back it up
    boundaries/         official admin-1 boundaries, when installed (flowmon.geo)
    raw/                the user's drop-in folder for exports (never read implicitly)

Events and crossings are stored with a ``record_key`` column (0..255, ``flowmon.recordkeys``) after the
canonical columns: the permanent random key of the cell key method. ``load`` gives it back (computing it
for stores written before it existed); it is confidential and never shown or exported.

Every write goes to a temporary file in the same folder and is renamed into place, so a reader sees the old
state or the new one, never half of a file; the manifest is renamed last.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from flowmon import __version__, recordkeys, schema

DATA_DIR_ENV = "FLOWMON_DATA_DIR"
MANIFEST = "manifest.json"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``data_dir`` if given, else ``$FLOWMON_DATA_DIR``, else ``./data``."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or "data"
    return Path(data_dir).expanduser()


def table_path(data_dir: str | os.PathLike, table: schema.Table) -> Path:
    return Path(data_dir) / f"{table}.parquet"


def load(data_dir: str | os.PathLike | None = None) -> dict[str, pd.DataFrame]:
    """Every canonical table of the store, by name; empty with the right columns when not stored yet."""
    folder = resolve_data_dir(data_dir)
    return {table: load_table(folder, table) for table in schema.TABLES}


def load_table(data_dir: str | os.PathLike, table: schema.Table) -> pd.DataFrame:
    """A stored table in canonical form; events and crossings with their ``record_key`` column as well."""
    path = table_path(data_dir, table)
    if not path.exists():
        frame = schema.empty(table)
        return _with_keys(frame, frame, data_dir, table) if table in KEYED else frame
    raw = pd.read_parquet(path)
    frame = schema.conform(raw, table).reset_index(drop=True)
    return _with_keys(frame, raw, data_dir, table) if table in KEYED else frame


# Tables of records of people: each row has a permanent record key (flowmon.recordkeys).
KEYED = ("events", "crossings")


def _with_keys(
    frame: pd.DataFrame, source: pd.DataFrame, data_dir: str | os.PathLike, table: str = "events"
) -> pd.DataFrame:
    """``frame`` with the record keys of ``source`` (same rows), computing those it lacks."""
    if recordkeys.RECORD_KEY in source.columns:
        frame = frame.assign(**{recordkeys.RECORD_KEY: source[recordkeys.RECORD_KEY].to_numpy()})
        if not frame[recordkeys.RECORD_KEY].isna().any():
            return frame.astype({recordkeys.RECORD_KEY: "uint8"})
    if frame.empty:
        return frame.assign(**{recordkeys.RECORD_KEY: pd.Series(dtype="uint8")})
    if table == "crossings":
        return recordkeys.attach_crossings(frame, recordkeys.load_secret(data_dir))
    return recordkeys.attach(frame, recordkeys.load_secret(data_dir))


def read_manifest(data_dir: str | os.PathLike | None = None) -> dict:
    path = resolve_data_dir(data_dir) / MANIFEST
    if not path.exists():
        return {"flowmon_version": __version__, "synthetic": False, "updated": None, "sources": []}
    return json.loads(path.read_text(encoding="utf-8"))


def is_synthetic(data_dir: str | os.PathLike | None = None) -> bool:
    return bool(read_manifest(data_dir).get("synthetic"))


def known_sha256(data_dir: str | os.PathLike | None = None) -> set[str]:
    """Checksums of the source files already stored (so the same file is not counted twice)."""
    return {s["sha256"] for s in read_manifest(data_dir)["sources"] if s.get("sha256")}


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def commit(
    data_dir: str | os.PathLike,
    tables: Mapping[str, pd.DataFrame],
    sources: Iterable[Mapping],
    *,
    synthetic: bool | None = None,
    replace_sources: bool = False,
) -> dict:
    """Store the full new content of ``tables`` and record ``sources`` in the manifest, atomically.

    ``tables`` maps table names to their complete new content (callers append by loading first). Tables
    not named are left as they are. ``sources`` are appended to the manifest's list (or replace it when
    ``replace_sources``); each is a mapping with at least ``path``. ``synthetic`` marks the whole store.
    Returns the new manifest.
    """
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    conformed = {}
    for name, frame in tables.items():
        if name not in schema.TABLES:
            raise ValueError(f"unknown table {name!r}; expected one of {schema.TABLES}")
        conformed[name] = schema.conform(frame, name).reset_index(drop=True)
        if name in KEYED:
            # Keys already given (rows loaded from the store) are kept; new rows get theirs.
            conformed[name] = _with_keys(conformed[name], frame.reset_index(drop=True), folder, name)

    manifest = read_manifest(folder)
    manifest["sources"] = [*([] if replace_sources else manifest["sources"]), *map(dict, sources)]
    if synthetic is not None:
        manifest["synthetic"] = synthetic
    manifest["flowmon_version"] = __version__
    manifest["updated"] = now()
    manifest["rows"] = {
        name: len(conformed[name]) if name in conformed else stored_rows(folder, name)
        for name in schema.TABLES
    }

    staged = []
    try:
        for name, frame in conformed.items():
            staged.append(
                (
                    _stage(folder, lambda f, frame=frame: frame.to_parquet(f, index=False)),
                    table_path(folder, name),
                )
            )
        text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str)
        staged.append((_stage(folder, lambda f: f.write(text.encode("utf-8"))), folder / MANIFEST))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in staged:
        os.replace(temporary, final)
    return manifest


def stored_rows(folder: str | os.PathLike, table: schema.Table) -> int:
    """Rows of a stored table, from the Parquet footer (the table itself is not read)."""
    path = table_path(folder, table)
    if not path.exists():
        return 0
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _stage(folder: Path, write) -> Path:
    """Write to a new temporary file in ``folder`` (same filesystem, so the rename is atomic)."""
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=".staging-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Replace a text file atomically (used for reports and small side files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _stage(path.parent, lambda f: f.write(text.encode("utf-8")))
    os.replace(temporary, path)


def default_data_dir() -> Path:
    """The data folder an app or notebook opens when none is named.

    ``$FLOWMON_DATA_DIR`` if set; else, when flowmon runs from a source checkout, that checkout's
    ``data/demo`` (so a notebook finds the demo store whatever the kernel's working directory is); else
    ``./data``.
    """
    if os.environ.get(DATA_DIR_ENV):
        return resolve_data_dir()
    from flowmon._resources import reference_dir

    checkout = reference_dir().parent
    if (checkout / "pyproject.toml").exists() and reference_dir().name == "geo":
        return checkout / "data" / "demo"
    return resolve_data_dir()
