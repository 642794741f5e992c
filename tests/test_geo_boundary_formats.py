"""Boundaries as IM officers have them: OCHA's current and older COD-AB schemas, older CBS and Power BI
files, admin-2 files dissolved to states, every format, missing states, coordinates outside Sudan, and OCHA's
current releases fetched through CKAN."""

from __future__ import annotations

import http.server
import json
import threading
import zipfile
from pathlib import Path

import pytest
import shapely

from flowmon import cli, geo
from flowmon.geo.boundaries import BoundaryError, choose_resource, missing_states
from flowmon.schema import STATE_PCODES

gpd = pytest.importorskip("geopandas")

FIXTURES = Path(__file__).parent / "fixtures" / "geo"
ALL = list(STATE_PCODES)
WITHOUT_ABYEI = ALL[:-1]


@pytest.fixture(scope="module")
def v03(shared_data) -> Path:
    return shared_data / "cod-ab" / "v03"


@pytest.fixture(scope="module")
def admin1(v03):
    return gpd.read_file(v03 / "sdn_adm1_v03.gpkg")


@pytest.fixture(scope="module")
def admin2(v03):
    return gpd.read_file(v03 / "sdn_adm2_v03.gpkg")


def _import(path, tmp_path, **options) -> dict:
    return geo.import_boundaries(path, tmp_path / "store", **options)


@pytest.mark.parametrize("name", ["sdn_adm1_v03.gpkg", "sdn_adm1_v03.geojson"])
def test_the_current_cod_ab_schema_installs(v03, name, tmp_path) -> None:
    info = _import(v03 / name, tmp_path)
    assert info["pcodes"] == ALL and info["missing"] == []
    assert "pcodes from column adm1_pcode" in info["notes"]


def test_column_names_are_matched_without_case(admin1, tmp_path) -> None:
    path = tmp_path / "mixed.geojson"
    admin1[["adm1_pcode", "geometry"]].rename(columns={"adm1_pcode": "Adm1_PCode"}).to_file(path)
    assert _import(path, tmp_path)["pcodes"] == ALL
    names_only = tmp_path / "names.geojson"
    admin1[["adm1_name1", "geometry"]].rename(columns={"adm1_name1": "ADM1_NAME1"}).to_file(names_only)
    info = _import(names_only, tmp_path)  # Arabic names only
    assert info["pcodes"] == ALL and "pcodes matched from state names in column ADM1_NAME1" in info["notes"]


def test_an_admin2_file_is_dissolved_to_states(v03, admin1, tmp_path) -> None:
    info = _import(v03 / "sdn_adm2_v03.gpkg", tmp_path)
    assert info["pcodes"] == ALL
    assert "189 areas dissolved into 19 states" in info["notes"]
    installed = geo.boundaries(tmp_path / "store").set_index("pcode")
    reference = admin1.set_index("adm1_pcode")
    for pcode in ("SD01", "SD07", "SD19"):  # same outline as the admin-1 file, within the simplification
        overlap = installed.geometry[pcode].intersection(reference.geometry[pcode]).area
        assert overlap / reference.geometry[pcode].area > 0.97


def test_admin2_pcodes_alone_give_the_state(admin2, tmp_path) -> None:
    path = tmp_path / "adm2_codes.geojson"
    admin2[["adm2_pcode", "geometry"]].to_file(path)
    info = _import(path, tmp_path)
    assert info["pcodes"] == ALL and any("admin-2 pcodes of column adm2_pcode" in n for n in info["notes"])


def test_older_cbs_geopackage_chooses_the_state_layer_and_warns_of_abyei(
    shared_data, tmp_path, capsys
) -> None:
    path = shared_data / "boundaries-other" / "cbs-2018" / "sudan.gpkg"
    store = tmp_path / "store"
    assert cli.main(["geo", "import", str(path), "--data-dir", str(store)]) == 0
    out = capsys.readouterr().out
    assert "note:      layer state" in out  # not the locality layer
    assert "column State_En" in out  # "Gazera" is a known spelling
    assert "warning:   no boundary in this file for SD19 Abyei PCA" in out
    info = geo.boundaries_info(store)
    assert info["pcodes"] == WITHOUT_ABYEI and info["missing"] == ["SD19"]
    frame = geo.boundaries(store)
    assert frame["pcode"].tolist() == WITHOUT_ABYEI and frame.attrs["missing"] == ["SD19"]
    assert missing_states(store) == ["SD19"]
    # Its locality layer, whose only state column holds Arabic names, is dissolved to the same 18 states.
    info = geo.import_boundaries(path, store, layer="locality")
    assert info["pcodes"] == WITHOUT_ABYEI and "188 areas dissolved into 18 states" in info["notes"]


