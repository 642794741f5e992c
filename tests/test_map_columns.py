"""The live map draws and rewrites its layers from column functions (``flowmon.mapview``); a notebook's
static map draws HoloViews elements (``flowmon.views.map``). Those functions must give exactly what the
elements hold, and a changed live map must hold exactly what a map drawn afresh for the same filters holds."""

import shutil

import holoviews as hv
import numpy as np
import pytest
from bokeh.document import Document

from flowmon import geo
from flowmon.datastore import DataStore, open_dataset
from flowmon.mapview import FLOW_LAYERS, MapView
from flowmon.views import crossing_map
from flowmon.views import map as maps

hv.extension("bokeh")

# A walk through the views whose maps draw something over the states, and the layers that must have rows.
STEPS = [
    ({}, ()),
    ({"indicator": "return"}, ("return",)),
    ({"indicator": "displacement_out"}, ("flow",)),
    ({"indicator": "displacement_in", "office": "KSL"}, ("flow",)),
    (
        {"office": "", "stream": ["caseload", "return", "crossing"], "indicator": "return"},
        ("return", "crossing"),
    ),
    ({"indicator": "crossing", "direction": "in"}, ("crossing",)),
    ({"direction": "", "point": "ARG"}, ("crossing",)),
    ({"point": "", "stream": ["crossing"]}, ("crossing",)),
    ({"stream": [], "indicator": "caseload"}, ()),
]


@pytest.fixture(scope="module")
def official_dir(demo_dir, shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("map-columns") / "data"
    shutil.copytree(demo_dir, folder)
    geo.import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", folder)
    return folder


@pytest.fixture(params=["tiles", "official"])
def geometry_dir(request, demo_dir):
    if request.param == "tiles":
        return "tiles", demo_dir
    return "official", request.getfixturevalue("official_dir")


def element_columns(element: hv.Element) -> dict:
    """The columns HoloViews puts in an element's Bokeh source (dimension names as keys)."""
    frame = element.dframe()
    return {str(c): frame[c].to_numpy() for c in frame.columns}


def same(a, b, *, close: bool = False) -> bool:
    """Equal values (NaN equal to NaN), arrays or lists alike, nested too (polygon rings). ``close``: numbers
    within a few units of the last place (an arrowhead's angle passes HoloViews' degrees and back)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and all(
            same(a[k], b[k], close=close) for k in a
        )  # fmt: skip
    if all(isinstance(v, np.ndarray) and v.dtype.kind in "fiu" for v in (a, b)):
        if a.shape != b.shape:
            return False
        if close:
            return bool(np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True))
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == b.dtype.kind == "f"))
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        return len(a) == len(b) and all(same(x, y, close=close) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        if np.isnan(a) and np.isnan(b):
            return True
        if close:
            return abs(a - b) <= 1e-12 * max(1.0, abs(b))
    return a == b


def assert_same_columns(got: dict, expected: dict, where: str) -> None:
    assert list(got) == list(expected), where
    for name, values in expected.items():
        assert got[name].dtype == values.dtype, (where, name)
        assert same(got[name], values), (where, name, got[name], values)


def drawn_map(data_dir, geometry: str, *, present: bool = False, **filters) -> MapView:
    store = DataStore(open_dataset(data_dir))
    store.param.update(**filters)
    view = MapView(store, geometry=geometry, present=present)
    view.__panel__().get_root(Document())
    return view


def layer_elements(map_: MapView, name: str, view) -> list:
    """The HoloViews elements a notebook draws for the live map's layers of ``name`` (``FLOW_LAYERS``)."""
    if name == "flow":
        return list(maps.flow_lines(map_._displacement(view), map_._points, scale=map_._scale))
    if name == "return":
        return list(maps.return_arrows(map_._returns(view), map_._points, map_.store.dataset.countries,
                                       scale=map_._scale, **map_._return_placement()))  # fmt: skip
    return list(crossing_map.layers(view, schematic=map_.geometry == "tiles", scale=map_._scale))


@pytest.mark.parametrize("present", [False, True])
def test_column_functions_give_exactly_what_the_drawn_elements_hold(geometry_dir, present):
    geometry, data_dir = geometry_dir
    map_ = MapView(DataStore(open_dataset(data_dir)), geometry=geometry, present=present)
    for step, with_rows in STEPS:
        map_.store.param.update(**step)
        view = map_.store.view
        for name in FLOW_LAYERS:
            elements = layer_elements(map_, name, view)
            layers = map_._layer_columns(name, view)
            assert len(layers) == len(elements), (step, name)
            for i, (columns, element) in enumerate(zip(layers, elements, strict=True)):
                assert_same_columns(columns, element_columns(element), f"{geometry} {step} {name}{i}")
        drawn = {name for name in FLOW_LAYERS
                 if any(len(c[next(iter(c))]) for c in map_._layer_columns(name, view))}  # fmt: skip
        assert drawn == set(with_rows), step  # the walk does draw what it is meant to check


def sources(map_: MapView) -> dict:
    return {name: dict(renderer.data_source.data) for name, renderer in sorted(map_._figure.layers.items())}


@pytest.mark.parametrize("present", [False, True])
def test_a_changed_map_holds_what_a_map_drawn_for_the_same_filters_holds(geometry_dir, present):
    geometry, data_dir = geometry_dir
    changed = drawn_map(data_dir, geometry, present=present)
    for step, _ in STEPS:
        changed.store.param.update(**step)
        filters = {name: getattr(changed.store, name) for name in DataStore.FILTERS}
        fresh = drawn_map(data_dir, geometry, present=present, **filters)
        got, expected = sources(changed), sources(fresh)
        assert set(expected) == set(got), step
        for name in expected:
            assert same(got[name], expected[name], close=True), (geometry, step, name)
        assert changed._key.object == fresh._key.object, step


@pytest.mark.parametrize(("present", "size"), [(False, (900, 540)), (True, (695, 485)), (True, (1100, 600))])
def test_country_labels_stand_clear_of_office_markers(official_dir, present, size):
    import shapely

    map_ = drawn_map(official_dir, "official", present=present, indicator="return", period="2024")
    map_._fit(*size)
    unit_px = map_._unit_px()
    text = map_._layer_columns("return", map_.store.view)[-1]
    assert len(text["text"]) >= 3  # the walk does place country labels
    markers = map_._markers()
    drawn = shapely.union_all(
        [shapely.Point(m.x, m.y).buffer((m.r - 2) / unit_px) for m in markers.itertuples()]
    )
    for x, y, words in zip(text["x"], text["y"], text["text"], strict=True):
        half_w, half_h = maps.country_label_half_size(words.split("\n")[0], map_._scale, unit_px)
        box = maps._box(x, y, 2 * half_w, 2 * half_h)
        assert not box.intersects(drawn), (words, size)
