"""Both notebooks, executed top to bottom in a real kernel over a synthetic store."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, demo_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWMON_DATA_DIR", str(demo_dir))
    # The kernel starts in tmp_path: this checkout's flowmon by an absolute path, whatever PYTHONPATH says.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
    )
    scratch = tmp_path / "tmp"  # the kernel's temporary folder
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    notebook = nbformat.read(path, as_version=4)
    # The kernel starts elsewhere: notebooks must find their data through FLOWMON_DATA_DIR, not the cwd.
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    rendered = [o for o in outputs if "application/vnd.holoviews_load.v0+json" in o.get("data", {})
                or "text/html" in o.get("data", {})]  # fmt: skip
    assert rendered, "the notebook displayed nothing"
    # One copy of the ~3 MB Panel/Bokeh bundle, under one MIME type (it was four copies, ~13 MB).
    sizes = [len(str(value)) for o in outputs for value in o.get("data", {}).values()]
    assert len([size for size in sizes if size > 1_000_000]) == 1, sorted(sizes)[-4:]
    assert len(nbformat.writes(notebook)) < 5_000_000
    assert "cdn.holoviz.org" not in nbformat.writes(notebook)
    # No scratch store left behind: one holds its own record keys.
    assert not list(scratch.glob("flowmon-*"))


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.get("outputs"), f"{path.name} has outputs: they can leak case data"
                assert cell.get("execution_count") is None


def test_notebooks_render_offline():
    for path in NOTEBOOKS:
        source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        assert "flowmon.notebook.extension()" in source, f"{path.name} must call flowmon.notebook.extension()"
        # A second pn.extension or hv.extension would load the bundle again, or from a CDN.
        assert "pn.extension(" not in source and "hv.extension(" not in source, path.name
