"""Sudan's geography for flowmon: the pcode gazetteer, offices, the schematic tile map, official boundaries
and country points. Everything is joined on COD-AB admin-1 pcodes (SD01..SD19)."""

from flowmon.geo.boundaries import (
    boundaries,
    boundaries_info,
    fetch_boundaries,
    import_boundaries,
    missing_states,
)
from flowmon.geo.countries import SUDAN_NEIGHBOURS, countries, country_point, neighbour_outlines
from flowmon.geo.gazetteer import Match, match_names, match_table, name_key, normalise, states, to_pcode
from flowmon.geo.offices import office_code, offices, open_on
from flowmon.geo.tiles import layout_score, office_points_on_tiles, tiles

__all__ = [
    "SUDAN_NEIGHBOURS",
    "Match",
    "boundaries",
    "boundaries_info",
    "countries",
    "country_point",
    "fetch_boundaries",
    "import_boundaries",
    "layout_score",
    "match_names",
    "match_table",
    "missing_states",
    "name_key",
    "neighbour_outlines",
    "normalise",
    "office_code",
    "office_points_on_tiles",
    "offices",
    "open_on",
    "states",
    "tiles",
    "to_pcode",
]
