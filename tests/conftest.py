"""Shared fixtures: the reference data beside the repository, demo stores, served apps, the browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowmon.export.png import CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
# The demo fixtures end in a fixed month, so no test depends on today's date (test_clock.py checks that).
DEMO_UNTIL = "2026-06"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public reference files in ../shared/data (tests skip cleanly without them)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A complete synthetic store, built once per test session (small, for speed)."""
    from flowmon.demo import write_demo

    folder = tmp_path_factory.mktemp("demo")
    write_demo(folder, seed=7, events=20_000, until=DEMO_UNTIL)
    return folder


@pytest.fixture
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and other things a person should look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    # A page answer may take seconds on a loaded machine: a short read timeout would only abandon it and
    # ask the server to build yet another session.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Served:
    """A real ``panel serve`` of one entry point on 127.0.0.1, in its own process."""

    def __init__(self, target: Path, data_dir: Path, extra_env: dict | None = None, args: tuple = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/{target.stem}"
        self.log = ARTIFACTS / f"serve-{target.stem}-{self.port}.log"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FLOWMON_DATA_DIR": str(data_dir), **(extra_env or {})}
        command = [sys.executable, "-m", "panel", "serve", str(target), "--address", "127.0.0.1"]
        command += ["--port", str(self.port), "--allow-websocket-origin", f"127.0.0.1:{self.port}", *args]
        self._log_file = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, env=env, stdout=self._log_file, stderr=subprocess.STDOUT)
        try:
            wait_for_http(self.url, self.process)
        except Exception:
            self.stop()
            raise RuntimeError(f"serving {target} failed:\n{self.log.read_text()}") from None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log_file.close()


@pytest.fixture(scope="session")
def serve() -> Iterator:
    """Start servers on demand; all are stopped at the end of the session."""
    servers: dict[tuple, Served] = {}

    def start(target: Path, data_dir: Path, *, args: tuple = (), **extra_env) -> Served:
        key = (str(target), str(data_dir), tuple(args), tuple(sorted(extra_env.items())))
        if key not in servers:
            servers[key] = Served(target, data_dir, extra_env, args)
        return servers[key]

    yield start
    for server in servers.values():
        server.stop()


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI installs it: its absence there is a failure, not a skip
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    _require_chromium()
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,  # the flags flowmon's own PNG export starts Chromium with
    }


def pytest_collection_modifyitems(config, items):
    if shutil.which("chromium") or CHROMIUM.exists():
        return
    for item in items:
        if "ui" in item.keywords and not os.environ.get("CI"):
            item.add_marker(pytest.mark.skip(reason=f"no chromium at {CHROMIUM}"))


def published(events, stream: str, data_dir=None, **release) -> int:
    """What flowmon publishes for ``events`` (rows already selected by hand, with pandas): the true count
    and the cell key worked out here, then the perturbation of ``flowmon.privacy.release``."""
    import pandas as pd

    from flowmon import privacy

    count = int(events["count"].sum())
    ckey = int((events["record_key"].astype("int64") * events["count"].astype("int64")).sum() % 256)
    cell = pd.DataFrame({"stream": [stream], "value": [count], "ckey": [ckey]})
    return int(privacy.release(cell, data_dir=data_dir, **release)["value"].iloc[0])
