"""Serving a team for real: ``flowmon serve --config`` with nginx in front of two panel processes, sign-in
with the users file and with OpenID Connect (a local provider), roles, headers, origins, a process killed,
SIGTERM.

Everything runs on 127.0.0.1: panel, nginx (Debian's), oidc-provider-mock and Chromium.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from conftest import ARTIFACTS, free_port

from flowmon import access_log, auth, config, nginx, users

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"
OUR_FAULTS = re.compile(r"Refused to|Content Security Policy|Uncaught|TypeError|ReferenceError")


def _require_nginx() -> None:
    try:
        nginx.find_nginx()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))


class Team:
    """``flowmon serve --config FILE`` in its own process, stopped with SIGTERM."""

    def __init__(self, config_path: Path, port: int, name: str):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = ARTIFACTS / f"team-{name}-{port}.log"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        env.pop("FLOWMON_CONFIG", None)
        command = [sys.executable, "-m", "flowmon.cli", "serve", "--config", str(config_path)]
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while "flowmon: serving" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"flowmon serve did not start:\n{self.log.read_text()}")
            time.sleep(0.3)

    def children(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in found.stdout.split()]

    def panel_children(self) -> list[int]:
        return [pid for pid in self.children() if b"panel" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


def request(base: str, method: str, path: str, headers: dict | None = None, body: str | None = None):
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read().decode("utf-8", "replace")


def sign_in(base: str, name: str, password: str = PASSWORD) -> str:
    """The Cookie header of a user signed in through the login form (no browser)."""
    form = urllib.parse.urlencode({"username": name, "password": password})
    answer, _ = request(base, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"}, form)
    cookies = [value.split(";")[0] for key, value in answer.getheaders() if key.lower() == "set-cookie"]
    assert answer.status == 302 and answer.getheader("Location") == "/", (answer.status, cookies)
    return "; ".join(cookies)


def data_folder(root: Path, demo_dir: Path) -> Path:
    folder = root / "data"
    shutil.copytree(demo_dir, folder, ignore=shutil.ignore_patterns("config", "logs", "run"))
    return folder


@pytest.fixture(scope="module")
def team(tmp_path_factory, demo_dir):
    _require_nginx()
    root = tmp_path_factory.mktemp("team")
    data = data_folder(root, demo_dir)
    for name in ("amina", "lead", "norole"):
        users.add(data, name, PASSWORD)
    port = free_port()
    path = root / "flowmon.toml"
    path.write_text(f"""data_dir = "data"