@pytest.mark.parametrize("name", ["Sudan (2).json", "Untitled-1.json"])
def test_power_bi_localities_with_state_names_only(shared_data, name, tmp_path) -> None:
    info = _import(shared_data / "boundaries-other" / "powerbi" / name, tmp_path)
    assert info["pcodes"] == WITHOUT_ABYEI
    assert "pcodes matched from state names in column State" in info["notes"]
    assert "186 areas dissolved into 18 states" in info["notes"]
    assert geo.boundaries(tmp_path / "store").geometry.is_valid.all()


def test_geoparquet(admin1, tmp_path) -> None:
    path = tmp_path / "sdn_admin1.parquet"
    admin1.to_parquet(path)
    assert _import(path, tmp_path)["pcodes"] == ALL


def _lines_and_points(frame):
    lines = frame.assign(geometry=frame.boundary)[["adm1_pcode", "geometry"]]
    points = frame.assign(geometry=frame.representative_point())[["adm1_pcode", "geometry"]]
    return lines, points


def test_current_release_geojson_zip_picks_its_admin1_file(admin1, admin2, tmp_path) -> None:
    """sdn_admin_boundaries.geojson.zip: one GeoJSON per level, plus lines and points."""
    folder = tmp_path / "sdn_admin_boundaries"
    folder.mkdir()
    lines, points = _lines_and_points(admin1)
    admin1.dissolve()[["adm0_pcode", "geometry"]].to_file(folder / "sdn_admin0.geojson")
    admin1.to_file(folder / "sdn_admin1.geojson")
    admin2.to_file(folder / "sdn_admin2.geojson")
    lines.to_file(folder / "sdn_adminlines.geojson")
    points.to_file(folder / "sdn_admin1points.geojson")
    zipped = tmp_path / "sdn_admin_boundaries.geojson.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
    info = _import(zipped, tmp_path)
    assert info["pcodes"] == ALL and "layer sdn_admin1" in info["notes"]
    assert not any("dissolved" in note for note in info["notes"])


def test_current_release_shapefile_and_geodatabase_zips(admin1, admin2, tmp_path) -> None:
    shp = tmp_path / "shp" / "sdn_admin_boundaries"
    shp.mkdir(parents=True)
    gdb = tmp_path / "gdb" / "sdn_admin_boundaries.gdb"
    gdb.parent.mkdir()
    lines, _ = _lines_and_points(admin1)
    for name, frame in (("sdn_admin0", admin1.dissolve()[["adm0_pcode", "geometry"]]), ("sdn_admin1", admin1),
                        ("sdn_admin2", admin2), ("sdn_adminlines", lines)):  # fmt: skip
        frame.drop(columns=["valid_on", "valid_to"], errors="ignore").to_file(shp / f"{name}.shp")
        frame.to_file(gdb, layer=name, driver="OpenFileGDB")
    for folder, zipped in ((shp, tmp_path / "sdn_admin_boundaries.shp.zip"),
                           (gdb, tmp_path / "sdn_admin_boundaries.gdb.zip")):  # fmt: skip
        with zipfile.ZipFile(zipped, "w") as archive:
            for part in sorted(folder.rglob("*")):
                archive.write(part, part.relative_to(folder.parent))
        info = _import(zipped, tmp_path)
        assert info["pcodes"] == ALL and "layer sdn_admin1" in info["notes"], zipped.name


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_a_file_without_crs_in_chart_units_is_refused(admin1, tmp_path) -> None:
    # What a chart tool exports: screen units, y down, no CRS.
    chart = gpd.GeoDataFrame(
        {"adm1_pcode": admin1["adm1_pcode"]},
        geometry=[shapely.affinity.affine_transform(g, [40, 0, 0, -40, -800, 1000]) for g in admin1.geometry],
    )
    # GeoJSON is degrees by definition (RFC 7946), so GDAL says EPSG:4326: the extent says otherwise.
    path = tmp_path / "chart.geojson"
    path.write_text(chart.to_json(), encoding="utf-8")
    with pytest.raises(
        BoundaryError, match=r"coordinates \(x 72\.55\.\.743\.3, y 74\.29\.\.654\.3\) are not degrees"
    ):
        _import(path, tmp_path)
    shp = tmp_path / "chart.shp"  # a shapefile without its .prj: no CRS at all
    chart.to_file(shp)
    shp.with_suffix(".prj").unlink(missing_ok=True)
    with pytest.raises(
        BoundaryError, match=r"no coordinate reference system, and the coordinates .* are not degrees"
    ):
        _import(shp, tmp_path)


