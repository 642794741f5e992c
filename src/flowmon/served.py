"""The app that ``panel serve`` runs for ``flowmon serve`` (data folder from $FLOWMON_DATA_DIR).

When the data folder's serving configuration requires sign-in, a session without a signed-in user with a
role gets a one-line refusal and nothing else, whichever way the app was started (a bare ``panel serve`` of
this file without the sign-in options included). Each view the session's URL shows is recorded in the
access log.
"""

import html
from urllib.parse import parse_qsl, urlencode

import panel as pn

import flowmon
from flowmon import access, access_log, memory

memory.release_when_closed()
settings = access.settings_in_force()
try:
    scope = access.current_scope()
except access.AccessDenied as denied:
    # The sign-out link matters for a user signed in without a role: it is their way to another account.
    pn.pane.HTML(
        f"<h1>No access</h1><p id='denied'>{html.escape(str(denied))}</p>"
        "<p><a href='./logout'>Sign out</a> · <a href='./login'>Sign in</a></p>",
    ).servable(title="flowmon")
else:
    location = pn.state.location
    if location is not None and (scope.offices is not None or scope.present_only):
        # A link cannot widen the scope (the dashboard itself must also limit the data: see flowmon.access).
        asked = dict(parse_qsl(location.search.lstrip("?")))
        clamped = "?" + urlencode({k: v for k, v in scope.restrict(asked).items() if v}, safe=",")
        location.search = clamped
        # The browser reports its own URL when it connects; show the clamped one in the address bar.
        pn.state.onload(lambda: setattr(location, "search", clamped))
    dashboard = flowmon.Dashboard.from_environment()
    dashboard.servable(title="flowmon")

    if settings is not None and location is not None:
        logged: list[dict] = []

        def log_view(*_events) -> None:
            # What the dashboard shows (its own filters), not what a browser claims in its address bar.
            shown = dashboard.url_query() if hasattr(dashboard, "url_query") else {}
            if not logged or logged[-1] != shown:
                logged[:] = [shown]
                access_log.record(scope, shown, None, settings.data_dir)

        log_view()
        location.param.watch(log_view, "search")
