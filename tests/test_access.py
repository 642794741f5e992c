"""Serving configuration, users file, roles and the access log: fast tests without a server."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import stat
import subprocess
import sys

import pandas as pd
import pytest

from flowmon import access, access_log, config, users

GOOD = """
data_dir = "store"
[serve]
host = "flowmon.example.org"
port = 8443
processes = 3
[signin]
method = "users"
[roles]
"lead@iom.int" = { role = "admin" }
amina = { role = "viewer", offices = ["KSL"] }
two = { role = "viewer", offices = ["KSL", "GDF"] }
wall = { role = "meeting", exports = false }
"""


def write(folder, text, name="flowmon.toml"):
    path = folder / name
    path.write_text(text)
    return path


def cli(*args, stdin="", data_dir=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("FLOWMON_CONFIG", None)
    command = [sys.executable, "-m", "flowmon.cli", *args]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=120)


# --- configuration ---------------------------------------------------------------------------------
def test_a_configuration_file_is_read_with_its_roles(tmp_path):
    settings = config.load(write(tmp_path, GOOD))
    assert settings.data_dir == tmp_path / "store"
    assert (settings.port, settings.processes, settings.host) == (8443, 3, "flowmon.example.org")
    assert settings.signin.method == "users"
    assert settings.roles["amina"] == config.Role("viewer", ("KSL",), True)
    assert settings.roles["lead@iom.int"].offices is None
    assert settings.roles["wall"].exports is False
    assert settings.url == "http://flowmon.example.org:8443"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ('amina = { role = "viewer", offices = ["KSL"] }', None),
        ('amina = { role = "viewer" }', "roles.amina.offices"),
        ('amina = { role = "viewer", offices = ["XXX"] }', "roles.amina.offices"),
        ('amina = { role = "boss" }', "roles.amina.role"),
        ('amina = { role = "admin", offices = ["KSL"] }', "roles.amina.offices"),
        ('amina = { role = "viewer", offices = ["KSL"], colour = "red" }', "roles.amina.colour"),
    ],
)
def test_a_bad_role_is_refused_naming_file_and_key(tmp_path, change, named):
    text = GOOD.replace('amina = { role = "viewer", offices = ["KSL"] }', change)
    path = write(tmp_path, text)
    if named is None:
        config.load(path)
        return
    with pytest.raises(config.ConfigError) as error:
        config.load(path)
    assert str(error.value).startswith(f"{path}, {named}:")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[serve]\nport = 99999\n", "serve.port"),
        ("[serve]\nprocesses = 0\n", "serve.processes"),
        ("[serve]\nprot = 1\n", "serve.prot"),
        ("[signin]\nmethod = 'ldap'\n", "signin.method"),
        ("[signin]\nmethod = 'oidc'\nclient_id = 'x'\nclient_secret = 'y'\n", "signin.issuer"),
        ("[signin]\nmethod = 'oidc'\nissuer = 'http://x'\nclient_id = 'x'\n", "signin.client_secret"),
        (
            "[signin]\nmethod = 'oidc'\nissuer = 'http://x'\nclient_id = 'x'\n"
            "client_secret_env = 'FM_NOPE'\n",
            "signin.client_secret_env",
        ),
        ("[serve]\ntls_certificate = 'missing.pem'\ntls_key = 'missing.key'\n", "serve.tls_certificate"),
    ],
)
def test_bad_serving_settings_are_refused_naming_the_key(tmp_path, text, named):
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError, match=f"^{path}, {named}:"):
        config.load(path)


def test_not_toml_is_one_line_naming_the_file(tmp_path):
    path = write(tmp_path, "[serve\nport=1")
    with pytest.raises(config.ConfigError, match=f"^{path}: not valid TOML"):
        config.load(path)


def test_a_data_folder_carries_its_own_configuration(tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWMON_CONFIG", raising=False)
    data = tmp_path / "data"
    assert config.load_for(data) is None
    (data / "config").mkdir(parents=True)
    write(data / "config", "[signin]\nmethod = 'users'\n")
    settings = config.load_for(data)
    assert settings.signin.method == "users"
    assert settings.data_dir == data


def test_the_cookie_secret_is_generated_once_and_owner_only(tmp_path):
    first = config.cookie_secret(tmp_path)
    assert len(first) >= 40
    assert config.cookie_secret(tmp_path) == first
    path = tmp_path / "config" / "cookie_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "config").stat().st_mode) == 0o700
    key = config.oauth_encryption_key(tmp_path)
    from cryptography.fernet import Fernet

    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"token")) == b"token"
    assert config.cookie_secret(tmp_path / "other") != first


# --- users file ------------------------------------------------------------------------------------
def test_users_cli_adds_lists_changes_and_removes(tmp_path):
    data = tmp_path / "data"
    added = cli(
        "users", "add", "amina", stdin="correct horse battery\ncorrect horse battery\n", data_dir=data
    )
    assert added.returncode == 0, added.stderr
    assert "no role yet" in added.stdout
    path = users.users_path(data)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "correct horse" not in text and "$argon2id$" in text
    assert users.verify(data, "amina", "correct horse battery")
    assert not users.verify(data, "amina", "correct horse batterY")
    assert not users.verify(data, "nobody", "correct horse battery")

    again = cli("users", "add", "amina", stdin="another password!\nanother password!\n", data_dir=data)
    assert again.returncode == 2 and "already a user" in again.stderr

    changed = cli(
        "users", "passwd", "amina", stdin="a new long password\na new long password\n", data_dir=data
    )
    assert changed.returncode == 0, changed.stderr
    assert users.verify(data, "amina", "a new long password")
    assert not users.verify(data, "amina", "correct horse battery")

    listed = cli("users", "list", data_dir=data)
    assert listed.stdout.startswith("amina\tno role")
    removed = cli("users", "remove", "amina", data_dir=data)
    assert removed.returncode == 0
    assert users.read(data) == {}


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("short\nshort\n", "shorter than 10"),
        ("long enough one\nlong enough two\n", "differ"),
        ("", "no password"),
    ],
)
def test_users_cli_refuses_bad_passwords_in_one_line(tmp_path, stdin, message):
    result = cli("users", "add", "amina", stdin=stdin, data_dir=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert users.read(tmp_path) == {}


def test_a_user_name_with_odd_characters_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is not a user name"):
        users.add(tmp_path, "a b<script>", "long enough password")


def test_users_list_shows_roles_from_the_configuration(tmp_path):
    data = tmp_path / "data"
    users.add(data, "amina", "long enough password")
    write(data / "config", GOOD.replace('data_dir = "store"', ""))
    listed = cli("users", "list", data_dir=data)
    assert listed.stdout.startswith("amina\tviewer (KSL)\t")


# --- scopes --------------------------------------------------------------------------------------
@pytest.fixture
def settings(tmp_path):
    return config.load(write(tmp_path, GOOD))


def test_a_viewer_cannot_widen_its_offices_through_the_query(settings):
    kassala = access.scope_for("amina", settings)
    assert kassala.restrict({"office": "KRT"}) == {"office": "KSL"}
    assert kassala.restrict({"office": "KRT,KSL"}) == {"office": "KSL"}
    assert kassala.restrict({}) == {"office": "KSL"}
    assert kassala.restrict({"office": ""}) == {"office": "KSL"}
    assert kassala.restrict({"office": ["KRT", "PZU"], "stream": "return"}) == {
        "office": "KSL",
        "stream": "return",
    }
    two = access.scope_for("two", settings)
    assert two.restrict({"office": "KRT"}) == {"office": "KSL,GDF"}
    assert two.restrict({"office": "GDF,KRT"}) == {"office": "GDF"}
    admin = access.scope_for("lead@iom.int", settings)
    assert admin.restrict({"office": "KRT", "start": "2025-01"}) == {"office": "KRT", "start": "2025-01"}


def test_a_meeting_scope_is_presentation_only_and_may_be_denied_exports(settings):
    wall = access.scope_for("wall", settings)
    assert wall.present_only and wall.restrict({"present": "0"})["present"] == "1"
    assert not wall.allows_export("csv")
    with pytest.raises(access.AccessDenied):
        wall.check_export("png")
    assert access.scope_for("amina", settings).allows_export("csv")


def test_scope_filters_event_rows_to_its_offices(settings):
    events = pd.DataFrame({"office": pd.Categorical(["KSL", "KRT", "GDF", "KSL"]), "count": [1, 2, 3, 4]})
    assert access.scope_for("amina", settings).filter_events(events)["count"].tolist() == [1, 4]
    assert access.scope_for("two", settings).filter_events(events)["count"].tolist() == [1, 3, 4]
    assert len(access.scope_for("lead@iom.int", settings).filter_events(events)) == 4


def test_no_scope_without_a_user_or_a_role(settings):
    with pytest.raises(access.AccessDenied, match="not signed in"):
        access.scope_for(None, settings)
    with pytest.raises(access.AccessDenied, match="stranger is signed in but has no role"):
        access.scope_for("stranger", settings)
    assert access.scope_for(None, None) == access.Scope.open()


def test_the_signed_cookie_names_the_user_and_a_guest_cookie_does_not(tmp_path):
    from tornado.web import create_signed_value

    secret = config.cookie_secret(tmp_path)
    cookie = create_signed_value(secret, "user", "amina").decode()
    assert access.signed_in_user({"user": cookie}, tmp_path) == "amina"
    assert access.signed_in_user({"user": cookie, "is_guest": "1"}, tmp_path) == "amina"
    assert access.signed_in_user({"is_guest": "1"}, tmp_path) is None
    forged = create_signed_value("another secret", "user", "lead@iom.int").decode()
    assert access.signed_in_user({"user": forged}, tmp_path) is None
    assert access.signed_in_user({"user": "lead@iom.int"}, tmp_path) is None


def test_outside_a_server_session_the_scope_is_open():
    assert access.current_scope() == access.Scope.open()


# --- access log -----------------------------------------------------------------------------------
def test_the_access_log_records_who_asked_for_what_and_no_figures(tmp_path, settings):
    amina = access.scope_for("amina", settings)
    access_log.record(amina, {"office": "KSL", "stream": ["return"], "sex": ""}, None, tmp_path)
    access_log.record(amina, {"office": "KSL"}, "csv", tmp_path)
    lines = access_log.log_path(tmp_path).read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "user", "role", "event", "filters", "export"}
    assert first["user"] == "amina" and first["role"] == "viewer" and first["event"] == "view"
    assert first["filters"] == {"office": "KSL", "stream": "return"}
    assert second["event"] == "export" and second["export"] == "csv"
    assert dt.datetime.fromisoformat(first["time"]).tzinfo is not None
    with pytest.raises(ValueError, match="export kind"):
        access_log.record(amina, {}, "xlsx", tmp_path)
    assert stat.S_IMODE(access_log.log_path(tmp_path).parent.stat().st_mode) == 0o700


def _write_lines(folder: str, worker: int, count: int) -> None:
    scope = access.Scope(f"user{worker}", "viewer", ("KSL",))
    for index in range(count):
        access_log.record(
            scope, {"office": "KSL", "n": str(index)}, None, folder, max_bytes=4000, backups=500
        )


def test_several_processes_share_the_rotated_log_without_losing_a_line(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_lines, args=(str(tmp_path), w, 150)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    rotated = list(access_log.log_path(tmp_path).parent.glob("access.jsonl.*"))
    assert len(rotated) > 5  # rotated by size, many times, under four writers
    entries = list(access_log.read(tmp_path))
    assert len(entries) == 600
    for worker in range(4):
        numbers = [int(e["filters"]["n"]) for e in entries if e["user"] == f"user{worker}"]
        assert numbers == list(range(150))  # each writer's lines complete and in order across files


def test_access_log_cli_summarises_by_user_and_date(tmp_path, settings):
    amina = access.scope_for("amina", settings)
    lead = access.scope_for("lead@iom.int", settings)
    path = access_log.log_path(tmp_path)
    path.parent.mkdir(parents=True)
    old = access_log.line(amina, {"office": "KSL"}, None, dt.datetime(2025, 1, 5, tzinfo=dt.UTC))
    path.write_text(json.dumps(old) + "\n")
    access_log.record(amina, {"office": "KSL"}, None, tmp_path)
    access_log.record(amina, {"office": "KSL"}, "png", tmp_path)
    access_log.record(lead, {"office": "KRT"}, None, tmp_path)
    everything = cli("access-log", data_dir=tmp_path)
    assert everything.returncode == 0, everything.stderr
    rows = {line.split()[0]: line for line in everything.stdout.splitlines()[1:]}
    assert set(rows) == {"amina", "lead@iom.int"}
    assert rows["amina"].split()[2] == "2" and "png 1" in rows["amina"]
    recent = cli("access-log", "--since", "2025-02-01", "--user", "amina", data_dir=tmp_path)
    assert recent.stdout.splitlines()[1].split()[2] == "1"
    nothing = cli("access-log", "--user", "nobody", data_dir=tmp_path)
    assert "nothing recorded" in nothing.stdout
    bad = cli("access-log", "--since", "yesterday", data_dir=tmp_path)
    assert bad.returncode == 2 and "usage: flowmon access-log" in bad.stderr
