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
from flowmon.geo.offices import check_places, row_failure

POINTS_FILE = "crossing_points.csv"
POINT_COLUMNS = ("code", "name", "name_ar", "lon", "lat", "state_pcode", "country_across", "kind", "note")
KINDS = ("border crossing", "transit hub", "port")


def check_points(table: pd.DataFrame, file: str) -> None:
    """Raise ValueError naming file, row and column of the first bad value of a points table."""
    check_places(table, file, POINT_COLUMNS)
    fail = row_failure(file)
    for row, iso3 in table["country_across"].items():
        if pycountry.countries.get(alpha_3=str(iso3)) is None or iso3 == "SDN":
            fail(row, "country_across", f"{iso3!r} is not the ISO3 code of another country")
    for row, kind in table["kind"].items():
        if kind not in KINDS:
            fail(row, "kind", f"{kind!r} is not one of {', '.join(KINDS)}")


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
