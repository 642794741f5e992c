"""The dashboard in JupyterLab, headless, every request outside 127.0.0.1 blocked (offline analysts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARTIFACTS, REPO, free_port, wait_for_http

pytestmark = [pytest.mark.ui, pytest.mark.slow]
TOKEN = "flowmon-test-token"
# Known and not yet fixed: Panel's ReactiveESM (parts.ArrowKeys, the presentation player's arrow keys)
# makes a notebook fetch this polyfill from cdn.holoviz.org. Any other outside request fails the test.
KNOWN_OUTSIDE = ("es-module-shims",)

MAP_LABELS = """() => {
  for (const doc of Bokeh.documents) {
    for (const model of doc.all_models) {
      if (model.data && model.data.label && model.data.ink) { return Array.from(model.data.label); }
    }
  }
  return [];
}"""


@pytest.fixture
def lab(demo_dir, tmp_path):
    shutil.which("jupyter") or Path(sys.executable).with_name("jupyter").exists() or pytest.skip("no jupyter")
    folder = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", folder)
    port = free_port()
    env = {**os.environ, "FLOWMON_DATA_DIR": str(demo_dir)}
    log = open(ARTIFACTS / f"jupyterlab-{port}.log", "w")  # noqa: SIM115 (closed below)
    command = [str(Path(sys.executable).with_name("jupyter")), "lab", "--allow-root", "--no-browser",
               "--ip", "127.0.0.1", "--port", str(port), f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={folder}"]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", process, timeout=120)
        yield f"http://127.0.0.1:{port}", folder
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.mark.skipif(
    not os.environ.get("FLOWMON_JUPYTERLAB"),
    reason="opt in with FLOWMON_JUPYTERLAB=1: not yet seen passing (Panel's bundle still names a CDN for "
    "es-module-shims in JupyterLab; issue 14), and it takes minutes",
)
def test_dashboard_runs_in_jupyterlab_offline(lab, page, artifacts):
    base, _ = lab
    outside: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            request_route.continue_()
        else:  # the network is blocked: record what the page wanted from outside
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{base}/lab/tree/dashboard.ipynb?token={TOKEN}", timeout=120_000)
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    # Run All before the kernel is up runs nothing: wait for JupyterLab's kernel status to say Idle.
    page.get_by_text("Kernel status: Idle").first.wait_for(state="attached", timeout=120_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    page.wait_for_selector(".fm-kpi-value", timeout=300_000)
    page.wait_for_function(f"() => ({MAP_LABELS})().length > 0", timeout=120_000)
    before = page.evaluate(MAP_LABELS)
    period = page.locator("select", has=page.locator("option", has_text="2025-Q1")).first
    period.select_option(label="2025-Q1")
    page.wait_for_function(f"(before) => JSON.stringify(({MAP_LABELS})()) !== JSON.stringify(before)",
                           arg=before, timeout=120_000)  # fmt: skip
    page.screenshot(path=artifacts / "jupyterlab-dashboard.png")
    unexpected = [u for u in outside if not any(known in u for known in KNOWN_OUTSIDE)]
    assert not unexpected, unexpected
