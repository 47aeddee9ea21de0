"""The board's routes under /ui: overview, jobs table, job page, compare, login and cancel.

Each page takes the config generation once, finds the caller from the key cookie (or sends
the browser to the login form), and renders a template. `?fragment=live` renders only the
part of a page that the page's script swaps in while polling. A GatewayError anywhere is shown
as its problem details (title, detail, what to do), with the problem's own HTTP status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.contract import Operation
from gateway.errors import GatewayError, InternalError, Unauthorized
from gateway.ids import parse_job_id
from gateway.server.auth import Caller
from gateway.server.holder import Generation
from gateway.server.plumbing import holder_of, upstream
from gateway.server.problems import problem_base, request_id_of
from gateway.ui import detail, listing
from gateway.ui.charts import Series
from gateway.ui.freshen import freshen
from gateway.ui.render import page
from gateway.ui.session import LoginRequired, caller_of, check_csrf, read_form, remember_csrf

log = logging.getLogger("gateway.ui")
Build = Callable[[Request, Generation, Caller], Awaitable[Response]]
LIVE_INTERVAL_MS = {"overview": 5000, "jobs": 3000, "job": 1500}


def common(request: Request, gen: Generation, caller: Caller, nav: str) -> dict[str, Any]:
    return {
        "auth_enabled": gen.keys.enabled,
        "caller": caller.name,
        "nav": nav,
        "fragment": request.query_params.get("fragment") == "live",
        "interval": LIVE_INTERVAL_MS.get(nav, 5000),
        "now": datetime.now(UTC),
    }


def problem_page(request: Request, gen: Generation | None, exc: GatewayError) -> Response:
    problem = exc.problem(problem_base(request)).model_copy(
        update={"request_id": request_id_of(request), "instance": request.url.path[:512]}
    )
    kind = exc.problem_type
    context = {
        "problem": problem,
        "what_to_do": kind.explanation,
        "auth_enabled": gen.keys.enabled if gen else False,
        "caller": None,
        "nav": "",
        "fragment": request.query_params.get("fragment") == "live",
    }
    return page(request, "problem.html", context, status=problem.status)


async def serve_page(request: Request, build: Build) -> Response:
    async with holder_of(request).use() as gen:
        try:
            caller = caller_of(request, gen)
        except LoginRequired:
            if request.query_params.get("fragment"):
                response = problem_page(
                    request, gen, Unauthorized("log in again: the board has no valid key for you")
                )
            else:
                target = quote(str(request.url.path) + _query(request), safe="")
                response = RedirectResponse(f"/ui/login?next={target}", status_code=303)
        else:
            try:
                response = await build(request, gen, caller)
            except GatewayError as exc:
                response = problem_page(request, gen, exc)
            except Exception:
                log.exception("bug rendering %s", request.url.path)
                response = problem_page(
                    request, gen, InternalError("the board hit an unexpected error")
                )
        remember_csrf(request, response)
        return response


def _polled(request: Request) -> bool:
    """A live poll of an open page (not its first load, which stays a ledger read only)."""
    return request.query_params.get("fragment") == "live"


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


# -- pages ------------------------------------------------------------------------------------


async def _overview(request: Request, gen: Generation, caller: Caller) -> Response:
    view = await listing.overview(gen, holder_of(request), caller)
    if _polled(request):
        view = replace(view, running=await freshen(gen, caller, view.running))
    return page(request, "overview.html", {**common(request, gen, caller, "overview"), "v": view})


async def _jobs(request: Request, gen: Generation, caller: Caller) -> Response:
    wanted = listing.parse_filter(request.query_params, gen)
    table = await listing.jobs_table(gen, caller, wanted)
    if _polled(request):
        table.page.items = await freshen(gen, caller, table.page.items)
    context = {
        **common(request, gen, caller, "jobs"),
        "t": table,
        "statuses": listing.STATUSES,
        "sorts": listing.SORTS,
        "page_sizes": listing.PAGE_SIZES,
    }
    return page(request, "jobs.html", context)


def _int(request: Request, name: str, default: int = 1) -> int:
    try:
        return int(request.query_params.get(name) or default)
    except ValueError:
        return default


async def _job(request: Request, gen: Generation, caller: Caller) -> Response:
    job_id: str = request.path_params["job_id"]
    view = await detail.job_page(
        request,
        gen,
        caller,
        job_id,
        rows_page=_int(request, "rows_page"),
        rows_token=request.query_params.get("rows_token") or None,
        rows_per_page=_int(request, "rows_per_page", detail.ROWS_PER_PAGE),
        raw=request.query_params.get("raw") == "1",
    )
    context = {
        **common(request, gen, caller, "job"),
        "j": view,
        "cancelled": request.query_params.get("cancelled") == "1",
    }
    return page(request, "job.html", context)


async def _cancel_form(request: Request, gen: Generation, caller: Caller) -> Response:
    job_id: str = request.path_params["job_id"]
    view = await detail.job_page(request, gen, caller, job_id, with_result=False)
    return page(request, "cancel.html", {**common(request, gen, caller, "job"), "j": view})


async def _cancel(request: Request, gen: Generation, caller: Caller) -> Response:
    job_id: str = request.path_params["job_id"]
    check_csrf(request, await read_form(request))
    backend = parse_job_id(job_id).backend
    caller.check(gen.config, backend)
    await upstream(
        request,
        gen,
        backend,
        Operation.CANCEL,
        lambda: gen.gateway.cancel_job(job_id, tenant=caller.name),
    )
    return RedirectResponse(f"/ui/jobs/{quote(job_id, safe='')}?cancelled=1", status_code=303)


async def _compare(request: Request, gen: Generation, caller: Caller) -> Response:
    picked = [j.strip() for j in request.query_params.getlist("job") if j.strip()]
    shown = await detail.compare(request, gen, caller, picked)
    series = [Series(c.label, c.metrics) for c in shown]
    context = {
        **common(request, gen, caller, "compare"),
        "shown": shown,
        "series": series,
        "max_compared": detail.MAX_COMPARED,
    }
    return page(request, "compare.html", context)


async def overview_page(request: Request) -> Response:
    return await serve_page(request, _overview)


async def jobs_page(request: Request) -> Response:
    return await serve_page(request, _jobs)


async def job_page(request: Request) -> Response:
    return await serve_page(request, _job)


async def cancel_page(request: Request) -> Response:
    if request.method == "POST":
        return await serve_page(request, _cancel)
    return await serve_page(request, _cancel_form)


async def compare_page(request: Request) -> Response:
    return await serve_page(request, _compare)
