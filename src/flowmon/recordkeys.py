"""Record keys: the permanent random number (0..255) of every stored case record, for the cell key method.

A record's key is a keyed hash of what identifies it, ``(stream, record_id)``, with the store's secret: 32
random bytes generated once in the data folder (``record-keys.secret``, readable by its owner only). So a
record ingested again, or stored again after an edit, keeps its key, and nobody without the secret can work
a key out from a record id. ``flowmon.store`` computes the keys when events are committed and keeps them in
``events.parquet``; a store written before record keys existed gets them on load, from the same secret, so
they are the same ever after. Keys are confidential: they never reach a view, an export or a log (with the
keys and the perturbation table a cell's noise could be removed).

Back up the secret with the data: keys are kept in the store, but records ingested after the secret was lost
would get keys from a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

RECORD_KEY = "record_key"
KEY_RANGE = 256  # keys 0..255, as the ONS reference implementation (cell-key-perturbation)
SECRET_FILE = "record-keys.secret"
_SECRET_BYTES = 32


def secret_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / SECRET_FILE


def load_secret(data_dir: str | os.PathLike, *, create: bool = True) -> bytes:
    """The store's secret, created (owner-only, atomically) the first time it is needed."""
    path = secret_path(data_dir)
    if path.exists():
        secret = path.read_bytes()
        if len(secret) != _SECRET_BYTES:
            raise ValueError(f"{path}: not a flowmon record-key secret ({len(secret)} bytes, expected 32)")
        return secret
    if not create:
        raise FileNotFoundError(f"{path}: the store has no record-key secret")
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(_SECRET_BYTES)
    temporary = path.with_name(f".staging-{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secret)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile: keep theirs
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return load_secret(data_dir, create=False)


def keys_for(streams: pd.Series, record_ids: pd.Series, secret: bytes) -> np.ndarray:
    """The key (uint8) of each ``(stream, record_id)``: one byte of BLAKE2b keyed with ``secret``.

    Hashed once per distinct record, so a store with many events per record is not slower than needed.
    """
    if len(secret) != _SECRET_BYTES:
        raise ValueError("the record-key secret must be 32 bytes")
    identity = (
        streams.astype(str).to_numpy(dtype=object) + "\x1f" + record_ids.astype(str).to_numpy(dtype=object)
    )
    codes, uniques = pd.factorize(identity)
    digest = [hashlib.blake2b(u.encode("utf-8"), key=secret, digest_size=1).digest()[0] for u in uniques]
    return np.asarray(digest, dtype=np.uint8)[codes] if len(codes) else np.zeros(0, dtype=np.uint8)


def attach(events: pd.DataFrame, secret: bytes | None = None) -> pd.DataFrame:
    """``events`` with a ``record_key`` column; keys already there are kept, missing ones computed.

    Without ``secret`` a random one is drawn: for tables that never reach a store (benchmarks, tests).
    Such keys are consistent within the frame only, so never publish from it across processes.
    """
    secret = secrets.token_bytes(_SECRET_BYTES) if secret is None else secret
    if RECORD_KEY in events.columns:
        existing = pd.to_numeric(events[RECORD_KEY], errors="coerce")
        missing = existing.isna().to_numpy()
        if not missing.any():
            return events.assign(**{RECORD_KEY: existing.to_numpy().astype(np.uint8)})
        keys = np.zeros(len(events), dtype=np.uint8)
        keys[~missing] = existing.to_numpy()[~missing].astype(np.uint8)
        rows = events.loc[missing]
        keys[missing] = keys_for(rows["stream"], rows["record_id"], secret)
        return events.assign(**{RECORD_KEY: keys})
    return events.assign(**{RECORD_KEY: keys_for(events["stream"], events["record_id"], secret)})


# Crossings have no record id: a row counts ``count`` people of one kind at one point on one day, and what
# identifies it is that description (the source's name left out, so a re-exported registry keeps its keys).
CROSSING_IDENTITY = (
    "date", "point", "direction", "nationality", "sex", "age_group", "origin", "destination", "transport",
)  # fmt: skip


def crossing_identity(crossings: pd.DataFrame) -> pd.Series:
    """The text that identifies each crossings row (its day, point, direction and who/where/how)."""
    dates = pd.to_datetime(crossings["date"]).dt.strftime("%Y-%m-%d")
    parts = [dates.astype(object)] + [crossings[c].astype(str).astype(object) for c in CROSSING_IDENTITY[1:]]
    out = parts[0]
    for part in parts[1:]:
        out = out + "|" + part
    return out


def attach_crossings(crossings: pd.DataFrame, secret: bytes | None = None) -> pd.DataFrame:
    """``crossings`` with a ``record_key`` column (keys already there kept): the keyed hash of each row's
    identity, as ``attach`` does for events. The people a row counts share its key."""
    secret = secrets.token_bytes(_SECRET_BYTES) if secret is None else secret
    existing = (
        pd.to_numeric(crossings[RECORD_KEY], errors="coerce")
        if RECORD_KEY in crossings.columns
        else pd.Series(np.nan, index=crossings.index)
    )
    missing = existing.isna().to_numpy()
    keys = np.zeros(len(crossings), dtype=np.uint8)
    keys[~missing] = existing.to_numpy()[~missing].astype(np.uint8)
    if missing.any():
        rows = crossings.loc[missing]
        identity = crossing_identity(rows)
        keys[missing] = keys_for(pd.Series("crossing", index=rows.index), identity, secret)
    return crossings.assign(**{RECORD_KEY: keys})
