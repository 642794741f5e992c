"""``flowmon serve``: the dashboard over a data folder, through ``panel serve``.

Without a serving configuration: one panel process, anonymous, as flowmon always served (a laptop, a trusted
machine). With one (``--config FILE``, ``$FLOWMON_CONFIG`` or the data folder's ``config/flowmon.toml``, see
flowmon.config): sign-in, roles, and ``processes`` panel processes on local ports behind nginx, which adds the
security headers and keeps each browser on one process. Either way this command stays in the foreground and
SIGTERM or Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from pathlib import Path

from flowmon import auth, config, nginx, schema, store

SERVED_SCRIPT = Path(__file__).with_name("served.py")
# A session whose page was closed is destroyed after 5 minutes (checked every 30 s), not Bokeh's 15: a server
# that runs for weeks returns a closed page's memory soon (see `flowmon bench --soak`).
SESSION_EXPIRY = ["--unused-session-lifetime", "300000", "--check-unused-sessions", "30000"]
READY_TIMEOUT = 120  # seconds for a panel process to listen (2 busy cores: imports alone take several)
# The server's Python allocates through glibc's malloc, not its own small-object arenas: a closed session's
# memory then goes back to the system (``flowmon.memory`` asks glibc after sessions close), while pymalloc's
# arenas kept what the busiest hour needed for good. Measured (`flowmon bench --soak`, 1M events, 200
# sessions): 538 MB kept with pymalloc, 433 MB with malloc; about 7% more CPU per filter change.
SERVER_ENV = {"PYTHONMALLOC": os.environ.get("PYTHONMALLOC", "malloc")}


def panel_serve_command(
    port: int,
    address: str,
    show: bool = False,
    origins: list[str] | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    command = [sys.executable, "-m", "panel", "serve", str(SERVED_SCRIPT), "--port", str(port)]
    command += ["--address", address]
    if origins is None:
        origins = [f"{host}:{port}" for host in dict.fromkeys((address, "localhost", "127.0.0.1"))]
    for origin in origins:
        command += ["--allow-websocket-origin", origin]
    # Panel answers at /served by default; make the dashboard the root page too.
    command += ["--index", "served", *SESSION_EXPIRY, *(extra or [])]
    return [*command, "--show"] if show else command


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "serve", parents=[common], help="serve the dashboard",
        description="Serve the dashboard with panel: one anonymous process, or, with a serving configuration "
        "(--config, $FLOWMON_CONFIG or DATA_DIR/config/flowmon.toml), sign-in, roles and several processes "
        "behind nginx.",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=_integer, default=None, help="port (default 5006, or the configuration's)"
    )
    parser.add_argument("--address", default=None, help="address to listen on (default localhost)")
    parser.add_argument("--config", metavar="FILE", default=None, help="the serving configuration (TOML)")
    parser.add_argument("--present", action="store_true", help="open in presentation mode")
    parser.add_argument(
        "--processes", type=_integer, default=None, metavar="N",
        help="panel processes behind nginx (default 1, or the configuration's `processes`)",
    )  # fmt: skip
    parser.add_argument("--show", action="store_true", help="open a browser")
    parser.set_defaults(func=run)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None


def check_port(port: int) -> None:
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not a port number (1-65535)")


def check_listen(address: str, port: int) -> None:
    """Raise ValueError in one line when ``address:port`` cannot be listened on (before saying "serving")."""
    check_port(port)
    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise ValueError(f"address {address!r} is not an address or a known host name") from None
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as tornado does: TIME_WAIT is no obstacle
        try:
            probe.bind(sockaddr)
        except PermissionError:
            raise ValueError(
                f"port {port} needs administrator rights (ports below 1024); choose another"
            ) from None
        except OSError as error:
            if error.errno == 98:  # EADDRINUSE
                raise ValueError(
                    f"port {port} on {address} is already in use; choose another with --port"
                ) from None
            raise ValueError(f"cannot listen on {address}:{port}: {error.strerror}") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(
    port: int,
    process: subprocess.Popen,
    what: str,
    timeout: float = READY_TIMEOUT,
    address: str = "127.0.0.1",
) -> None:
    if address in ("0.0.0.0", "::", ""):
        address = "127.0.0.1"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {process.returncode} before listening on port {port}"
            )
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")


class _Stop(Exception):
    """SIGTERM (or SIGHUP) arrived: stop the servers and leave."""


def _on_signal(signum, frame):
    raise _Stop(signal.Signals(signum).name)


def _stop(processes: list[subprocess.Popen], timeout: float = 10) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(args: argparse.Namespace) -> int:
    settings = config.load_for(args.data_dir, args.config)
    data_dir = settings.data_dir if settings else store.resolve_data_dir(args.data_dir)
    if settings is None:
        port, address = 5006 if args.port is None else args.port, args.address or "localhost"
    else:
        port = settings.port if args.port is None else args.port
        address = args.address or settings.address
    check_listen(address, port)
    if not any(store.stored_rows(data_dir, table) for table in schema.TABLES):
        hint = f"run `flowmon demo --data-dir {data_dir}` or `flowmon ingest ...` first"
        raise ValueError(f"{data_dir} holds no data; {hint}")
    env = {**os.environ, **SERVER_ENV, store.DATA_DIR_ENV: str(data_dir.resolve())}
    if args.present:
        env["FLOWMON_PRESENT"] = "1"
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if settings is None and _processes(args.processes, 1) > 1:
            # Several processes are separate single-process panel servers behind nginx, as for a team
            # (anonymous here): Panel's own --num-procs pages asked cdn.holoviz.org for Panel's stylesheets
            # after a few sessions, which an office without internet cannot reach.
            settings = config.ServeConfig(source=None, data_dir=data_dir, address=address, port=port)
        if settings is None:
            return _serve_one(args, data_dir, env, port, address)
        return _serve_team(args, settings, env, port, address)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_one(args, data_dir: Path, env: dict, port: int, address: str) -> int:
    process = subprocess.Popen(panel_serve_command(port, address, args.show), env=env)
    print(f"flowmon: serving {data_dir} on http://{address}:{port}", flush=True)
    try:
        return process.wait()
    except (KeyboardInterrupt, _Stop):
        _stop([process])
        return 0
    finally:
        _stop([process])


def _processes(given: int | None, default: int) -> int:
    if given is not None and given < 1:
        raise ValueError(f"--processes {given}: at least 1")
    return default if given is None else given


def _serve_team(args, settings: config.ServeConfig, env: dict, port: int, address: str) -> int:
    host = settings.host or (address if address not in ("0.0.0.0", "::") else None)
    nginx_path = nginx.find_nginx()
    signin_args, signin_env = auth.panel_arguments(settings)  # OIDC: the issuer must answer now
    env.update(signin_env)
    if settings.source is not None:
        env[config.CONFIG_ENV] = str(settings.source.resolve())
    public = f"{host or 'localhost'}:{port}"
    origins = [public] if port not in (80, 443) else [public, f"{host or 'localhost'}:80"]
    if settings.public_url:
        origins.append(settings.public_url.split("://", 1)[1])
    extra = [*signin_args, "--use-xheaders"]
    backends = [free_port() for _ in range(_processes(args.processes, settings.processes))]
    runtime = settings.data_dir / "run" / "nginx"
    conf = nginx.write_config(
        runtime, nginx.render(runtime.resolve(), address, port, backends, host, settings.tls)
    )
    nginx.check(nginx_path, conf)

    def start_panel(backend: int) -> subprocess.Popen:
        command = panel_serve_command(backend, "127.0.0.1", origins=list(dict.fromkeys(origins)), extra=extra)
        return subprocess.Popen(command, env=env)

    panels: dict[int, subprocess.Popen] = {}
    proxy = None
    try:
        panels = {backend: start_panel(backend) for backend in backends}
        for backend, process in panels.items():
            wait_listening(backend, process, f"panel process {backend}")
        proxy = nginx.start(nginx_path, conf)
        wait_listening(port, proxy, "nginx", timeout=20, address=address)
        signin = settings.signin.method if settings.signin else "none (anonymous)"
        print(f"flowmon: serving {settings.data_dir} on {settings.url} ({len(panels)} panel processes "
              f"behind nginx; sign-in: {signin})", flush=True)  # fmt: skip
        if args.show:
            webbrowser.open(settings.url)
        while True:
            time.sleep(0.5)
            if proxy.poll() is not None:
                print(
                    f"flowmon serve: nginx stopped (exit code {proxy.returncode}); stopping", file=sys.stderr
                )
                return 1
            for backend, process in list(panels.items()):
                if process.poll() is not None:
                    # Its sessions are gone; nginx already sends those browsers to a live process.
                    code = process.returncode
                    print(f"flowmon serve: panel process on port {backend} exited (code {code}); starting it "
                          "again", file=sys.stderr, flush=True)  # fmt: skip
                    panels[backend] = start_panel(backend)
    except (KeyboardInterrupt, _Stop):
        return 0
    finally:
        _stop([p for p in (proxy, *panels.values()) if p is not None])
