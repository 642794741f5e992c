"""What the served benchmarks share: a demo store, ``panel serve`` of the dashboard and of the reference page
on 127.0.0.1, and the server process's memory and CPU time (read from ``/proc``: Linux only).

Each server is a real ``panel serve`` in a process of its own, as ``flowmon serve`` starts it, so its memory
and CPU time are the server's alone; the benchmark's clients run in the benchmark's process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from flowmon import serve, store

DASHBOARD = Path(__file__).with_name("served.py")  # what `flowmon serve` runs
REFERENCE = Path(__file__).with_name("bench_reference.py")
READY_TIMEOUT = 180  # s: imports alone take several seconds on 2 busy cores; the first page reads the store
# Panel's defaults are 15 s and 17 s; the soak passes shorter ones so that a round's closed sessions are
# destroyed before memory is read.
SESSION_OPTIONS = ("--unused-session-lifetime", "--check-unused-sessions")


def ensure_store(
    data_dir: Path | None, events: int, work: Path, seed: int = 2023, until: str = "2026-06"
) -> Path:
    """``data_dir`` when given (it must hold data), else a new demo store of ``events`` events in ``work``."""
    from flowmon import demo

    if data_dir is not None:
        data_dir = Path(data_dir)
        if not store.stored_rows(data_dir, "events"):
            raise ValueError(
                f"{data_dir} holds no events to benchmark; run `flowmon demo --data-dir {data_dir}`"
            )
        return data_dir
    folder = work / f"demo-{events}"
    demo.write_demo(folder, seed=seed, events=events, until=until)
    return folder


@dataclass
class Server:
    """One ``panel serve`` of ``script`` on 127.0.0.1; ``stop()`` ends it (and only it)."""

    script: Path
    data_dir: Path | None
    log: Path
    extra: tuple[str, ...] = ()
    env: dict = field(default_factory=dict)
    port: int = field(default_factory=serve.free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def path(self) -> str:
        return f"/{self.script.stem}"

    @property
    def url(self) -> str:
        return self.base + self.path

    def start(self) -> Server:
        env = {**os.environ, **self.env}
        if self.data_dir is not None:
            env[store.DATA_DIR_ENV] = str(Path(self.data_dir).resolve())
        command = [sys.executable, "-m", "panel", "serve", str(self.script), "--address", "127.0.0.1",
                   "--port", str(self.port), "--allow-websocket-origin", f"127.0.0.1:{self.port}",
                   *self.extra]  # fmt: skip
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        serve.wait_listening(self.port, self.process, f"panel serve {self.script.name}", READY_TIMEOUT)
        return self

    def stop(self) -> None:
        if self.process is not None:
            serve._stop([self.process])

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_s(self) -> float:
        return cpu_seconds(self.pid)

    def count(self, text: str) -> int:
        """Lines of the server's log that contain ``text``."""
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        return sum(text in line for line in log.splitlines())

    def errors(self) -> list[str]:
        """Lines of the server's log that report an error (a traceback, ERROR)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "Traceback" in line or "ERROR" in line]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far, all its threads, s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fetch_page(url: str, headers: dict | None = None, timeout: float = 120) -> tuple[float, str]:
    """GET a page: (seconds until the whole HTML has arrived, the HTML)."""
    start = time.perf_counter()
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read().decode()
    return time.perf_counter() - start, text


def wait_quiet(pid: int, idle_s: float = 0.5, timeout: float = 30) -> None:
    """Until the process has used almost no CPU for ``idle_s`` (pending work of a page or a change done)."""
    deadline = time.monotonic() + timeout
    last = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(idle_s)
        now = cpu_seconds(pid)
        if now - last < 0.05 * idle_s:
            return
        last = now


def percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(values, q)), 1) if values else None
