"""``flowmon`` as a user types it: one clear line for each serving mistake, the subcommand's usage for a bad
flag, readable help, a missing folder or file named, and SIGTERM stopping the server process too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import free_port

from flowmon import nginx


def flowmon(*args, timeout=120):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("FLOWMON_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "flowmon.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def one_line(result, starts: str) -> None:
    assert result.returncode == 2, result
    assert result.stderr.startswith(starts), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "serving" not in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["--port", "99999"], "flowmon serve: port 99999 is not a port number (1-65535)"),
        (["--port", "0"], "flowmon serve: port 0 is not a port number"),
        (
            ["--address", "no-such-host.invalid"],
            "flowmon serve: address 'no-such-host.invalid' is not an address",
        ),
        (["--address", "192.0.2.1"], "flowmon serve: cannot listen on 192.0.2.1:"),
    ],
)
def test_serve_mistakes_are_one_line_before_anything_starts(demo_dir, args, starts):
    one_line(flowmon("serve", "--data-dir", str(demo_dir), *args), starts)


def test_a_port_in_use_is_named_and_nothing_says_serving(demo_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = flowmon("serve", "--data-dir", str(demo_dir), "--address", "127.0.0.1", "--port", str(port))
    one_line(result, f"flowmon serve: port {port} on 127.0.0.1 is already in use")


def test_an_empty_data_folder_is_one_line(tmp_path):
    one_line(
        flowmon("serve", "--data-dir", str(tmp_path), "--port", str(free_port())),
        f"flowmon serve: {tmp_path}",
    )


def test_a_bad_flag_shows_the_subcommand_usage():
    result = flowmon("serve", "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: flowmon serve ")
    assert result.stderr.rstrip().endswith("flowmon serve: error: unrecognized arguments: --bogus")
    nested = flowmon("users", "add", "amina", "--bogus")
    assert nested.stderr.startswith("usage: flowmon users add ")


@pytest.mark.parametrize(
    "command", [["bench"], ["geo"], ["geo", "import"], ["geo", "fetch"], ["geo", "status"]]
)
def test_help_reads_as_sentences_without_markup(command):
    result = flowmon(*command, "--help")
    assert result.returncode == 0
    text = result.stdout
    assert "``" not in text and "TOLERANCE" not in text and "REPEAT" not in text
    description = text.split("\n\n")[1]
    assert description[0].isupper() and description.rstrip().endswith(".")


def test_a_missing_ingest_file_is_the_only_line(demo_dir):
    result = flowmon("ingest", "caseload", "/no/such/file.csv", "--data-dir", str(demo_dir))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "flowmon ingest: /no/such/file.csv: no such file\n"


def test_export_into_a_missing_folder_is_refused_not_created(demo_dir, tmp_path):
    target = tmp_path / "typo" / "view.csv"
    result = flowmon("export", "csv", "--data-dir", str(demo_dir), "--out", str(target))
    one_line(result, f"flowmon export: {tmp_path / 'typo'}: no such folder")
    assert not (tmp_path / "typo").exists()


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(child) for child in found.stdout.split()]


@pytest.mark.slow
def test_sigterm_to_flowmon_serve_stops_its_panel_process(demo_dir):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "flowmon.cli", "serve", "--data-dir", str(demo_dir), "--address", "127.0.0.1",
         "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout.readline().startswith(f"flowmon: serving {demo_dir} on http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while not (children := _children(process.pid)):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        time.sleep(0.5)
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
    finally:
        if process.poll() is None:
            process.kill()


def test_the_generated_nginx_configuration_is_accepted_by_nginx(tmp_path):
    try:
        binary = nginx.find_nginx()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))
    runtime = tmp_path / "run"
    text = nginx.render(runtime, "127.0.0.1", free_port(), [free_port(), free_port()], "flowmon.example.org")
    nginx.check(binary, nginx.write_config(runtime, text))
    assert "hash $flowmon_route consistent" in text and "ws://flowmon.example.org:" in text
    broken = nginx.write_config(runtime, text.replace("upstream flowmon {", "upstream flowmon {{"))
    with pytest.raises(ValueError, match="nginx refuses"):
        nginx.check(binary, broken)
