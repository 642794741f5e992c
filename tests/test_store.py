import json

import pandas as pd
import pytest

import flowmon
from flowmon import recordkeys, schema, store
from flowmon.demo import generate


def test_an_empty_folder_loads_empty_tables_with_the_canonical_columns(data_dir):
    tables = flowmon.load(data_dir)
    assert set(tables) == {"events", "flows", "crossings"}
    for name, frame in tables.items():
        assert frame.empty
        keys = (recordkeys.RECORD_KEY,) if name in store.KEYED else ()
        assert tuple(frame.columns) == (*schema.COLUMNS[name], *keys)
        canonical = frame[list(schema.COLUMNS[name])]
        assert canonical.dtypes.to_dict() == schema.empty(name).dtypes.to_dict()


def test_tables_read_back_unchanged(data_dir):
    tables = generate(seed=3, months=6, events=2_000)
    store.commit(data_dir, tables, [{"path": "x", "sha256": "ab"}])
    back = flowmon.load(data_dir)
    for name in store.KEYED:
        back[name] = back[name].drop(columns=recordkeys.RECORD_KEY)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(back[name], tables[name].reset_index(drop=True))


def test_manifest_records_sources_and_versions(data_dir):
    tables = generate(seed=3, months=3, events=500)
    store.commit(data_dir, {"events": tables["events"]}, [{"path": "a.csv", "sha256": "1"}])
    manifest = store.commit(data_dir, {"flows": tables["flows"]}, [{"path": "b.csv", "sha256": "2"}])
    on_disk = json.loads((data_dir / "manifest.json").read_text())
    assert on_disk == manifest
    assert [s["path"] for s in manifest["sources"]] == ["a.csv", "b.csv"]
    rows = {"events": len(tables["events"]), "flows": len(tables["flows"]), "crossings": 0}
    assert manifest["rows"] == rows
    assert manifest["flowmon_version"] == flowmon.__version__
    assert store.known_sha256(data_dir) == {"1", "2"}


def test_a_failed_write_leaves_the_store_as_it_was(data_dir, monkeypatch):
    tables = generate(seed=3, months=3, events=500)
    store.commit(data_dir, tables, [{"path": "first"}])
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", explode)
    with pytest.raises(OSError, match="disk full"):
        store.commit(data_dir, tables, [{"path": "second"}])
    after = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    assert after == before  # no staging files left behind, nothing replaced


def test_data_dir_comes_from_the_argument_then_the_environment_then_dot_data(monkeypatch, tmp_path):
    monkeypatch.setenv("FLOWMON_DATA_DIR", str(tmp_path / "env"))
    assert store.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert store.resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("FLOWMON_DATA_DIR")
    assert str(store.resolve_data_dir()) == "data"
