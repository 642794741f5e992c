"""Official boundaries: import from every format, checks, simplification, install, status, CKAN fetch."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import zipfile
from pathlib import Path

import pytest
import shapely

from flowmon import cli, geo
from flowmon.geo.boundaries import BoundaryError, boundaries_path, choose_resource
from flowmon.geo.tiles import shared_edges
from flowmon.schema import STATE_PCODES

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
COD_AB = SHARED_DATA / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json"

gpd = pytest.importorskip("geopandas")


@pytest.fixture(scope="module")
def cod_ab():
    if not COD_AB.exists():
        pytest.skip(f"{COD_AB} not present")
    # The columns COD-AB users see, without the date fields some drivers cannot write.
    return gpd.read_file(COD_AB)[["ADM1_PCODE", "ADM1_EN", "ADM1_AR", "ADM0_PCODE", "geometry"]]


@pytest.fixture(scope="module")
def installed(tmp_path_factory, cod_ab):
    data_dir = tmp_path_factory.mktemp("store")
    info = geo.import_boundaries(COD_AB, data_dir)
    return data_dir, info


def test_cod_ab_import_gives_19_valid_areas(installed) -> None:
    data_dir, info = installed
    frame = geo.boundaries(data_dir)
    assert list(frame.columns) == ["pcode", "name_en", "name_ar", "geometry"]
    assert tuple(frame["pcode"]) == STATE_PCODES
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.is_valid.all() and not frame.geometry.is_empty.any()
    assert frame.set_index("pcode").loc["SD12", "name_en"] == "Gedaref"
    assert info == geo.boundaries_info(data_dir)
    assert info["areas"] == 19 and info["pcodes"] == list(STATE_PCODES)
    assert info["repaired"] == []
    assert info["source"] == str(COD_AB.resolve())


def test_simplification_keeps_shared_borders_shared(installed, cod_ab) -> None:
    data_dir, info = installed
    simplified = geo.boundaries(data_dir)
    assert info["vertices_before"] == int(shapely.get_num_coordinates(cod_ab.geometry.values).sum())
    assert info["vertices"] == int(shapely.get_num_coordinates(simplified.geometry.values).sum())
    assert info["vertices"] < info["vertices_before"] / 4
    print(f"COD-AB vertices {info['vertices_before']} -> {info['vertices']}")
    # No overlaps and no gaps: the borders are a valid coverage, neighbours are unchanged, and the union of
    # the states covers the same country.
    assert shapely.coverage_is_valid(simplified.geometry.values)
    original = cod_ab.rename(columns={"ADM1_PCODE": "pcode"})
    assert shared_edges(simplified, min_length=0.01) == shared_edges(original, min_length=0.01)
    before = shapely.union_all(original.geometry.values)
    after = shapely.union_all(simplified.geometry.values)
    assert abs(after.area - before.area) / before.area < 0.002
    assert len(shapely.get_parts(after)) == len(shapely.get_parts(before))
    for pcode, geometry in zip(original["pcode"], original.geometry, strict=True):
        new = simplified.set_index("pcode").geometry[pcode]
        assert abs(new.area - geometry.area) / geometry.area < 0.02, pcode


def test_geo_status_reports_what_is_installed(installed, capsys) -> None:
    data_dir, _ = installed
    assert cli.main(["geo", "status", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "19 valid" in out and "SD01" in out and "SD19" in out
    assert str(COD_AB.resolve()) in out
    assert "vertices" in out and "repaired:  nothing" in out


def test_geo_status_without_boundaries_points_to_the_tile_map(tmp_path, capsys) -> None:
    assert geo.boundaries(tmp_path) is None and geo.boundaries_info(tmp_path) is None
    assert cli.main(["geo", "status", "--data-dir", str(tmp_path)]) == 0
    assert "schematic tile map" in capsys.readouterr().out


def _write_formats(cod_ab, folder: Path) -> dict[str, Path]:
    shp_dir = folder / "shp"
    shp_dir.mkdir()
    cod_ab.to_file(shp_dir / "sdn_admbnda_adm1.shp")
    zipped = folder / "sdn_adm1_shp.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for part in shp_dir.iterdir():
            archive.write(part, part.name)
    gpkg = folder / "sdn_adm.gpkg"
    country = cod_ab.dissolve()[["ADM0_PCODE", "geometry"]]
    country.to_file(gpkg, layer="sdn_admbnda_adm0", driver="GPKG")
    cod_ab.to_file(gpkg, layer="sdn_admbnda_adm1", driver="GPKG")
    return {"shapefile": shp_dir / "sdn_admbnda_adm1.shp", "zipped shapefile": zipped, "geopackage": gpkg}


@pytest.mark.parametrize("kind", ["shapefile", "zipped shapefile", "geopackage"])
def test_every_format_imports_the_same_areas(kind, cod_ab, tmp_path) -> None:
    path = _write_formats(cod_ab, tmp_path)[kind]
    info = geo.import_boundaries(path, tmp_path / "store")
    assert info["pcodes"] == list(STATE_PCODES)
    if kind == "geopackage":
        assert "layer sdn_admbnda_adm1" in info["notes"]  # the admin-0 layer was passed over
    assert geo.boundaries(tmp_path / "store").geometry.is_valid.all()


def test_an_explicit_layer_is_used_and_a_missing_one_named(cod_ab, tmp_path) -> None:
    gpkg = _write_formats(cod_ab, tmp_path)["geopackage"]
    with pytest.raises(BoundaryError, match=r"no layer 'adm2'.*sdn_admbnda_adm0"):
        geo.import_boundaries(gpkg, tmp_path / "store", layer="adm2")
    with pytest.raises(BoundaryError, match="no pcode column"):
        geo.import_boundaries(gpkg, tmp_path / "store", layer="sdn_admbnda_adm0")


def test_two_admin1_layers_ask_for_a_layer(cod_ab, tmp_path) -> None:
    gpkg = tmp_path / "two.gpkg"
    cod_ab.to_file(gpkg, layer="first", driver="GPKG")
    cod_ab.to_file(gpkg, layer="second", driver="GPKG")
    with pytest.raises(BoundaryError, match="--layer"):
        geo.import_boundaries(gpkg, tmp_path / "store")
    assert geo.import_boundaries(gpkg, tmp_path / "store", layer="second")["areas"] == 19


def test_a_projected_file_is_reprojected(cod_ab, tmp_path) -> None:
    path = tmp_path / "utm.geojson"
    cod_ab.to_crs(32635).to_file(path)
    info = geo.import_boundaries(path, tmp_path / "store")
    assert any("reprojected from EPSG:32635" in note for note in info["notes"])
    assert geo.boundaries(tmp_path / "store").total_bounds == pytest.approx(cod_ab.total_bounds, abs=0.05)


def test_invalid_geometries_are_repaired_and_reported(cod_ab, tmp_path) -> None:
    broken = cod_ab.copy()
    # A self-intersecting ring ("bow tie") inside Khartoum's bounding box.
    bow_tie = shapely.Polygon([(32.0, 15.0), (33.0, 16.0), (33.0, 15.0), (32.0, 16.0), (32.0, 15.0)])
    index = broken.index[broken["ADM1_PCODE"] == "SD01"][0]
    broken.loc[index, "geometry"] = bow_tie
    path = tmp_path / "broken.geojson"
    broken.to_file(path)
    info = geo.import_boundaries(path, tmp_path / "store")
    assert any(note.startswith("SD01: Self-intersection") for note in info["repaired"])
    assert geo.boundaries(tmp_path / "store").geometry.is_valid.all()


def test_a_failed_import_keeps_the_installed_boundaries(cod_ab, tmp_path, capsys) -> None:
    store = tmp_path / "store"
    geo.import_boundaries(COD_AB, store)
    before = boundaries_path(store).read_bytes()
    partial = tmp_path / "partial.geojson"
    cod_ab[cod_ab["ADM1_PCODE"].isin(["SD01", "SD02"])].to_file(partial)
    assert cli.main(["geo", "import", str(partial), "--data-dir", str(store)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "only 2 of Sudan's 19 states" in error and str(partial) in error
    assert boundaries_path(store).read_bytes() == before
    foreign = tmp_path / "foreign.geojson"
    cod_ab.assign(ADM1_PCODE=cod_ab["ADM1_PCODE"].str.replace("SD", "SS")).to_file(foreign)
    with pytest.raises(BoundaryError, match="not Sudan admin-1"):
        geo.import_boundaries(foreign, store)


def test_a_file_without_pcodes_is_matched_by_state_names(cod_ab, tmp_path) -> None:
    path = tmp_path / "names.geojson"
    cod_ab[["ADM1_EN", "geometry"]].to_file(path)
    info = geo.import_boundaries(path, tmp_path / "store")
    assert info["pcodes"] == list(STATE_PCODES)
    assert "pcodes matched from state names in column ADM1_EN" in info["notes"]


def test_unreadable_inputs_get_one_line(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        geo.import_boundaries(tmp_path / "absent.geojson", tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not a map")
    with pytest.raises(BoundaryError, match="expected GeoJSON"):
        geo.import_boundaries(text, tmp_path)


# --- CKAN fetch -----------------------------------------------------------------------------------------


def _ckan_package(base: str) -> dict:
    # The shape of HDX's answer: several resources, only one of them admin-1 GeoJSON.
    return {
        "success": True,
        "result": {
            "name": "cod-ab-sdn",
            "resources": [
                {
                    "name": "sdn_adm_cbs_nic_ssa_20200831.xlsx",
                    "format": "XLSX",
                    "url": f"{base}/files/tables.xlsx",
                },
                {
                    "name": "sdn_admbnda_adm0.geojson",
                    "format": "GeoJSON",
                    "url": f"{base}/files/adm0.geojson",
                },
                {
                    "name": "sdn_admbnda_adm1.geojson",
                    "format": "GeoJSON",
                    "url": f"{base}/files/adm1.geojson",
                },
                {
                    "name": "sdn_admbnda_adm2.geojson",
                    "format": "GeoJSON",
                    "url": f"{base}/files/adm2.geojson",
                },
            ],
        },
    }


@pytest.fixture
def ckan_server():
    if not COD_AB.exists():
        pytest.skip(f"{COD_AB} not present")
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/api/3/action/package_show?id=cod-ab-sdn":
                body, kind = json.dumps(_ckan_package(base)).encode(), "application/json"
            elif self.path == "/files/adm1.geojson":
                body, kind = COD_AB.read_bytes(), "application/geo+json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
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


def test_fetch_downloads_the_admin1_resource_through_ckan(ckan_server, tmp_path, capsys) -> None:
    base, requests = ckan_server
    code = cli.main(["geo", "fetch", "--base-url", base, "--timeout", "10", "--data-dir", str(tmp_path)])
    assert code == 0
    assert requests == ["/api/3/action/package_show?id=cod-ab-sdn", "/files/adm1.geojson"]
    info = geo.boundaries_info(tmp_path)
    assert info["source"] == f"{base}/files/adm1.geojson"
    assert info["areas"] == 19
    assert "19 valid" in capsys.readouterr().out


def test_fetch_of_an_unknown_dataset_says_so(ckan_server, tmp_path, capsys) -> None:
    base, _ = ckan_server
    assert (
        cli.main(["geo", "fetch", "--base-url", base, "--dataset", "nope", "--data-dir", str(tmp_path)]) == 2
    )
    assert "HTTP 404" in capsys.readouterr().err
    assert geo.boundaries_info(tmp_path) is None


def test_fetch_offline_is_one_clear_line(tmp_path, capsys) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    assert cli.main(["geo", "fetch", "--base-url", url, "--timeout", "2", "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert f"cannot reach {url}" in captured.err and "flowmon geo import FILE" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert geo.boundaries_info(tmp_path) is None


def test_choose_resource_prefers_admin1_geojson_then_all_level_files() -> None:
    base = "https://example.org"
    assert choose_resource(_ckan_package(base)["result"])["url"].endswith("adm1.geojson")
    shapefiles_only = {
        "resources": [
            {"name": "sdn_adm_cbs_nic_ssa_20200831_SHP.zip", "format": "SHP", "url": f"{base}/a_SHP.zip"},
            {"name": "sdn_adm_cbs_nic_ssa_20200831.xlsx", "format": "XLSX", "url": f"{base}/b.xlsx"},
        ]
    }
    assert choose_resource(shapefiles_only)["format"] == "SHP"
    with pytest.raises(BoundaryError, match="no GeoJSON"):
        choose_resource({"name": "x", "resources": [{"name": "t.xlsx", "format": "XLSX", "url": "t.xlsx"}]})


@pytest.mark.parametrize("where", ["before the action", "after the action"])
def test_data_dir_is_read_before_or_after_the_action(where, installed, capsys) -> None:
    data_dir, _ = installed
    args = ["geo", "--data-dir", str(data_dir), "status"]
    if where == "after the action":
        args = ["geo", "status", "--data-dir", str(data_dir)]
    assert cli.main(args) == 0
    assert f"official boundaries in {boundaries_path(data_dir)}" in capsys.readouterr().out
