"""Bokeh auth module for sign-in with the users file (``panel serve --auth-module`` loads this file).

Panel's own login page and cookies are used (``panel.auth.BasicLoginHandler``: the signed ``user`` cookie that
``pn.state.user`` reads), with three changes: passwords are checked against the argon2 hashes of
flowmon's users file, a user removed from it is signed out at the next request, and repeated failures for a
name are slowed down. The pages are flowmon's own (no CDN: offices are often offline).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque

from panel.auth import BasicLoginHandler
from panel.auth import LogoutHandler as PanelLogoutHandler
from panel.config import config as panel_config

from flowmon import store, users
from flowmon.auth import template

FAILURES_ALLOWED = 5
FAILURE_WINDOW = 15 * 60  # seconds
_failures: dict[str, deque] = defaultdict(deque)

login_url = "/login"
logout_url = "/logout"


def _data_dir():
    return store.default_data_dir()


def _known(name: str) -> bool:
    return name in users.read(_data_dir())


def get_user(request_handler):
    """The signed-in user of a request (page, websocket or login page), or None: never a guest."""
    value = request_handler.get_secure_cookie("user", max_age_days=panel_config.oauth_expiry)
    if not value:
        return None
    name = value.decode("utf-8")
    return name if _known(name) else None


def _throttled(name: str) -> bool:
    recent = _failures[name]
    now = time.monotonic()
    while recent and now - recent[0] > FAILURE_WINDOW:
        recent.popleft()
    return len(recent) >= FAILURES_ALLOWED


class LoginHandler(BasicLoginHandler):
    _login_endpoint = login_url
    _login_template = template("login.html")

    def _validate(self, username: str, password: str) -> bool:
        if not username or not password or _throttled(username):
            return False
        if users.verify(_data_dir(), username, password):
            _failures.pop(username, None)
            return True
        _failures[username].append(time.monotonic())
        return False

    def post(self):
        # Panel's post appends "?error=..." to the URI it was posted to; start from the bare path instead,
        # so failed attempts do not pile up query strings.
        self.request.uri = self.request.path
        return super().post()


class LogoutHandler(PanelLogoutHandler):
    _login_endpoint = login_url
    _logout_template = template("logout.html")

    def get(self):
        self.clear_cookie("is_guest")
        super().get()
