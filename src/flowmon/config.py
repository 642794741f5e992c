"""The serving configuration: one TOML file (port, processes, sign-in, roles, data folder) and the secrets
generated once into the data folder.

A configuration is found as ``flowmon serve --config FILE``, else ``$FLOWMON_CONFIG``, else the data folder's
own ``config/flowmon.toml``. The last matters: once a data folder says sign-in is required, a plain
``flowmon serve --data-dir`` (or ``panel serve`` of the app over it) cannot serve it anonymously by mistake.

Layout of a data folder's configuration (owner-only: the folder 0700, every file 0600)::

    config/flowmon.toml            this file (optional)
    config/cookie_secret           signs the sign-in cookies; generated once
    config/oauth_encryption_key    encrypts OpenID Connect tokens in cookies; generated once
    config/users.json              the users file (flowmon.users)

Example::

    data_dir = "data"                 # relative to this file; default: the folder holding config/

    [serve]
    host = "flowmon.example.org"      # what users type: nginx's server_name and the websocket origin
    address = "0.0.0.0"               # where nginx listens
    port = 8080
    processes = 2                     # panel processes behind nginx
    # tls_certificate = "/etc/ssl/flowmon.pem"   # with tls_key: HTTPS (sign-in over plain HTTP sends
    # tls_key = "/etc/ssl/flowmon.key"           # passwords readable on the network)

    [signin]
    method = "users"                  # "users" (flowmon users add ...) or "oidc"
    # issuer = "https://login.microsoftonline.com/TENANT/v2.0"
    # client_id = "..."
    # client_secret_env = "FLOWMON_OIDC_SECRET"
    # user_claim = "email"

    [roles]
    "lead@iom.int" = { role = "admin" }
    amina = { role = "viewer", offices = ["KSL"] }
    wall = { role = "meeting" }
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from flowmon import store

CONFIG_ENV = "FLOWMON_CONFIG"
CONFIG_DIR = "config"
CONFIG_FILE = "flowmon.toml"
ROLES = ("admin", "viewer", "meeting")
SIGNIN_METHODS = ("users", "oidc")
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
HOST_NAME = re.compile(r"^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:]+\]$")


@dataclass(frozen=True)
class Role:
    """What one user may see: ``offices`` None means every office."""

    role: str
    offices: tuple[str, ...] | None = None
    exports: bool = True


@dataclass(frozen=True)
class SignIn:
    method: str
    issuer: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    user_claim: str = "email"
    session_days: float = 1.0


@dataclass(frozen=True)
class ServeConfig:
    source: Path | None
    data_dir: Path
    host: str | None = None
    address: str = "127.0.0.1"
    port: int = 8080
    processes: int = 1
    public_url: str | None = None
    tls: tuple[str, str] | None = None  # certificate and key files: nginx serves HTTPS
    signin: SignIn | None = None
    roles: dict[str, Role] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The address users open (OpenID Connect redirects come back to it)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host or self.address}:{self.port}"


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


def config_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / CONFIG_DIR


def find(data_dir: str | os.PathLike | None = None, path: str | os.PathLike | None = None) -> Path | None:
    """The configuration file in force: ``path``, else ``$FLOWMON_CONFIG``, else the data folder's own."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such configuration file")
        return path
    if os.environ.get(CONFIG_ENV):
        return find(path=os.environ[CONFIG_ENV])
    own = config_dir(store.resolve_data_dir(data_dir)) / CONFIG_FILE
    return own if own.is_file() else None


