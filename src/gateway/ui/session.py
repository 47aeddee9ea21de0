"""Who is looking at the board: the same API keys as the API, carried in a cookie.

The login form posts the key; once the KeyRing accepts it, it goes back as an HttpOnly,
SameSite=Strict cookie scoped to /ui (scripts cannot read it, other sites cannot send it) and
nothing secret is ever written into a page. Every POST (login, logout, cancel) also carries a
double-submit CSRF token: a random value in its own cookie that the form repeats, plus an
Origin check when the browser sends one. No server-side secret, so any worker can check it.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import Forbidden
from gateway.server.auth import ANONYMOUS, Caller
from gateway.server.holder import Generation

KEY_COOKIE = "egw_key"
CSRF_COOKIE = "egw_csrf"
CSRF_FIELD = "csrf_token"
UI_PATH = "/ui"
MAX_KEY_CHARS = 1024


class LoginRequired(Exception):
    """Auth is on and the request carries no (valid) key cookie: show the login form."""


def caller_of(request: Request, gen: Generation) -> Caller:
    """The caller whose key is in the cookie; `LoginRequired` if there is none that works."""
    if not gen.keys.enabled:
        return ANONYMOUS
    key = request.cookies.get(KEY_COOKIE, "")
    if not key:
        raise LoginRequired()
    try:
        return check_key(gen, key)
    except Exception:
        raise LoginRequired() from None


def check_key(gen: Generation, key: str) -> Caller:
    """The caller a presented key belongs to (`Unauthorized` if none), via the KeyRing."""
    return gen.keys.authenticate(Headers({"authorization": f"Bearer {key[:MAX_KEY_CHARS]}"}))


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on first sight; `remember_csrf` sets the cookie)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) != 43:  # token_urlsafe(32)
        token = request.scope.setdefault("state", {}).setdefault(
            "ui_csrf", secrets.token_urlsafe(32)
        )
    return token


def remember_csrf(request: Request, response: Response) -> None:
    if request.cookies.get(CSRF_COOKIE) != csrf_token(request):
        _set_cookie(request, response, CSRF_COOKIE, csrf_token(request))


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body (all our forms are; the middleware bounds its size). Parsed
    here rather than by starlette, which would need python-multipart for any form."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def check_csrf(request: Request, form: dict[str, str]) -> None:
    """Refuse a POST that did not come from one of our own forms."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("this form was sent from another site (Origin does not match)")
    sent = form.get(CSRF_FIELD, "")
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "the form's CSRF token is missing or stale; reload the page and send it again"
        )


def log_in(request: Request, response: Response, key: str) -> None:
    _set_cookie(request, response, KEY_COOKIE, key)


def log_out(request: Request, response: Response) -> None:
    response.delete_cookie(KEY_COOKIE, path=UI_PATH, httponly=True, samesite="strict")


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=UI_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
