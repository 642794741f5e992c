"""Countries: ISO3 codes, names, and points inside the countries for flow lines."""

from __future__ import annotations

import pycountry
import pytest
from shapely.geometry import Point

from flowmon import geo
from flowmon.geo.countries import SUDAN_NEIGHBOURS, _outline


def test_every_iso_country_is_listed_once_with_its_name() -> None:
    table = geo.countries()
    assert list(table.columns) == ["iso3", "name", "lat", "lon"]
    assert set(table["iso3"]) == {c.alpha_3 for c in pycountry.countries}
    assert table["iso3"].is_unique
    assert table.set_index("iso3").loc["SDN", "name"] == "Sudan"


def test_nearly_every_country_has_a_point_on_the_globe() -> None:
    table = geo.countries()
    located = table.dropna(subset=["lat", "lon"])
    # A handful of uninhabited or special territories (Bouvet Island, US minor outlying islands) have none.
    assert len(located) >= len(table) - 5
    assert located["lat"].between(-90, 90).all() and located["lon"].between(-180, 180).all()


@pytest.mark.parametrize("iso3", [*SUDAN_NEIGHBOURS, "SDN", "NGA", "NER", "SOM", "SYR", "YEM", "TUR"])
def test_country_points_lie_inside_the_countries(iso3: str) -> None:
    lon, lat = geo.country_point(iso3)
    assert _outline(iso3).contains(Point(lon, lat))


def test_country_point_for_places_of_return_in_the_design() -> None:
    # AVRR returns to Nigeria and Niger leave from Sudan towards the west; Eritreans arrive from the east.
    sudan_lon, _ = geo.country_point("SDN")
    assert geo.country_point("NGA")[0] < sudan_lon and geo.country_point("NER")[0] < sudan_lon
    assert geo.country_point("ERI")[0] > sudan_lon
    assert geo.country_point("pse") == geo.country_point("PSE")  # no outline: falls back to the capital


@pytest.mark.parametrize("code", ["UNK", "XXX", "", "Sudan"])
def test_country_point_refuses_unknown_codes(code: str) -> None:
    with pytest.raises(KeyError):
        geo.country_point(code)


def test_neighbour_outlines_frame_sudan() -> None:
    outlines = geo.neighbour_outlines()
    assert outlines is not None
    assert tuple(outlines["iso3"]) == SUDAN_NEIGHBOURS
    assert outlines.crs.to_epsg() == 4326
    assert outlines.geometry.is_valid.all()
    sudan = _outline("SDN")
    # Each neighbour touches Sudan's outline (coarse outlines: allow a small gap; degrees are fine here).
    assert all(outline.distance(sudan) < 0.5 for outline in outlines.geometry)
