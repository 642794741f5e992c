"""Official admin-1 boundaries (OCHA COD-AB for Sudan): import, check, simplify, install, fetch from HDX.

No installable package ships COD-AB, so a data folder gets them once, from a file (``import_boundaries``) or
from HDX's CKAN API (``fetch_boundaries``). They are installed as one GeoJSON file,
``<data_dir>/boundaries/admin1.geojson``, whose top-level ``flowmon`` member records where they came from and
what was done to them; one file, so replacing it is atomic.

Simplification uses GEOS's coverage simplifier (``shapely.coverage_simplify``): it simplifies each shared
border once, for both states, so the result has no slivers or gaps between states.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from flowmon import store
from flowmon.geo.gazetteer import match_names, states
from flowmon.schema import STATE_PCODES

if TYPE_CHECKING:
    import geopandas as gpd

HDX_URL = "https://data.humdata.org"
DATASET_ID = "cod-ab-sdn"
# Coverage simplification tolerance, in degrees (~1 km): the 19,973 vertices of COD-AB 2020 become 3,257.
DEFAULT_TOLERANCE = 0.01
PCODE_COLUMNS = ("ADM1_PCODE", "admin1Pcode", "ADM1_PCODE_", "PCODE", "pcode")
NAME_COLUMNS = ("ADM1_EN", "admin1Name_en", "ADM1_NAME", "NAME_1", "name_en", "name")
READABLE_SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg")


class BoundaryError(ValueError):
    """A boundary file that cannot be installed, with the reason in one line."""


def boundaries_path(data_dir: str | os.PathLike | None) -> Path:
    return store.resolve_data_dir(data_dir) / "boundaries" / "admin1.geojson"


# --- reading


def _dataset(path: Path) -> str:
    # Zipped shapefiles are read through GDAL's zip file system.
    return f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)


def _pcode_column(columns) -> str | None:
    return next((c for c in PCODE_COLUMNS if c in columns), None)


def _admin1_layers(dataset: str) -> tuple[list[str], list[str]]:
    """All layers of a dataset, and those that look like admin-1: a pcode column holding SDnn codes."""
    import pyogrio

    layers = [str(name) for name, _ in pyogrio.list_layers(dataset)]
    admin1 = []
    for layer in layers:
        try:
            attributes = pyogrio.read_dataframe(dataset, layer=layer, read_geometry=False)
        except Exception:  # a layer GDAL cannot read is no candidate
            continue
        column = _pcode_column(attributes.columns)
        if column is not None and attributes[column].astype(str).str.fullmatch(r"SD\d\d").all():
            admin1.append(layer)
    return layers, admin1


def choose_layer(path: str | os.PathLike, layer: str | None = None) -> str | None:
    """The admin-1 layer of a file: ``layer`` if given (and present), the only layer, or the only layer whose
    pcodes are admin-1 codes; BoundaryError naming the candidates otherwise."""
    path = Path(path)
    layers, admin1 = _admin1_layers(_dataset(path))
    if layer is not None:
        if layer not in layers:
            raise BoundaryError(f"{path}: no layer {layer!r}; layers: {', '.join(layers)}")
        return layer
    if len(layers) == 1:
        return layers[0]
    if len(admin1) == 1:
        return admin1[0]
    by_name = [name for name in (admin1 or layers) if re.search(r"adm(in)?_?1", name, re.IGNORECASE)]
    if len(by_name) == 1:
        return by_name[0]
    raise BoundaryError(
        f"{path}: cannot tell which layer is admin-1 among {', '.join(layers)}; choose one with --layer"
    )


def read_admin1(path: str | os.PathLike, layer: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read an admin-1 file as ``pcode`` + ``geometry`` in EPSG:4326, and notes on what was done to it."""
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() not in READABLE_SUFFIXES:
        raise BoundaryError(f"{path}: expected GeoJSON, a shapefile, a zipped shapefile or a GeoPackage")
    chosen = choose_layer(path, layer)
    try:
        frame = gpd.read_file(_dataset(path), layer=chosen)
    except Exception as error:  # GDAL raises many kinds: one line for the user
        raise BoundaryError(f"{path}: cannot read: {error}") from None
    notes = [f"layer {chosen}"] if chosen else []

    column = _pcode_column(frame.columns)
    if column is not None:
        frame["pcode"] = frame[column].astype(str).str.strip()
    else:
        name_column = next((c for c in NAME_COLUMNS if c in frame.columns), None)
        if name_column is None:
            raise BoundaryError(f"{path}: no pcode column ({', '.join(PCODE_COLUMNS)}) and no name column")
        pcodes, unmatched = match_names(frame[name_column])
        if unmatched:
            raise BoundaryError(f"{path}, column {name_column}: names without a pcode: {sorted(unmatched)}")
        frame["pcode"] = pcodes.astype(object)
        notes.append(f"pcodes matched from names in column {name_column}")

    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise BoundaryError(f"{path}: no coordinate reference system, and coordinates are not degrees")
        frame = frame.set_crs(4326)
        notes.append("no CRS in the file: read as EPSG:4326 (coordinates are degrees)")
    elif frame.crs.to_epsg() != 4326:
        notes.append(f"reprojected from {frame.crs.to_string()} to EPSG:4326")
        frame = frame.to_crs(4326)
    return frame[["pcode", "geometry"]], notes


