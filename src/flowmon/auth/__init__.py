"""Sign-in for a served dashboard: the ``panel serve`` arguments and environment for the configured method.

Two methods, both Panel's own machinery:

- ``users``: the users file (flowmon.users), through a Bokeh auth module (``users_module.py``) that checks
  argon2 hashes and serves flowmon's login and logout pages;
- ``oidc``: OpenID Connect, through Panel's ``generic`` OAuth provider; the endpoints come from the issuer's
  discovery document, the client secret and the keys reach panel through its environment (never its command
  line, which every local user can read).

The cookie secret and the OAuth encryption key are generated once into the data folder's configuration.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

import jinja2

from flowmon import config

TEMPLATES = Path(__file__).with_name("templates")
USERS_MODULE = Path(__file__).with_name("users_module.py")
SETUP = Path(__file__).with_name("setup.py")


@cache
def template(name: str) -> jinja2.Template:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return environment.get_template(name)


def discover(issuer: str, timeout: float = 10) -> dict:
    """The issuer's OpenID Connect discovery document (``/.well-known/openid-configuration``)."""
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            document = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ConnectionError(f"the identity provider {issuer} did not answer {url}: {reason}") from None
    missing = [key for key in ("authorization_endpoint", "token_endpoint") if key not in document]
    if missing:
        raise ValueError(f"{url}: the discovery document lacks {', '.join(missing)}")
    return document


def panel_arguments(settings: config.ServeConfig) -> tuple[list[str], dict[str, str]]:
    """``panel serve`` arguments and environment variables for ``settings``' sign-in (none: anonymous)."""
    signin = settings.signin
    if signin is None:
        return [], {}
    env = {
        "PANEL_COOKIE_SECRET": config.cookie_secret(settings.data_dir),
        "PANEL_OAUTH_EXPIRY": str(signin.session_days),
    }
    args = [
        "--logout-template",
        str(TEMPLATES / "logout.html"),
        "--auth-template",
        str(TEMPLATES / "error.html"),
    ]
    args += ["--setup", str(SETUP)]
    if signin.method == "users":
        return [*args, "--auth-module", str(USERS_MODULE)], env
    document = discover(signin.issuer)
    env.update(
        PANEL_OAUTH_KEY=signin.client_id,
        PANEL_OAUTH_SECRET=signin.client_secret,
        PANEL_OAUTH_ENCRYPTION=config.oauth_encryption_key(settings.data_dir),
        PANEL_OAUTH_AUTHORIZE_URL=document["authorization_endpoint"],
        PANEL_OAUTH_TOKEN_URL=document["token_endpoint"],
        PANEL_OAUTH_USER_URL=document.get("userinfo_endpoint", ""),
        PANEL_OAUTH_LOGOUT_URL=document.get("end_session_endpoint", ""),
        PANEL_USER_KEY=signin.user_claim,
        PANEL_OAUTH_REDIRECT_URI=f"{settings.url}/login",
        PANEL_OAUTH_SCOPE="openid,email,profile",
    )
    args += ["--oauth-provider", "generic", "--oauth-error-template", str(TEMPLATES / "error.html")]
    return args, env
