"""Run once per panel process (``panel serve --setup``): refuse the page itself to a signed-in user without a
role, before any session is built (the served app refuses too, for a websocket that gets that far)."""

import panel as pn

from flowmon import access


def authorized(user_info) -> bool:
    # Panel calls this inside the request's (temporary) session, so the scope is the request's.
    try:
        access.current_scope()
    except access.AccessDenied:
        return False
    return True


pn.config.authorize_callback = authorized