def load(path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> ServeConfig:
    """Read and check a configuration file; ``data_dir`` (the command line's) wins over the file's."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return parse(raw, path, data_dir)


def load_for(data_dir: str | os.PathLike | None = None, path: str | os.PathLike | None = None):
    """The configuration in force for a data folder, or None when it has none (anonymous, one process)."""
    found = find(data_dir, path)
    return None if found is None else load(found, data_dir)


def parse(raw: dict, source: Path | None, data_dir: str | os.PathLike | None = None) -> ServeConfig:
    where = str(source) if source else "configuration"

    def fail(key: str, problem: str):
        raise ConfigError(f"{where}, {key}: {problem}")

    def table(value, key: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            fail(key, "must be a table")
        return value

    def check_keys(section: dict, allowed: set[str], prefix: str) -> None:
        for key in section:
            if key not in allowed:
                fail(f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(allowed))})")

    check_keys(raw, {"data_dir", "serve", "signin", "roles"}, "")
    if data_dir is not None:
        folder = Path(data_dir)
    elif "data_dir" in raw:
        if not isinstance(raw["data_dir"], str) or not raw["data_dir"]:
            fail("data_dir", "must be a folder name")
        base = source.parent if source else Path.cwd()
        folder = base / Path(raw["data_dir"]).expanduser()
    elif source is not None and source.parent.name == CONFIG_DIR:
        folder = source.parent.parent  # data/config/flowmon.toml serves data/
    else:
        folder = store.resolve_data_dir()

    serve = table(raw.get("serve"), "serve")
    check_keys(
        serve, {"host", "address", "port", "processes", "public_url", "tls_certificate", "tls_key"}, "serve."
    )
    port = serve.get("port", 8080)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        fail("serve.port", f"{port!r} is not a port number (1-65535)")
    processes = serve.get("processes", 1)
    if not isinstance(processes, int) or isinstance(processes, bool) or not 1 <= processes <= 64:
        fail("serve.processes", f"{processes!r} is not a number of processes (1-64)")
    host = serve.get("host")
    if host is not None and (not isinstance(host, str) or not HOST_NAME.match(host)):
        fail("serve.host", f"{host!r} is not a host name")
    address = serve.get("address", "127.0.0.1")
    if not isinstance(address, str) or not HOST_NAME.match(address.strip("[]") or "-"):
        fail("serve.address", f"{address!r} is not an address")
    public_url = serve.get("public_url")
    if public_url is not None and (
        not isinstance(public_url, str) or not re.match(r"^https?://[^/\s]+/?$", public_url)
    ):
        fail("serve.public_url", f"{public_url!r} is not an http(s)://host[:port] address")

    tls = None
    if "tls_certificate" in serve or "tls_key" in serve:
        files = []
        for key in ("tls_certificate", "tls_key"):
            value = serve.get(key)
            if not isinstance(value, str) or not value:
                fail(f"serve.{key}", "both tls_certificate and tls_key are needed for HTTPS")
            file = (source.parent if source else Path.cwd()) / Path(value).expanduser()
            if not file.is_file():
                fail(f"serve.{key}", f"{file} does not exist")
            files.append(str(file.resolve()))
        tls = (files[0], files[1])

    signin = None
    section = table(raw.get("signin"), "signin")
    if section:
        check_keys(
            section,
            {
                "method",
                "issuer",
                "client_id",
                "client_secret",
                "client_secret_env",
                "user_claim",
                "session_days",
            },
            "signin.",
        )
        method = section.get("method")
        if method not in SIGNIN_METHODS:
            fail("signin.method", f"{method!r} is not one of {', '.join(SIGNIN_METHODS)}")
        days = section.get("session_days", 1)
        if not isinstance(days, int | float) or isinstance(days, bool) or not 0 < days <= 30:
            fail("signin.session_days", f"{days!r} is not a number of days (up to 30)")
        if method == "oidc":
            for key in ("issuer", "client_id"):
                if not isinstance(section.get(key), str) or not section[key]:
                    fail(f"signin.{key}", "is required for method = 'oidc'")
            if not re.match(r"^https?://", section["issuer"]):
                fail("signin.issuer", f"{section['issuer']!r} is not an http(s) URL")
            secret = section.get("client_secret")
            if "client_secret_env" in section:
                variable = section["client_secret_env"]
                secret = os.environ.get(variable)
                if not secret:
                    fail("signin.client_secret_env", f"the environment variable {variable} is not set")
            if not secret:
                fail("signin.client_secret", "is required (or client_secret_env naming a variable)")
            signin = SignIn(
                method, section["issuer"].rstrip("/"), section["client_id"], secret,
                str(section.get("user_claim", "email")), float(days),
            )  # fmt: skip
        else:
            signin = SignIn(method, session_days=float(days))

    roles = {}
    known_offices = _office_codes()
    for user, entry in table(raw.get("roles"), "roles").items():
        key = f"roles.{user}"
        if not USER_NAME.match(user):
            fail(key, "is not a user name (letters, digits and . _ @ + -)")
        if not isinstance(entry, dict):
            fail(key, 'must be a table such as { role = "viewer", offices = ["KSL"] }')
        check_keys(entry, {"role", "offices", "exports"}, f"{key}.")
        role = entry.get("role")
        if role not in ROLES:
            fail(f"{key}.role", f"{role!r} is not one of {', '.join(ROLES)}")
        offices = entry.get("offices")
        if offices is not None:
            if role == "admin":
                fail(f"{key}.offices", "an admin sees every office; give no offices")
            if not isinstance(offices, list) or not offices:
                fail(f"{key}.offices", "must be a non-empty list of office codes")
            unknown = [o for o in offices if o not in known_offices]
            if unknown:
                fail(f"{key}.offices", f"unknown office {unknown[0]!r} (known: {', '.join(known_offices)})")
            offices = tuple(dict.fromkeys(offices))
        elif role == "viewer":
            fail(f"{key}.offices", "a viewer needs the list of offices it may see")
        exports = entry.get("exports", True)
        if not isinstance(exports, bool):
            fail(f"{key}.exports", "must be true or false")
        roles[user] = Role(role, offices, exports)

    return ServeConfig(
        source=source, data_dir=folder, host=host, address=address, port=port, processes=processes,
        public_url=public_url.rstrip("/") if public_url else None, tls=tls, signin=signin, roles=roles,
    )  # fmt: skip


def _office_codes() -> list[str]:
    from flowmon.geo.offices import offices

    return list(offices()["code"])


# --- secrets kept in the data folder -----------------------------------------------------------------
def _private_dir(data_dir: str | os.PathLike) -> Path:
    folder = config_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder


def write_private(path: Path, text: str) -> None:
    """Write ``text`` owner-only and atomically (a reader sees the old file or the new one)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _secret(data_dir: str | os.PathLike, name: str, make) -> str:
    path = _private_dir(data_dir) / name
    if not path.exists():
        try:
            # O_EXCL: two processes starting at once agree on one secret (the loser reads the winner's).
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(make())
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise ConfigError(f"{path}: empty; delete it to generate a new one (everyone signs in again)")
    return value


def cookie_secret(data_dir: str | os.PathLike) -> str:
    """The secret that signs sign-in cookies, generated on first use (keeping it keeps users signed in)."""
    return _secret(data_dir, "cookie_secret", lambda: secrets.token_urlsafe(48))


def oauth_encryption_key(data_dir: str | os.PathLike) -> str:
    """A Fernet key (32 url-safe base64 bytes) that Panel encrypts OpenID Connect tokens in cookies with."""
    return _secret(
        data_dir, "oauth_encryption_key", lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()
    )
