"""Flow monitoring points and official border crossings of Sudan (geo/crossing_points.csv).

One row per point: ``code`` (the key the ``crossings`` table uses), English and Arabic names, coordinates, the
state pcode it lies in, the ISO3 code of the country across the border (for a port, the country its ferries
sail to) and its kind (border crossing, transit hub, port). Only points whose location is publicly known are
listed; coordinates are approximate (public maps, a few kilometres) and each is checked by a test to lie in
its state's COD-AB polygon.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pycountry

from flowmon._resources import reference_path
from flowmon.geo.offices import SUDAN_LAT, SUDAN_LON
from flowmon.schema import STATE_PCODES

POINTS_FILE = "crossing_points.csv"
POINT_COLUMNS = ("code", "name", "name_ar", "lon", "lat", "state_pcode", "country_across", "kind", "note")
KINDS = ("border crossing", "transit hub", "port")


def check_points(table: pd.DataFrame, file: str) -> None:
    """Raise ValueError naming file, row and column of the first bad value of a points table."""

    def fail(row: int, column: str, problem: str) -> None:
        raise ValueError(f"{file} row {row + 2}, column {column}: {problem}")  # the header is row 1

    missing = [c for c in POINT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{file}: missing columns {missing}")
    for row, code in table["code"].items():
        if not isinstance(code, str) or not code.isalnum() or not code.isupper():
            fail(row, "code", f"{code!r} is not an upper-case code")
    duplicated = table["code"].duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().argmax())
        fail(row, "code", f"{table['code'].iloc[row]!r} appears twice")
    for row, pcode in table["state_pcode"].items():
        if pcode not in STATE_PCODES:
            fail(row, "state_pcode", f"{pcode!r} is not a state pcode (SD01..SD19)")
    for row, iso3 in table["country_across"].items():
        if pycountry.countries.get(alpha_3=str(iso3)) is None or iso3 == "SDN":
            fail(row, "country_across", f"{iso3!r} is not the ISO3 code of another country")
    for row, kind in table["kind"].items():
        if kind not in KINDS:
            fail(row, "kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    for column, (low, high) in (("lon", SUDAN_LON), ("lat", SUDAN_LAT)):
        for row, value in table[column].items():
            if not low <= value <= high:
                fail(row, column, f"{value} lies outside Sudan ({low}..{high})")


@cache
def _points() -> pd.DataFrame:
    path = reference_path(POINTS_FILE)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in ("lon", "lat"):
        table[column] = pd.to_numeric(table[column], errors="raise")
    check_points(table, str(path))
    return table[list(POINT_COLUMNS)]


def crossing_points() -> pd.DataFrame:
    """The points table: code, name, name_ar, lon, lat, state_pcode, country_across, kind, note."""
    return _points().copy()


def point_codes() -> tuple[str, ...]:
    return tuple(_points()["code"])
