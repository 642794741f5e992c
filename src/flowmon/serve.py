"""``flowmon serve``: the dashboard over a data folder, through ``panel serve``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from flowmon import schema, store

SERVED_SCRIPT = Path(__file__).with_name("served.py")


def panel_serve_command(port: int, address: str, show: bool = False) -> list[str]:
    command = [sys.executable, "-m", "panel", "serve", str(SERVED_SCRIPT), "--port", str(port)]
    command += ["--address", address]
    for host in dict.fromkeys((address, "localhost", "127.0.0.1")):
        command += ["--allow-websocket-origin", f"{host}:{port}"]
    # Panel answers at /served by default; make the dashboard the root page too.
    command += ["--index", "served"]
    return [*command, "--show"] if show else command


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "serve", parents=[common], help="serve the dashboard", description="Serve the dashboard with panel."
    )
    parser.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    parser.add_argument("--address", default="localhost", help="address to listen on (default localhost)")
    parser.add_argument("--present", action="store_true", help="open in presentation mode")
    parser.add_argument("--show", action="store_true", help="open a browser")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir = store.resolve_data_dir(args.data_dir)
    if not any(store.stored_rows(data_dir, table) for table in schema.TABLES):
        print(
            f"flowmon serve: {data_dir} holds no data; run `flowmon demo --data-dir {data_dir}` or "
            f"`flowmon ingest ...` first",
            file=sys.stderr,
        )
        return 2
    env = {**os.environ, store.DATA_DIR_ENV: str(data_dir.resolve())}
    if args.present:
        env["FLOWMON_PRESENT"] = "1"
    print(f"flowmon: serving {data_dir} on http://{args.address}:{args.port}", flush=True)
    try:
        return subprocess.call(panel_serve_command(args.port, args.address, args.show), env=env)
    except KeyboardInterrupt:
        return 0
