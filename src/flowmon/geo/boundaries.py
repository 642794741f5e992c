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
import zipfile
from dataclasses import dataclass
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
# Column names are compared without case: OCHA's current schema writes ``adm1_pcode``, the older one
# ``ADM1_PCODE``. Admin-1 pcode columns first, then admin-2 ones (whose codes start with the state's).
PCODE_COLUMNS = ("adm1_pcode", "admin1Pcode", "ADM1_PCODE_", "ADM1PCODE", "adm1_code", "PCODE")
ADMIN2_PCODE_COLUMNS = ("adm2_pcode", "admin2Pcode", "ADM2PCODE")
# State names, most specific first: a generic ``name`` of an admin-2 file names localities, not states.
NAME_COLUMNS = (
    "adm1_name",
    "ADM1_EN",
    "admin1Name_en",
    "admin1Name",
    "ADM1_NAME",
    "adm1_name1",
    "ADM1_AR",
    "State_En",
    "State_Name",
    "State",
    "NAME_1",
    "shapeName",
    "name_en",
    "name",
)
READABLE_SUFFIXES = (".geojson", ".json", ".topojson", ".shp", ".zip", ".gpkg", ".parquet", ".geoparquet")
TABLE_SUFFIXES = (".xlsx", ".xls", ".csv")
# Sudan's extent (COD-AB 2020: 21.81..38.61 E, 8.64..23.15 N) with a margin for other editions.
SUDAN_EXTENT = (21.0, 8.0, 39.5, 24.0)
# Fewer states than this is not an admin-1 file of Sudan with some states missing, but something else.
MIN_STATES = 10
# Layer names that say admin-1 (``sdn_admin1``, ``state``) or admin-2; ``sdn_admin1points`` says neither.
_ADMIN1_NAME = re.compile(r"(^|[^a-z0-9])(adm(in)?_?1|admbnda_adm1|states?|wilayat?|provinces?)($|[^a-z0-9])")
_ADMIN2_NAME = re.compile(r"(^|[^a-z0-9])(adm(in)?_?2|admbnda_adm2|localit(y|ies)|districts?)($|[^a-z0-9])")


class BoundaryError(ValueError):
    """A boundary file that cannot be installed, with the reason in one line."""


def boundaries_path(data_dir: str | os.PathLike | None) -> Path:
    return store.resolve_data_dir(data_dir) / "boundaries" / "admin1.geojson"


# --- finding the layer


@dataclass(frozen=True)
class Layer:
    """A layer GDAL can read: its dataset (a path, or a ``/vsizip/`` path inside an archive) and name."""

    dataset: str
    name: str | None
    geometry: str = ""

    @property
    def label(self) -> str:
        return self.name or Path(self.dataset).name


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except zipfile.BadZipFile:
        raise BoundaryError(f"{path}: not a readable zip archive") from None


def _datasets(path: Path) -> list[str]:
    """The datasets a file holds: itself, or each boundary file inside a zip (OCHA's current releases zip
    one GeoJSON per level, or a multi-layer shapefile, or a file geodatabase)."""
    if path.suffix.lower() != ".zip":
        return [str(path)]
    members = _zip_members(path)
    root = f"/vsizip/{path}"
    gdbs = sorted({m[: m.lower().index(".gdb/") + 4] for m in members if ".gdb/" in m.lower()})
    singles = [m for m in members if Path(m).suffix.lower() in (".geojson", ".json", ".topojson", ".gpkg")]
    folders = sorted({str(Path(m).parent) for m in members if m.lower().endswith(".shp")})
    found = [f"{root}/{g}" for g in gdbs] + [f"{root}/{m}" for m in sorted(singles)]
    found += [root if folder == "." else f"{root}/{folder}" for folder in folders]
    if not found:
        raise BoundaryError(f"{path}: no shapefile, GeoJSON, GeoPackage or geodatabase in the zip")
    return found


