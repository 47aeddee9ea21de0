"""The login form (auth on): the API key in, an HttpOnly cookie out; and logging out."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.errors import GatewayError, Unauthorized
from gateway.server.plumbing import holder_of
from gateway.server.problems import problem_base
from gateway.ui.pages import problem_page
from gateway.ui.render import page
from gateway.ui.session import check_csrf, check_key, log_in, log_out, read_form, remember_csrf


def safe_next(target: str | None) -> str:
    """Only a path of the board itself (no open redirect to another site)."""
    if not target:
        return "/ui"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui") or "\\" in target:
        return "/ui"
    return target


async def login_page(request: Request) -> Response:
    async with holder_of(request).use() as gen:
        target = safe_next(request.query_params.get("next"))
        if not gen.keys.enabled:
            return RedirectResponse(target, status_code=303)
        context = {"auth_enabled": True, "caller": None, "nav": "login", "fragment": False}
        problem = None
        status = 200
        if request.method == "POST":
            form = await read_form(request)
            target = safe_next(form.get("next"))
            try:
                check_csrf(request, form)
                key = form.get("api_key", "")
                if not key.strip():
                    raise Unauthorized("type the API key you use with the API")
                check_key(gen, key.strip())
            except GatewayError as exc:
                problem, status = exc.problem(problem_base(request)), exc.status
            else:
                done = RedirectResponse(target, status_code=303)
                log_in(request, done, key.strip())
                remember_csrf(request, done)
                return done
        response = page(
            request,
            "login.html",
            {**context, "next": target, "problem": problem},
            status=status,
        )
        remember_csrf(request, response)
        return response


async def logout(request: Request) -> Response:
    form = await read_form(request)
    try:
        check_csrf(request, form)
    except GatewayError as exc:
        return problem_page(request, None, exc)
    response = RedirectResponse("/ui/login", status_code=303)
    log_out(request, response)
    return response
