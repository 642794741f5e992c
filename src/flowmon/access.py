"""Who is looking, and what they may see: the scope of a signed-in user, enforced on the server.

Roles (set per user in the serving configuration's ``[roles]``, flowmon.config):

- ``admin``: every office, exports, the admin page;
- ``viewer``: caseloads, returns and referrals of its offices only (DTM displacement stays visible: it is
  public data), exports of that scope;
- ``meeting``: presentation mode only, exports of its scope (its offices, or every office when none is given).

``current_scope()`` answers for the current Panel session; ``Scope.restrict(query)`` clamps URL-style filters
to the scope and ``Scope.filter_events(events)`` removes out-of-scope rows at the source, so no widget value
sent from a browser can widen what a session counts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from flowmon import config, store

OPEN_USER = None  # no sign-in configured: one anonymous scope with every office, as flowmon always served


class AccessDenied(PermissionError):
    """No scope for this session: not signed in, or signed in without a role."""


@dataclass(frozen=True)
class Scope:
    user: str | None
    role: str  # admin | viewer | meeting
    offices: tuple[str, ...] | None  # None: every office
    can_export: bool = True

    @property
    def present_only(self) -> bool:
        return self.role == "meeting"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def open(cls) -> Scope:
        """The scope when no sign-in is configured (one trusted machine or network, as before)."""
        return cls(OPEN_USER, "admin", None, True)

    def allows_office(self, code: str) -> bool:
        return self.offices is None or code in self.offices

    def allowed_offices(self, codes: Iterable[str]) -> list[str]:
        """``codes`` (e.g. the office table's) that this scope may see, in their order."""
        return [code for code in codes if self.allows_office(code)]

    def restrict(self, query: Mapping[str, str | Iterable[str]]) -> dict[str, str]:
        """URL-style filters clamped to the scope: asking for an office outside it gives the scope's own.

        ``office`` keeps only allowed codes; asking for none ("all") or only forbidden ones gives every
        allowed office. A meeting scope is always in presentation mode. Values may be lists (parse_qs).
        """
        clamped = {name: _join(value) for name, value in query.items()}
        if self.offices is not None:
            asked = [code for code in clamped.get("office", "").split(",") if code]
            kept = [code for code in dict.fromkeys(asked) if code in self.offices]
            clamped["office"] = ",".join(kept or self.offices)
        if self.present_only:
            clamped["present"] = "1"
        return clamped

    def filter_events(self, events: pd.DataFrame) -> pd.DataFrame:
        """Only the event rows of the scope's offices (flows, DTM's public data, are never filtered)."""
        if self.offices is None:
            return events
        return events[events["office"].astype(str).isin(self.offices)]

    def allows_export(self, kind: str | None = None) -> bool:
        return self.can_export

    def check_export(self, kind: str) -> None:
        if not self.allows_export(kind):
            raise AccessDenied(f"{self.user} may not export ({self.role})")


def _join(value: str | Iterable[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return ",".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in value)


def scope_for(user: str | None, settings: config.ServeConfig | None) -> Scope:
    """The scope of ``user`` under ``settings``; raises AccessDenied when there is none."""
    if settings is None or settings.signin is None:
        return Scope.open()
    if not user:
        raise AccessDenied("not signed in")
    role = settings.roles.get(user)
    if role is None:
        raise AccessDenied(f"{user} is signed in but has no role in {settings.source or 'the configuration'}")
    return Scope(user, role.role, role.offices, role.exports)


@cache
def _settings_cached(path: str, mtime: float, data_dir: str) -> config.ServeConfig:
    return config.load(path, data_dir)


def settings_in_force(data_dir: str | os.PathLike | None = None) -> config.ServeConfig | None:
    """The serving configuration of this process's data folder (re-read when its file changes)."""
    folder = Path(data_dir) if data_dir is not None else store.default_data_dir()
    path = config.find(folder)
    if path is None:
        return None
    return _settings_cached(str(path), path.stat().st_mtime, str(folder))


def signed_in_user(
    cookies: Mapping[str, str], data_dir: str | os.PathLike, max_age_days: float = 31
) -> str | None:
    """The user of a request's signed ``user`` cookie (the one Panel's sign-in sets), or None.

    Unlike ``pn.state.user`` this never answers "guest" for a browser that sends ``is_guest=1``.
    """
    from tornado.web import decode_signed_value

    value = cookies.get("user")
    if not value:
        return None
    secret = config.cookie_secret(data_dir)
    decoded = decode_signed_value(secret, "user", value, max_age_days=max_age_days)
    return None if decoded is None else decoded.decode("utf-8")


def current_scope() -> Scope:
    """The scope of the current Panel session (raises AccessDenied when sign-in is required and missing).

    Outside a server session (a notebook, the CLI) there is no one to sign in: the open scope.
    """
    import panel as pn

    document = pn.state.curdoc
    if document is None or document.session_context is None:
        return Scope.open()
    folder = store.default_data_dir()
    settings = settings_in_force(folder)
    if settings is None or settings.signin is None:
        return Scope.open()
    request = document.session_context.request
    cookies = dict(request.cookies) if request is not None else {}
    user = signed_in_user(cookies, settings.data_dir, settings.signin.session_days)
    return scope_for(user, settings)