[serve]
host = "127.0.0.1"
address = "127.0.0.1"
port = {port}
processes = 2
[signin]
method = "users"
[roles]
amina = {{ role = "viewer", offices = ["KSL"] }}
lead = {{ role = "admin" }}
""")
    server = Team(path, port, "users")
    server.data = data
    yield server
    server.stop()


# --- without a browser ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/", "/served", "/?office=KRT", "/served/autoload.js?bokeh-autoload-element=x"]
)
def test_nothing_is_served_before_sign_in(team, path):
    answer, body = request(team.base, "GET", path)
    assert answer.status == 302
    assert re.match(r"\.?/login\?next=", answer.getheader("Location"))
    assert "KSL" not in body and "Kassala" not in body


def test_the_websocket_refuses_anyone_not_signed_in(team):
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
    answer, _ = request(team.base, "GET", "/served/ws", upgrade)
    assert answer.status == 403


def test_the_login_page_is_our_own_offline_page_with_security_headers(team):
    answer, body = request(team.base, "GET", "/login")
    assert answer.status == 200
    assert 'name="password"' in body and "flowmon" in body
    assert not re.search(r"(src|href)=\"https?://", body)  # nothing from a CDN
    assert answer.getheader("X-Frame-Options") == "DENY"
    assert answer.getheader("X-Content-Type-Options") == "nosniff"
    assert answer.getheader("Referrer-Policy") == "no-referrer"
    csp = answer.getheader("Content-Security-Policy")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert answer.getheader("Server") == "nginx"  # no version


def test_a_reflected_error_message_is_escaped(team):
    _, body = request(team.base, "GET", "/login?error=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert "<img src=x" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_another_host_name_is_refused(team):
    answer, _ = request(team.base, "GET", "/login", {"Host": "evil.example"})
    assert answer.status == 421


def test_a_forged_or_removed_user_gets_nothing(team):
    forged = 'user="2|1:0|10:1796167515|4:user|8:bGVhZA==|00000000"'
    answer, _ = request(team.base, "GET", "/served", {"Cookie": forged})
    assert answer.status == 302
    users.add(team.data, "leaver", PASSWORD)
    cookie = sign_in(team.base, "leaver")
    users.remove(team.data, "leaver")
    answer, _ = request(team.base, "GET", "/served", {"Cookie": cookie})
    assert answer.status == 302


def test_a_wrong_password_signs_nobody_in(team):
    form = urllib.parse.urlencode({"username": "amina", "password": "not the password"})
    answer, _ = request(
        team.base, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"}, form
    )
    assert answer.status == 302 and "error=" in answer.getheader("Location")
    assert not any(v.startswith("user=") for k, v in answer.getheaders() if k.lower() == "set-cookie")


def _websocket(base: str, path: str, cookie: str, origin: str, token: str):
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    async def connect():
        url = base.replace("http", "ws") + path
        try:
            connection = await websocket_connect(
                HTTPRequest(url, headers={"Cookie": cookie, "Origin": origin}), subprotocols=["bokeh", token]
            )
        except HTTPClientError as error:
            return error.code
        message = await connection.read_message()
        connection.close()
        return 101 if message else None

    # In a thread of its own: pytest-playwright may hold this thread's event loop (asyncio.run refuses it).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, connect()).result()


def test_the_websocket_origin_is_the_configured_host_only(team):
    cookie = sign_in(team.base, "lead")
    answer, page = request(team.base, "GET", "/served", {"Cookie": cookie})
    assert answer.status == 200
    token = re.search(r'"token":"([^"]+)"', page).group(1)
    assert _websocket(team.base, "/served/ws", cookie, "http://evil.example", token) == 403
    assert _websocket(team.base, "/served/ws", cookie, team.base, token) == 101


def test_a_signed_in_user_without_a_role_gets_a_refusal_only(team):
    cookie = sign_in(team.base, "norole")
    answer, page = request(team.base, "GET", "/served", {"Cookie": cookie})
    assert answer.status == 403
    assert "&#39;norole&#39; is not authorized" in page and "Sign out" in page
    assert "Kassala" not in page and "token" not in page


def test_a_killed_process_loses_nothing_and_is_started_again(team):
    panels = team.panel_children()
    assert len(panels) == 2
    os.kill(panels[0], signal.SIGKILL)
    # Every browser (route cookie) still gets its pages: nginx sends the dead process's users to the live one.
    for route in range(8):
        answer, _ = request(team.base, "GET", "/login", {"Cookie": f"flowmon_route=r{route}"})
        assert answer.status == 200
    deadline = time.monotonic() + 60
    while len(team.panel_children()) < 2 or panels[0] in team.panel_children():
        assert time.monotonic() < deadline, team.log.read_text()
        time.sleep(0.5)
    assert "exited (code -9); starting it again" in team.log.read_text()


# --- in Chromium --------------------------------------------------------------------------------------
def _watch(page, base: str) -> dict:
    seen = {"console": [], "outside": [], "failed": []}
    page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: None if r.url.startswith((base, "blob:", "data:")) else seen["outside"].append(r.url),
    )
    page.on("response", lambda r: seen["failed"].append(r.url) if r.status >= 400 else None)
    return seen


def _dashboard_ready(page) -> None:
    page.wait_for_function(
        "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle", timeout=90_000
    )


@pytest.mark.ui
def test_a_kassala_viewer_signs_in_sees_kassala_and_signs_out(team, page, artifacts):
    seen = _watch(page, team.base)
    page.goto(f"{team.base}/?office=KRT&stream=caseload")
    assert "/login" in page.url
    page.fill("#username", "amina")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.locator("#error-message").inner_text() == "Invalid username or password!"
    page.fill("#username", "amina")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    _dashboard_ready(page)
    page.wait_for_function("() => window.location.search.includes('office=KSL')", timeout=30_000)
    assert "KRT" not in page.url
    page.screenshot(path=artifacts / "team-viewer-kassala.png")
    title = page.get_by_text("Kassala office").first
    assert title.is_visible()
    assert not seen["outside"], seen["outside"]
    assert not [m for m in seen["console"] if OUR_FAULTS.search(m)], seen["console"]
    assert not seen["failed"], seen["failed"]
    lines = [e for e in access_log.read(team.data) if e["user"] == "amina"]
    assert lines and all(e["role"] == "viewer" and e["filters"].get("office") == "KSL" for e in lines)
    assert not any(k in json.dumps(lines) for k in ("value", "count", "suppressed"))

    page.goto(f"{team.base}/logout")
    assert page.locator("h1").inner_text() == "Signed out"
    page.goto(f"{team.base}/")
    assert "/login" in page.url


# --- pn.state.user, for both sign-in methods ---------------------------------------------------------
PROBE = """
import panel as pn
from flowmon import access
pn.pane.HTML(f"<p id='probe'>user={pn.state.user} scope={access.current_scope().user}</p>").servable()
"""


class Probe:
    """A tiny app served by ``panel serve`` with exactly the sign-in arguments flowmon serve passes."""

    def __init__(self, root: Path, settings: config.ServeConfig, port: int):
        script = root / "probe.py"
        script.write_text(PROBE)
        args, env = auth.panel_arguments(settings)
        self.base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "panel", "serve", str(script), "--address", "127.0.0.1", "--port",
                   str(port), "--allow-websocket-origin", f"127.0.0.1:{port}", *args]  # fmt: skip
        full_env = {**os.environ, **env, "FLOWMON_DATA_DIR": str(settings.data_dir),
                    "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
        if settings.source:
            full_env["FLOWMON_CONFIG"] = str(settings.source)
        self.log = open(ARTIFACTS / f"probe-{port}.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, env=full_env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                request(self.base, "GET", "/login")
                break
            except OSError:
                assert self.process.poll() is None and time.monotonic() < deadline, "probe did not start"
                time.sleep(0.3)

    def stop(self):
        self.process.terminate()
        self.process.wait(20)
        self.log.close()


@pytest.fixture(scope="module")
def oidc_provider():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-W", "ignore", "-m", "oidc_provider_mock", "-p", str(port),
         "--user-claims", json.dumps({"sub": "lead", "email": "lead@iom.int"}),
         "--user-claims", json.dumps({"sub": "kassala", "email": "kassala@iom.int"})],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            auth.discover(issuer, timeout=2)
            break
        except ConnectionError:
            assert process.poll() is None and time.monotonic() < deadline, "oidc-provider-mock did not start"
            time.sleep(0.3)
    yield issuer
    process.terminate()
    process.wait(10)


def _oidc_config(root: Path, issuer: str, port: int, processes: int = 1) -> Path:
    path = root / "flowmon.toml"
    path.write_text(f"""data_dir = "data"
