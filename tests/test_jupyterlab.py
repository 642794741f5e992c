"""Both notebooks in JupyterLab, headless, every request outside 127.0.0.1 blocked (offline analysts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from conftest import ARTIFACTS, REPO, free_port, wait_for_http
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
pytestmark = [pytest.mark.ui, pytest.mark.slow]
TOKEN = "flowmon-test-token"

# The state map's labels (the one source with words and their ink), wherever the notebook drew it.
MAP_LABELS = """() => {
  for (const doc of (window.Bokeh ? Bokeh.documents : [])) {
    for (const model of doc.all_models) {
      if (model.data && model.data.label && model.data.ink) { return Array.from(model.data.label); }
    }
  }
  return [];
}"""
# The drawn width of the plot holding that source.
MAP_WIDTH = """() => {
  for (const doc of Bokeh.documents) {
    for (const model of doc.all_models) {
      const renderers = model.renderers || [];
      if (renderers.some((r) => r.data_source && r.data_source.data && r.data_source.data.label
                              && r.data_source.data.ink)) { return model.outer_width || 0; }
    }
  }
  return 0;
}"""
# Every cell ran, in order, in one kernel: execution counts n, n+1, ... (a run half in a kernel JupyterLab
# then swapped would leave a later cell with a smaller count).
ALL_CELLS_RAN = """() => {
  const notebook = '.jp-NotebookPanel:not(.lm-mod-hidden)';
  const prompts = [...document.querySelectorAll(`${notebook} .jp-CodeCell .jp-InputPrompt`)];
  const counts = prompts.map((p) => {
    const m = /\\[(\\d+)\\]/.exec(p.textContent);
    return m ? +m[1] : null;
  });
  return counts.length > 0 && counts.every((c, i) => c !== null && (i === 0 || c === counts[i - 1] + 1));
}"""
QUEUED = """() => [...document.querySelectorAll('.jp-InputPrompt')]
  .some((p) => p.textContent.includes('[*]'))"""


@pytest.fixture(scope="module")
def lab(demo_dir, tmp_path_factory):
    """JupyterLab on a copy of notebooks/, with its own settings and workspaces, no news or update check."""
    root = tmp_path_factory.mktemp("jupyterlab")
    folder = root / "notebooks"
    shutil.copytree(REPO / "notebooks", folder)
    port = free_port()
    # The kernel starts in the notebooks' folder: this checkout's flowmon by an absolute path.
    path = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "FLOWMON_DATA_DIR": str(demo_dir), "PYTHONPATH": path,
           "JUPYTER_CONFIG_DIR": str(root / "config")}  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / f"jupyterlab-{port}.log", "w")  # noqa: SIM115 (closed below)
    command = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip", "127.0.0.1",
               "--port", str(port), f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}",
               f"--LabApp.workspaces_dir={root / 'workspaces'}",
               f"--LabApp.user_settings_dir={root / 'settings'}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", process, timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def offline(page):
    """The page with the network cut at 127.0.0.1: the URLs it wanted from anywhere else."""
    outside: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.set_viewport_size({"width": 1600, "height": 1000})
    return page, outside


def run_notebook(page, base: str, name: str) -> None:
    """Open a notebook in a workspace of its own and run all its cells, to the end, without an error."""
    page.goto(f"{base}/lab/workspaces/{name}/tree/{name}.ipynb?token={TOKEN}", timeout=120_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=120_000)
    page.get_by_text("Kernel status: Idle").first.wait_for(state="attached", timeout=120_000)
    # JupyterLab can say Idle before its session takes commands, or drop a queue when it swaps kernels:
    # while no cell is queued and the cells have not all run in order, restart the kernel and run all again.
    deadline = time.monotonic() + 240
    while not page.evaluate(ALL_CELLS_RAN):
        assert time.monotonic() < deadline, f"{name}.ipynb did not run to its end"
        try:
            dialog = page.locator(".jp-Dialog")
            if dialog.count():  # "Select Kernel", at times, though the notebook names its kernel
                dialog.locator(".jp-mod-accept").first.click(timeout=5_000)
            elif not page.evaluate(QUEUED):  # from a fresh kernel: no cell of an earlier, partial run counts
                page.get_by_role("menuitem", name="Kernel", exact=True).click(timeout=5_000)
                page.get_by_text("Restart Kernel and Run All Cells").first.click(timeout=5_000)
        except PlaywrightTimeout:  # a dialog came up meanwhile: dealt with on the next turn
            continue
        page.wait_for_timeout(5_000)
    errors = page.locator(".jp-OutputArea-output", has_text="Traceback")
    assert errors.count() == 0, errors.first.inner_text()


def test_dashboard_notebook_offline_responds_and_keeps_a_readable_map(lab, offline, artifacts):
    page, outside = offline
    missing: list[str] = []
    page.on("response", lambda r: missing.append(f"{r.status} {r.url}") if r.status >= 400 and ".css" in r.url
            else None)  # fmt: skip
    run_notebook(page, lab, "dashboard")
    page.wait_for_function(f"() => ({MAP_LABELS})().length > 0", timeout=120_000)
    before = page.evaluate(MAP_LABELS)
    # Readable at the notebook's width: the map is not squeezed into a column beside the figures.
    assert page.evaluate(MAP_WIDTH) >= 600
    assert not outside, outside  # the whole first render came from the notebook and 127.0.0.1
    period = page.locator("select", has=page.locator("option", has_text="2025-Q1")).first
    period.select_option(label="2025-Q1")
    page.wait_for_function(f"(before) => JSON.stringify(({MAP_LABELS})()) !== JSON.stringify(before)",
                           arg=before, timeout=120_000)  # fmt: skip
    page.wait_for_timeout(2_000)  # the stylesheets of the models the update made
    page.screenshot(path=artifacts / "jupyterlab-dashboard.png")
    # Models Panel makes on an update link their stylesheets from the Jupyter server, and they are there; a
    # pane's update carries its stylesheets inline. Nothing leaves the machine.
    assert not outside, outside
    assert not missing, missing


def test_explore_notebook_runs_offline(lab, offline, artifacts):
    page, outside = offline
    run_notebook(page, lab, "explore")
    page.wait_for_function(f"() => ({MAP_LABELS})().length > 0", timeout=120_000)
    assert page.locator(".fm-kpi-value").count() > 0  # the dashboard at its end
    page.screenshot(path=artifacts / "jupyterlab-explore.png")
    assert not outside, outside