def test_coordinates_outside_sudan_after_reprojection_are_refused(admin1, tmp_path, capsys) -> None:
    store = tmp_path / "store"
    wrong = tmp_path / "declared_mercator.geojson"
    # Degrees labelled as Web Mercator metres: once reprojected they sit near 0 N, 0 E.
    admin1[["adm1_pcode", "geometry"]].set_crs(3857, allow_override=True).to_file(wrong)
    assert cli.main(["geo", "import", str(wrong), "--data-dir", str(store)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "after reprojection from EPSG:3857 the coordinates span 0.00..0.00 E" in error
    assert "not Sudan" in error and geo.boundaries_info(store) is None
    shifted = tmp_path / "shifted.geojson"
    admin1[["adm1_pcode", "geometry"]].assign(geometry=admin1.translate(xoff=-30)).to_file(shifted)
    with pytest.raises(BoundaryError, match=r"in EPSG:4326 the coordinates span -8\.19\.\.8\.58 E"):
        geo.import_boundaries(shifted, store)


def test_too_few_states_is_not_sudan_admin1(admin1, tmp_path) -> None:
    path = tmp_path / "three.geojson"
    admin1[admin1["adm1_pcode"].isin(["SD01", "SD02", "SD03"])].to_file(path)
    with pytest.raises(BoundaryError, match="only 3 of Sudan's 19 states"):
        _import(path, tmp_path)


def test_tables_without_geometry_are_named_as_such(shared_data, tmp_path) -> None:
    for name in ("SDN_AdminBoundaries_TabularData.xlsx", "raw_boundaries_data.csv"):
        with pytest.raises(BoundaryError, match="a table without geometry"):
            _import(shared_data / "cod-ab" / "tabular" / name, tmp_path)


# --- fetching the current release through CKAN -------------------------------------------------------------


def _catalogue(base: str, drop: tuple[str, ...] = ()) -> dict:
    text = (FIXTURES / "ckan_cod_ab_sdn_current.json").read_text(encoding="utf-8").replace("{base}", base)
    answer = json.loads(text)
    answer["result"]["resources"] = [r for r in answer["result"]["resources"] if r["format"] not in drop]
    return answer


def test_choose_resource_on_the_current_catalogue() -> None:
    base = "https://data.humdata.org"
    assert choose_resource(_catalogue(base)["result"])["name"] == "sdn_admin_boundaries.geojson.zip"
    assert choose_resource(_catalogue(base, ("GeoJSON",))["result"])["name"] == "sdn_admin_boundaries.shp.zip"
    only_gdb = _catalogue(base, ("GeoJSON", "SHP"))["result"]
    assert choose_resource(only_gdb)["name"] == "sdn_admin_boundaries.gdb.zip"
    with pytest.raises(BoundaryError, match="no GeoJSON"):
        choose_resource(_catalogue(base, ("GeoJSON", "SHP", "Geodatabase"))["result"])


@pytest.fixture
def current_release(admin1, admin2, tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    admin1.to_file(folder / "sdn_admin1.geojson")
    admin2.to_file(folder / "sdn_admin2.geojson")
    zipped = tmp_path / "sdn_admin_boundaries.geojson.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, part.name)
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/api/3/action/package_show?id=cod-ab-sdn":
                body = json.dumps(_catalogue(base)).encode()
            elif self.path.endswith("/sdn_admin_boundaries.geojson.zip"):
                body = zipped.read_bytes()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_fetch_installs_admin1_from_the_current_release(current_release, tmp_path) -> None:
    base, requests = current_release
    store = tmp_path / "store"
    assert cli.main(["geo", "fetch", "--base-url", base, "--timeout", "10", "--data-dir", str(store)]) == 0
    assert requests[-1].endswith("/sdn_admin_boundaries.geojson.zip")
    info = geo.boundaries_info(store)
    assert info["pcodes"] == ALL and "layer sdn_admin1" in info["notes"]
    assert info["source"].endswith("/sdn_admin_boundaries.geojson.zip")
