"""What the served benchmarks share: a demo store, ``panel serve`` of the dashboard and of the reference page
on 127.0.0.1, and the server process's memory and CPU time (read from ``/proc``: Linux only).

Each server is a real ``panel serve`` in a process of its own, as ``flowmon serve`` starts it, so its memory
and CPU time are the server's alone; the benchmark's clients run in the benchmark's process.
"""

from __future__ import annotations

import os
import re
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
        env = {**os.environ, **serve.SERVER_ENV, **self.env}  # as `flowmon serve` runs it
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

    def sessions_logged(self, event: str) -> int:
        """Sessions the server's log says were ``launching`` or ``destroyed`` (Panel logs at INFO; some
        sessions are logged twice in a row, by two of Panel's hooks, and counted once)."""
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        ids = re.findall(rf"Session (\d+) {event}", log)
        return sum(1 for i, sid in enumerate(ids) if i == 0 or ids[i - 1] != sid)

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


def wait_released(pid: int) -> None:
    """Until sessions just destroyed have been released: ``flowmon.memory`` runs ``DELAY_S`` after the last
    of a batch, so a quiet spell shorter than that can end before it starts."""
    from flowmon.memory import DELAY_S

    wait_quiet(pid, idle_s=DELAY_S + 1.0)


def percentile(values: list[float], q: float) -> float | None:
    import numpy as np

    return round(float(np.percentile(values, q)), 1) if values else None


class Team:
    """``flowmon serve --config``: ``processes`` panel processes behind nginx, sign-in by the users file.

    The data folder is copied into ``work`` (serving writes its configuration, logs and nginx files there).
    Memory and CPU time are the panel processes' together; ``sign_in()`` gives a new browser's cookies.
    """

    USER = "bench"

    def __init__(self, data_dir: Path, processes: int, work: Path):
        import secrets
        import shutil

        from flowmon import users

        self.work = work / "team"
        self.data_dir = self.work / "data"
        shutil.copytree(data_dir, self.data_dir, ignore=shutil.ignore_patterns("config", "logs", "run"))
        self.password = secrets.token_urlsafe(12)
        users.add(self.data_dir, self.USER, self.password)
        self.port = serve.free_port()
        self.config = self.work / "flowmon.toml"
        self.config.write_text(
            f'data_dir = "data"\n[serve]\nhost = "127.0.0.1"\naddress = "127.0.0.1"\nport = {self.port}\n'
            f'processes = {processes}\n[signin]\nmethod = "users"\n'
            f'[roles]\n{self.USER} = {{ role = "admin" }}\n'
        )
        self.log = self.work / "serve.log"
        self.processes = processes
        self.process: subprocess.Popen | None = None

    base = Server.base
    path = "/served"

    def __enter__(self) -> Team:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        env.pop("FLOWMON_CONFIG", None)
        command = [sys.executable, "-m", "flowmon.cli", "serve", "--config", str(self.config)]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while "flowmon: serving" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"flowmon serve --config did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.3)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # flowmon serve stops nginx and its panel processes
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def panels(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(p) for p in children if b"panel" in Path(f"/proc/{p}/cmdline").read_bytes()]

    @property
    def pid(self) -> int:
        return self.panels()[0]

    def rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in self.panels())

    def cpu_s(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.panels())

    def errors(self) -> list[str]:
        return Server.errors(self)

    def sign_in(self) -> dict:
        """A new browser's Cookie header (signed in, with its own nginx route)."""
        import http.client
        import urllib.parse

        form = urllib.parse.urlencode({"username": self.USER, "password": self.password})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        answer = connection.getresponse()
        answer.read()
        cookies = [v.split(";")[0] for k, v in answer.getheaders() if k.lower() == "set-cookie"]
        connection.close()
        if answer.status != 302:
            raise RuntimeError(f"signing in answered {answer.status}")
        return {"Cookie": "; ".join(cookies)}
