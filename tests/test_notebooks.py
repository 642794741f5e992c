"""Both notebooks, executed top to bottom in a real kernel over a synthetic store."""

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


def test_notebooks_are_committed_without_outputs():
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.get("outputs"), f"{path.name} has outputs: they can leak case data"
                assert cell.get("execution_count") is None


def test_notebooks_render_offline():
    for path in NOTEBOOKS:
        assert "inline=True" in path.read_text(), f"{path.name} must call pn.extension(..., inline=True)"