def _layers(path: Path) -> list[Layer]:
    import pyogrio

    if path.suffix.lower() in (".parquet", ".geoparquet"):
        return [Layer(str(path), None, "Polygon")]
    out = []
    for dataset in _datasets(path):
        try:
            listed = pyogrio.list_layers(dataset)
        except Exception as error:  # GDAL raises many kinds: one line for the user
            raise BoundaryError(f"{path}: cannot read: {error}") from None
        out += [Layer(dataset, str(name), str(kind or "")) for name, kind in listed]
    return out


def _polygon_layers(layers: list[Layer]) -> list[Layer]:
    # TopoJSON layers report "Unknown"; points and lines (admin points, boundary lines) are no candidates.
    areas = [
        layer
        for layer in layers
        if "point" not in layer.geometry.lower() and "line" not in layer.geometry.lower()
    ]
    return areas or layers


def _attributes(layer: Layer) -> pd.DataFrame:
    import pyogrio

    if layer.name is None and layer.dataset.endswith(("parquet",)):
        import pyarrow.parquet as pq

        return pq.read_table(layer.dataset).drop_columns(["geometry"]).to_pandas()
    return pyogrio.read_dataframe(layer.dataset, layer=layer.name, read_geometry=False)


def _holds_admin1_pcodes(layer: Layer) -> bool:
    try:
        attributes = _attributes(layer)
    except Exception:  # a layer GDAL cannot read is no candidate
        return False
    column = _find_column(attributes.columns, PCODE_COLUMNS)
    return column is not None and attributes[column].astype(str).str.fullmatch(r"SD\d\d").all()


def choose(path: str | os.PathLike, layer: str | None = None) -> tuple[Layer, list[Layer]]:
    """The admin-1 layer of a file, and all its layers.

    ``layer`` if given; else the only polygon layer; else the only one whose pcodes are admin-1 codes; else
    the only one whose name says admin-1 (``sdn_admin1``, ``state``), else admin-2 (dissolved later).
    """
    path = Path(path)
    layers = _layers(path)
    names = ", ".join(candidate.label for candidate in layers)
    if layer is not None:
        wanted = [c for c in layers if c.label == layer] or [
            c for c in layers if c.label.casefold() == layer.casefold()
        ]
        if not wanted:
            raise BoundaryError(f"{path}: no layer {layer!r}; layers: {names}")
        return wanted[0], layers
    areas = _polygon_layers(layers)
    if len(areas) == 1:
        return areas[0], layers
    admin1 = [c for c in areas if _holds_admin1_pcodes(c)]
    if len(admin1) == 1:
        return admin1[0], layers
    for pattern in (_ADMIN1_NAME, _ADMIN2_NAME):
        named = [c for c in (admin1 or areas) if pattern.search(c.label.casefold())]
        if len(named) == 1:
            return named[0], layers
    raise BoundaryError(f"{path}: cannot tell which layer is admin-1 among {names}; choose one with --layer")


def choose_layer(path: str | os.PathLike, layer: str | None = None) -> str | None:
    """The name of the admin-1 layer of a file (see :func:`choose`)."""
    return choose(path, layer)[0].name


# --- reading


def _find_column(columns, wanted: tuple[str, ...]) -> str | None:
    """The first of ``wanted`` among ``columns``, compared without case."""
    by_key = {str(c).casefold(): c for c in columns}
    return next((by_key[w.casefold()] for w in wanted if w.casefold() in by_key), None)


def _read(layer: Layer, path: Path) -> gpd.GeoDataFrame:
    import geopandas as gpd

    try:
        if layer.name is None and layer.dataset.endswith("parquet"):
            return gpd.read_parquet(layer.dataset)
        return gpd.read_file(layer.dataset, layer=layer.name)
    except Exception as error:  # GDAL and pyarrow raise many kinds: one line for the user
        raise BoundaryError(f"{path}: cannot read: {error}") from None


