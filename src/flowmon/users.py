"""The users file, for offices without an identity provider: names and argon2 password hashes only.

``flowmon users add|remove|list|passwd NAME`` manages it; passwords are prompted (never taken from the command
line, where they would stay in the shell history and the process list). The file is the data folder's
``config/users.json``, owner-only, replaced atomically. What a user may see is its role in the serving
configuration (flowmon.config), not this file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from flowmon import config, store

USERS_FILE = "users.json"
MIN_PASSWORD = 10
_HASHER = PasswordHasher()  # argon2id with argon2-cffi's current recommended parameters
# Verifying an unknown name costs the same as a known one, so timing does not tell which names exist.
_DUMMY_HASH = _HASHER.hash("flowmon: no such user")


def users_path(data_dir: str | os.PathLike) -> Path:
    return config.config_dir(data_dir) / USERS_FILE


def read(data_dir: str | os.PathLike) -> dict[str, dict]:
    """Users by name: ``{"hash": "$argon2id$...", "changed": ISO time}``; empty when there is no file."""
    path = users_path(data_dir)
    if not path.exists():
        return {}
    try:
        users = json.loads(path.read_text(encoding="utf-8"))["users"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a flowmon users file ({error})") from None
    return users


def _write(data_dir: str | os.PathLike, users: dict[str, dict]) -> None:
    path = users_path(data_dir)
    config._private_dir(data_dir)
    config.write_private(path, json.dumps({"version": 1, "users": users}, indent=1, sort_keys=True) + "\n")


def _check_name(name: str) -> None:
    if not config.USER_NAME.match(name):
        raise ValueError(f"{name!r} is not a user name (letters, digits and . _ @ + -, up to 128)")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password is shorter than {MIN_PASSWORD} characters")


def _stamp(password: str) -> dict:
    return {"hash": _HASHER.hash(password), "changed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def add(data_dir: str | os.PathLike, name: str, password: str) -> None:
    _check_name(name)
    _check_password(password)
    users = read(data_dir)
    if name in users:
        raise ValueError(f"{name} is already a user (`flowmon users passwd {name}` changes the password)")
    users[name] = _stamp(password)
    _write(data_dir, users)


def set_password(data_dir: str | os.PathLike, name: str, password: str) -> None:
    _check_password(password)
    users = read(data_dir)
    if name not in users:
        raise ValueError(f"{name} is not a user of {users_path(data_dir)}")
    users[name] = _stamp(password)
    _write(data_dir, users)


def remove(data_dir: str | os.PathLike, name: str) -> None:
    users = read(data_dir)
    if name not in users:
        raise ValueError(f"{name} is not a user of {users_path(data_dir)}")
    del users[name]
    _write(data_dir, users)


def verify(data_dir: str | os.PathLike, name: str, password: str) -> bool:
    """Whether ``password`` is ``name``'s; the same work is done for an unknown name."""
    entry = read(data_dir).get(name)
    try:
        return _HASHER.verify(entry["hash"] if entry else _DUMMY_HASH, password) and entry is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- CLI ---------------------------------------------------------------------------------------------
def _prompt(prompt: str) -> str:
    # From a terminal: getpass (no echo). Piped in (scripts, tests): one line per prompt.
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    line = sys.stdin.readline()
    if not line:
        raise ValueError("no password given on standard input")
    return line.rstrip("\r\n")


def _ask_password(name: str) -> str:
    password = _prompt(f"New password for {name}: ")
    _check_password(password)
    if _prompt("The same again: ") != password:
        raise ValueError("the two passwords differ; nothing changed")
    return password


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "users", help="manage the users file (sign-in without an identity provider)",
        description="Manage the users who sign in with a password. Passwords are prompted, stored only as "
        "argon2 hashes in DATA_DIR/config/users.json; roles are set in the serving configuration's [roles].",
    )  # fmt: skip
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("add", "add a user (prompts for the password)"),
        ("passwd", "change a user's password (prompts)"),
        ("remove", "remove a user (signed-in sessions end at their next request)"),
    ):
        sub = actions.add_parser(action, parents=[common], help=text, description=text)
        sub.add_argument("name", help="the user name (letters, digits and . _ @ + -)")
        sub.set_defaults(func=run)
    listing = actions.add_parser("list", parents=[common], help="list users and their roles")
    listing.add_argument("--config", metavar="FILE", help="the serving configuration (for the roles column)")
    listing.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data_dir = store.resolve_data_dir(args.data_dir)
    if args.action == "add":
        add(data_dir, args.name, _ask_password(args.name))
        print(f"flowmon users: added {args.name} to {users_path(data_dir)}")
        settings = config.load_for(data_dir)
        if settings is None or args.name not in settings.roles:
            print(f"flowmon users: note: {args.name} has no role yet; until the serving configuration's "
                  "[roles] gives one, signing in shows nothing")  # fmt: skip
    elif args.action == "passwd":
        if args.name not in read(data_dir):
            raise ValueError(f"{args.name} is not a user of {users_path(data_dir)}")
        set_password(data_dir, args.name, _ask_password(args.name))
        print(f"flowmon users: changed the password of {args.name}")
    elif args.action == "remove":
        remove(data_dir, args.name)
        print(f"flowmon users: removed {args.name}")
    else:
        settings = config.load_for(data_dir, getattr(args, "config", None))
        roles = settings.roles if settings else {}
        users = read(data_dir)
        if not users:
            print(f"flowmon users: no users in {users_path(data_dir)}")
        for name, entry in sorted(users.items()):
            role = roles.get(name)
            what = "no role" if role is None else role.role
            if role is not None and role.offices:
                what += f" ({', '.join(role.offices)})"
            print(f"{name}\t{what}\tpassword set {entry.get('changed', '?')}")
    return 0