[serve]
host = "127.0.0.1"
address = "127.0.0.1"
port = {port}
processes = {processes}
[signin]
method = "oidc"
issuer = "{issuer}"
client_id = "flowmon"
client_secret = "test secret"
[roles]
"lead@iom.int" = {{ role = "admin" }}
"kassala@iom.int" = {{ role = "viewer", offices = ["KSL"] }}
""")
    return path


@pytest.mark.ui
def test_pn_state_user_is_the_user_signed_in_with_the_users_file(tmp_path, demo_dir, page):
    data = data_folder(tmp_path, demo_dir)
    users.add(data, "amina", PASSWORD)
    (tmp_path / "flowmon.toml").write_text('data_dir = "data"\n[signin]\nmethod = "users"\n[roles]\n'
                                           'amina = { role = "viewer", offices = ["KSL"] }\n')  # fmt: skip
    probe = Probe(tmp_path, config.load(tmp_path / "flowmon.toml"), free_port())
    try:
        page.goto(f"{probe.base}/probe")
        page.fill("#username", "amina")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#probe", timeout=60_000)
        assert page.locator("#probe").inner_text() == "user=amina scope=amina"
    finally:
        probe.stop()


@pytest.mark.ui
def test_pn_state_user_is_the_user_signed_in_with_openid_connect(tmp_path, demo_dir, oidc_provider, page):
    data_folder(tmp_path, demo_dir)
    port = free_port()
    probe = Probe(tmp_path, config.load(_oidc_config(tmp_path, oidc_provider, port)), port)
    try:
        page.goto(f"{probe.base}/probe")
        assert page.url.startswith(oidc_provider)
        page.click("button[value=kassala]")
        page.wait_for_selector("#probe", timeout=60_000)
        assert page.locator("#probe").inner_text() == "user=kassala@iom.int scope=kassala@iom.int"
    finally:
        probe.stop()


@pytest.mark.ui
def test_openid_connect_sign_in_through_nginx_then_sign_out(
    tmp_path, demo_dir, oidc_provider, page, artifacts
):
    _require_nginx()
    data = data_folder(tmp_path, demo_dir)
    port = free_port()
    team = Team(_oidc_config(tmp_path, oidc_provider, port, processes=2), port, "oidc")
    try:
        answer, _ = request(team.base, "GET", "/served")
        assert answer.status == 302
        seen = _watch(page, team.base)
        page.goto(f"{team.base}/?office=KRT")
        assert page.url.startswith(oidc_provider)
        page.click("button[value=lead]")
        _dashboard_ready(page)
        page.screenshot(path=artifacts / "team-oidc-admin.png")
        assert page.get_by_text("Khartoum office").first.is_visible()  # an admin keeps the office asked for
        ours = [u for u in seen["failed"] if u.startswith(team.base)]
        assert not ours, ours
        assert [e["user"] for e in access_log.read(data)][:1] == ["lead@iom.int"]
        page.goto(f"{team.base}/logout")
        page.goto(f"{team.base}/served")
        assert page.url.startswith(oidc_provider) or "/login" in page.url
    finally:
        team.stop()


def test_an_unreachable_identity_provider_is_one_line(tmp_path, demo_dir):
    _require_nginx()
    data_folder(tmp_path, demo_dir)
    path = _oidc_config(tmp_path, f"http://127.0.0.1:{free_port()}", free_port())
    result = subprocess.run([sys.executable, "-m", "flowmon.cli", "serve", "--config", str(path)],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("flowmon serve: the identity provider http://127.0.0.1:")
    assert result.stderr.count("\n") == 1 and "serving" not in result.stdout


def test_sigterm_stops_nginx_and_every_panel_process(team):
    children = team.children()
    assert len(children) == 3  # two panel processes and nginx
    team.stop()
    time.sleep(1)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert not alive