def _pcodes(frame: pd.DataFrame, path: Path) -> tuple[pd.Series, str]:
    """The state pcode of every row, and a note saying where it came from."""
    column = _find_column(frame.columns, PCODE_COLUMNS)
    if column is not None:
        codes = frame[column].astype("string").str.strip().str.upper()
        if codes.str.fullmatch(r"SD\d\d").all():
            return codes, f"pcodes from column {column}"
    column2 = _find_column(frame.columns, ADMIN2_PCODE_COLUMNS) or column
    if column2 is not None:
        codes = frame[column2].astype("string").str.strip().str.upper()
        if codes.str.fullmatch(r"SD\d{2,}").all() and codes.str.len().gt(4).any():
            return codes.str[:4], f"state pcodes from the admin-2 pcodes of column {column2} (SDnn...)"
        if column2 == column:
            return codes, f"pcodes from column {column}"
    tried = []
    best: tuple[str, dict] | None = None
    for name in NAME_COLUMNS:
        found = _find_column(frame.columns, (name,))
        if found is None or found in tried:
            continue
        tried.append(found)
        values = frame[found].astype("object").where(frame[found].notna())
        pcodes, unmatched = match_names(values)
        if not unmatched and pcodes.notna().all():
            return pcodes.astype("string"), f"pcodes matched from state names in column {found}"
        if best is None:
            best = (found, unmatched)
    if best is not None:
        found, unmatched = best
        raise BoundaryError(f"{path}, column {found}: names without a pcode: {sorted(unmatched)}")
    looked = ", ".join(PCODE_COLUMNS + NAME_COLUMNS)
    raise BoundaryError(
        f"{path}: no pcode column and no state-name column (looked for {looked}, in any case); "
        f"its columns: {', '.join(map(str, frame.columns.drop('geometry', errors='ignore')))}"
    )


def _extent(frame) -> str:
    minx, miny, maxx, maxy = frame.total_bounds
    return f"x {minx:,.4g}..{maxx:,.4g}, y {miny:,.4g}..{maxy:,.4g}"