# --- checking and simplifying


def _polygonal(geometry):
    """The polygons of a geometry (``make_valid`` can return lines and points beside them)."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon | MultiPolygon)]
    return shapely.union_all(parts) if parts else Polygon()


def prepare(
    frame: gpd.GeoDataFrame, source: str, tolerance: float = DEFAULT_TOLERANCE
) -> tuple[gpd.GeoDataFrame, dict]:
    """Check the 19 pcodes, repair invalid geometries, merge duplicate rows, simplify the coverage.

    Returns the frame (``pcode``, ``name_en``, ``name_ar``, ``geometry``, sorted by pcode) and a report of
    vertex counts and repairs.
    """
    import geopandas as gpd
    import shapely

    unknown = sorted(set(frame["pcode"]) - set(STATE_PCODES))
    if unknown:
        raise BoundaryError(f"{source}: pcodes that are not Sudan admin-1 (SD01..SD19): {unknown}")
    missing = sorted(set(STATE_PCODES) - set(frame["pcode"]))
    if missing:
        raise BoundaryError(f"{source}: missing pcodes {missing}: an admin-1 file has all 19 states")

    repaired = []
    geometries = frame.geometry.to_numpy()
    empty = frame.loc[shapely.is_empty(geometries) | pd.isna(geometries), "pcode"].tolist()
    if empty:
        raise BoundaryError(f"{source}: empty geometry for {sorted(set(empty))}")
    invalid = ~shapely.is_valid(geometries)
    for index in invalid.nonzero()[0]:
        reason = shapely.is_valid_reason(geometries[index])
        geometries[index] = _polygonal(shapely.make_valid(geometries[index]))
        repaired.append(f"{frame['pcode'].iloc[index]}: {reason}; repaired with make_valid")
    frame = gpd.GeoDataFrame({"pcode": frame["pcode"].to_numpy()}, geometry=geometries, crs=4326)
    if frame["pcode"].duplicated().any():
        repaired.append("several rows for one pcode merged into one area")
        frame = frame.dissolve(by="pcode", as_index=False)
    frame = frame.sort_values("pcode", ignore_index=True)

    before = int(shapely.get_num_coordinates(frame.geometry.to_numpy()).sum())
    coverage_was_valid = bool(shapely.coverage_is_valid(frame.geometry.to_numpy()))
    simplified = shapely.coverage_simplify(frame.geometry.to_numpy(), tolerance)
    broken = ~shapely.is_valid(simplified) | shapely.is_empty(simplified)
    if broken.any():
        raise BoundaryError(
            f"{source}: simplification broke {frame['pcode'][broken].tolist()}; try a smaller tolerance"
        )
    if coverage_was_valid and not shapely.coverage_is_valid(simplified):
        raise BoundaryError(f"{source}: simplification made states overlap; try a smaller tolerance")
    if not coverage_was_valid:
        repaired.append("states overlap or their borders do not match in the source: kept as they are")
    after = int(shapely.get_num_coordinates(simplified).sum())

    names = states().set_index("pcode")
    result = gpd.GeoDataFrame(
        {
            "pcode": frame["pcode"],
            "name_en": frame["pcode"].map(names["name_en"]),
            "name_ar": frame["pcode"].map(names["name_ar"]),
        },
        geometry=simplified,
        crs=4326,
    )
    report = {
        "vertices_before": before,
        "vertices": after,
        "tolerance": tolerance,
        "coverage_valid": bool(shapely.coverage_is_valid(simplified)),
        "repaired": repaired,
    }
    return result, report


# --- installing and reading back


def _write(frame: gpd.GeoDataFrame, info: dict, data_dir: str | os.PathLike | None) -> Path:
    collection = json.loads(frame.to_json(drop_id=True))
    collection["flowmon"] = info
    path = boundaries_path(data_dir)
    store.write_text_atomic(path, json.dumps(collection, ensure_ascii=False, separators=(",", ":")))
    return path


def import_boundaries(
    path: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    layer: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    source: str | None = None,
) -> dict:
    """Read, check, simplify and install an admin-1 file into ``data_dir``; returns the installed info.

    ``source`` names where the file came from (a URL) when it is not the path itself. Nothing is installed
    when a check fails: the previous boundaries stay.
    """
    path = Path(path)
    frame, notes = read_admin1(path, layer)
    prepared, report = prepare(frame, str(path), tolerance)
    info = {
        "source": source or str(path.resolve()),
        "file": path.name,
        "sha256": store.sha256_file(path),
        "installed": store.now(),
        "areas": len(prepared),
        "pcodes": prepared["pcode"].tolist(),
        "notes": notes,
        **report,
    }
    _write(prepared, info, data_dir)
    return info


def boundaries(data_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame | None:
    """The installed official boundaries (``pcode``, ``name_en``, ``name_ar``, geometry in EPSG:4326), or
    None when the data folder has none."""
    import geopandas as gpd

    path = boundaries_path(data_dir)
    if not path.exists():
        return None
    frame = gpd.read_file(path)
    frame = frame.set_crs(4326) if frame.crs is None else frame.to_crs(4326)
    return frame[["pcode", "name_en", "name_ar", "geometry"]].sort_values("pcode", ignore_index=True)


def boundaries_info(data_dir: str | os.PathLike | None = None) -> dict | None:
    """What is installed: source, installed (UTC time), areas, pcodes, vertices (and before simplification),
    repaired, notes; None when nothing is."""
    path = boundaries_path(data_dir)
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as file:
        return json.load(file).get("flowmon", {})


# --- fetching from HDX


def _get(url: str, timeout: float) -> urllib.request.addinfourl:
    request = urllib.request.Request(url, headers={"User-Agent": "flowmon (IOM Sudan)"})
    return urllib.request.urlopen(request, timeout=timeout)


def _offline(base_url: str, error: BaseException) -> OSError:
    reason = getattr(error, "reason", None) or error
    return OSError(
        f"cannot reach {base_url} ({reason}); download the COD-AB admin-1 file for Sudan by hand and run "
        "`flowmon geo import FILE`"
    )


def _format_rank(resource: dict) -> tuple[int, int] | None:
    """Lower is better; None for a resource that is not boundaries we can read."""
    text = " ".join(str(resource.get(k, "")) for k in ("name", "url", "description")).lower()
    fmt = str(resource.get("format", "")).lower()
    suffix = Path(urllib.parse.urlparse(str(resource.get("url", ""))).path).suffix.lower()
    if "geojson" in fmt or suffix in (".geojson", ".json"):
        kind = 0
    elif "geopackage" in fmt or "gpkg" in fmt or ".gpkg" in text:
        kind = 1
    elif "shp" in fmt or "shapefile" in fmt or "shp.zip" in text or "_shp" in text:
        kind = 2
    else:
        return None
    is_admin1 = bool(re.search(r"adm(in)?_?1|admbnda_adm1|admin.?1", text))
    all_levels = bool(re.search(r"_adm_|all levels|admin boundaries", text))
    return (0 if is_admin1 else 1 if all_levels else 2, kind)


def choose_resource(package: dict) -> dict:
    """The admin-1 resource of a CKAN ``package_show`` result: admin-1 files before all-level files,
    GeoJSON before GeoPackage before zipped shapefiles."""
    ranked = sorted(
        (
            (rank, index, resource)
            for index, resource in enumerate(package.get("resources", []))
            if (rank := _format_rank(resource)) is not None
        ),
        key=lambda item: (item[0], item[1]),
    )
    if not ranked:
        names = [r.get("name") for r in package.get("resources", [])]
        raise BoundaryError(
            f"dataset {package.get('name')!r} has no GeoJSON, GeoPackage or shapefile: {names}"
        )
    return ranked[0][2]


def fetch_boundaries(
    data_dir: str | os.PathLike | None = None,
    base_url: str = HDX_URL,
    timeout: float = 30.0,
    dataset: str = DATASET_ID,
    tolerance: float = DEFAULT_TOLERANCE,
) -> dict:
    """Download Sudan's COD-AB admin-1 from a CKAN portal (HDX by default) and install it.

    Asks ``{base_url}/api/3/action/package_show?id=cod-ab-sdn`` for the dataset's resources, downloads the
    admin-1 one, then imports it as :func:`import_boundaries` does. OSError with one line when offline.
    """
    base_url = base_url.rstrip("/")
    query = urllib.parse.urlencode({"id": dataset})
    api = f"{base_url}/api/3/action/package_show?{query}"
    try:
        with _get(api, timeout) as response:
            answer: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as error:
        raise BoundaryError(f"{api}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise _offline(base_url, error) from None
    except json.JSONDecodeError:
        raise BoundaryError(f"{api}: the answer is not CKAN JSON") from None
    if not answer.get("success") or "result" not in answer:
        raise BoundaryError(f"{api}: CKAN says {answer.get('error', 'no result')}")
    resource = choose_resource(answer["result"])
    url = urllib.parse.urljoin(base_url + "/", resource["url"])
    name = Path(urllib.parse.urlparse(url).path).name or "admin1.geojson"
    with tempfile.TemporaryDirectory(prefix="flowmon-boundaries-") as folder:
        target = Path(folder) / name
        try:
            with _get(url, timeout) as response, target.open("wb") as file:
                shutil.copyfileobj(response, file)
        except urllib.error.HTTPError as error:
            raise BoundaryError(f"{url}: HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise _offline(base_url, error) from None
        return import_boundaries(target, data_dir, tolerance=tolerance, source=url)
