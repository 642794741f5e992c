"""Where flowmon's shipped reference files (the top-level ``geo/`` folder) live.

An installed wheel carries them as ``flowmon/_geo``; an editable install or a source checkout reads the
repository's ``geo/`` folder directly.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def reference_dir() -> Path:
    packaged = Path(__file__).with_name("_geo")
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "geo"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"flowmon's reference files are missing: neither {packaged} nor {checkout} exists; reinstall flowmon"
    )


def reference_path(name: str) -> Path:
    """Path of a shipped reference file, e.g. ``reference_path("offices.csv")``."""
    path = reference_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"flowmon reference file {name!r} not found in {reference_dir()}")
    return path