def _degrees(frame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _check_extent(frame, path: Path, how: str) -> None:
    if not _degrees(frame):
        raise BoundaryError(
            f"{path}: {how or 'in EPSG:4326'} the coordinates ({_extent(frame)}) are not degrees: chart or "
            "projected units with a wrong or missing CRS"
        )
    minx, miny, maxx, maxy = frame.total_bounds
    west, south, east, north = SUDAN_EXTENT
    if not (west <= minx and maxx <= east and south <= miny and maxy <= north):
        raise BoundaryError(
            f"{path}: {how or 'in EPSG:4326'} the coordinates span {minx:.2f}..{maxx:.2f} E, "
            f"{miny:.2f}..{maxy:.2f} N, not Sudan ({west:g}..{east:g} E, {south:g}..{north:g} N)"
        )


def read_admin1(path: str | os.PathLike, layer: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read an admin-1 (or admin-2) file as ``pcode`` + ``geometry`` in EPSG:4326, and notes on what was done.

    Rows are not merged here: an admin-2 file keeps one row per locality with its state's pcode
    (:func:`prepare` dissolves them). The coordinates must lie within Sudan once in EPSG:4326.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not path.is_dir() and path.suffix.lower() in TABLE_SUFFIXES:
        raise BoundaryError(
            f"{path}: a table without geometry (COD-AB's names and pcodes are in flowmon's gazetteer "
            "already); boundaries come as GeoJSON, TopoJSON, a shapefile (or zip), a GeoPackage or GeoParquet"
        )
    if not path.is_dir() and path.suffix.lower() not in READABLE_SUFFIXES:
        raise BoundaryError(
            f"{path}: expected GeoJSON, TopoJSON, a shapefile (or zip), a GeoPackage or GeoParquet"
        )
    chosen, layers = choose(path, layer)
    frame = _read(chosen, path)
    notes = [f"layer {chosen.label}"] if len(layers) > 1 or layer is not None else []
    if frame.empty:
        raise BoundaryError(f"{path}: layer {chosen.label} has no features")
    codes, how = _pcodes(frame, path)
    frame["pcode"] = codes.astype(object).to_numpy()
    notes.append(how)

    if frame.crs is None:
        if not _degrees(frame):
            raise BoundaryError(
                f"{path}: no coordinate reference system, and the coordinates ({_extent(frame)}) are not "
                "degrees: save the file with its CRS (a .prj beside a .shp)"
            )
        frame = frame.set_crs(4326)
        _check_extent(frame, path, "no CRS in the file, read as degrees:")
        notes.append("no CRS in the file: read as EPSG:4326 (coordinates are degrees)")
    elif frame.crs.to_epsg() != 4326:
        crs = frame.crs.to_string()
        frame = frame.to_crs(4326)
        _check_extent(frame, path, f"after reprojection from {crs}")
        notes.append(f"reprojected from {crs} to EPSG:4326")
    else:
        _check_extent(frame, path, "")
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
    vertex counts, repairs, the states the file has no boundary for (``missing``: installed anyway, with a
    warning, when at least ``MIN_STATES`` are there) and the dissolving of admin-2 rows.
    """
    import geopandas as gpd
    import shapely

    unknown = sorted(set(frame["pcode"]) - set(STATE_PCODES))
    if unknown:
        raise BoundaryError(f"{source}: pcodes that are not Sudan admin-1 (SD01..SD19): {unknown}")
    missing = sorted(set(STATE_PCODES) - set(frame["pcode"]))
    present = len(STATE_PCODES) - len(missing)
    if present < MIN_STATES:
        raise BoundaryError(
            f"{source}: only {present} of Sudan's 19 states ({', '.join(sorted(set(frame['pcode'])))}): "
            "not an admin-1 (or admin-2) file of Sudan"
        )

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
    dissolved = None
    if frame["pcode"].duplicated().any():
        # An admin-2 file (or a state drawn in several pieces): one area per state.
        dissolved = f"{len(frame)} areas dissolved into {frame['pcode'].nunique()} states"
        frame = frame.dissolve(by="pcode", as_index=False)
        frame["geometry"] = [_polygonal(g) for g in shapely.make_valid(frame.geometry.to_numpy())]
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
        "missing": missing,
        "dissolved": dissolved,
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
    if report["dissolved"]:
        notes.append(report["dissolved"])
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
    None when the data folder has none. ``frame.attrs["missing"]`` lists the pcodes without a boundary
    (see :func:`missing_states`); the frame has rows only for the states that have one."""
    import geopandas as gpd

    path = boundaries_path(data_dir)
    if not path.exists():
        return None
    frame = gpd.read_file(path)
    frame = frame.set_crs(4326) if frame.crs is None else frame.to_crs(4326)
    frame = frame[["pcode", "name_en", "name_ar", "geometry"]].sort_values("pcode", ignore_index=True)
    frame.attrs["missing"] = missing_states(data_dir)
    return frame


def missing_states(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Pcodes the installed boundaries have no area for (the map marks them "no boundary in this file";
    their figures stay in tables and KPIs); empty when all 19 are there or nothing is installed."""
    info = boundaries_info(data_dir) or {}
    present = set(info.get("pcodes", STATE_PCODES))
    return [pcode for pcode in STATE_PCODES if pcode not in present]


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
    elif "geodatabase" in fmt or "gdb" in fmt or ".gdb.zip" in text:
        kind = 3
    else:
        return None
    is_admin1 = bool(re.search(r"adm(in)?_?1|admbnda_adm1|admin.?1", text))
    # OCHA's current releases put every level in one file: <iso3>_admin_boundaries.{geojson,shp,gdb}.zip
    all_levels = bool(re.search(r"_adm_|all levels|admin[ _]boundaries|level 0-", text))
    return (0 if is_admin1 else 1 if all_levels else 2, kind)


def choose_resource(package: dict) -> dict:
    """The admin-1 resource of a CKAN ``package_show`` result: admin-1 files before all-level files (OCHA's
    current ``sdn_admin_boundaries.geojson.zip``, whose admin-1 layer the import then finds), GeoJSON before
    GeoPackage before zipped shapefiles before a zipped file geodatabase."""
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
            f"dataset {package.get('name')!r} has no GeoJSON, GeoPackage, shapefile or geodatabase: {names}"
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
