"""Overmind simulator HTTP pieces shared by its routes: Django REST Framework's answers,
its JSON parser and serializer checks, page-number paging, filtering and ordering."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway import jsonbound
from gateway.simulators.engine import SimState
from gateway.vendors.overmind.sim.forms import Check, Errors, check_body, not_a_dict

DEFAULT_PAGE_SIZE = 20  # unknown for the real service (API.md: "Default page size unknown")
MAX_PAGE_SIZE = 100
SELECT_VALID = "Select a valid choice. That choice is not one of the available choices."
View = Callable[[Request], Awaitable[Response]]


def sim_state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def detail(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """DRF's error body for its own exceptions (401, 403, 404, 405, 429...)."""
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def field_errors(errors: Errors) -> Response:
    """DRF's 400 for validation errors: `{"<field>": ["msg", ...]}`."""
    return JSONResponse(errors, status_code=400)


def not_allowed(method: str, allowed: Sequence[str]) -> Response:
    return detail(
        405, f'Method "{method}" not allowed.', headers={"Allow": ", ".join([*allowed, "HEAD"])}
    )


async def collection(request: Request, list_view: View, create_view: View) -> Response:
    """A DRF list route: GET lists, POST creates, anything else is a 405."""
    if request.method in ("GET", "HEAD"):
        return await list_view(request)
    if request.method == "POST":
        return await create_view(request)
    return not_allowed(request.method, ["GET", "POST"])


def item_method_refused(method: str) -> Response | None:
    """DRF's 405 for a detail route (GET, PATCH, DELETE); None for those."""
    if method in ("GET", "HEAD", "PATCH", "DELETE"):
        return None
    return not_allowed(method, ["GET", "PATCH", "DELETE"])


async def checked_body(
    request: Request,
    fields: Mapping[str, Check],
    required: tuple[str, ...] = (),
    more_errors: Callable[[dict[str, Any]], Errors] | None = None,
) -> dict[str, Any] | Response:
    """The body's writable fields as the serializer stores them, or DRF's 400 (415) answer;
    `more_errors` adds the checks that need the simulator's state (foreign keys)."""
    body = await read_object(request)
    if isinstance(body, Response):
        return body
    clean, errors = check_body(body, fields, required)
    if more_errors is not None:
        errors.update(more_errors(clean))
    return field_errors(errors) if errors else clean


async def read_object(request: Request) -> dict[str, Any] | Response:
    """The JSON object body (DRF's JSONParser), or DRF's 400/415 answer."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "application/json")
    if not raw.strip():
        return {}
    if not content_type.startswith("application/json"):
        return detail(415, f'Unsupported media type "{content_type}" in request.')
    try:
        body = jsonbound.loads(raw)
    except ValueError as exc:
        return detail(400, f"JSON parse error - {exc}")
    return body if isinstance(body, dict) else field_errors(not_a_dict(body))


def page_of(request: Request, rows: list[dict[str, Any]]) -> Response:
    """A DRF PageNumberPagination answer (`page`, `page_size`, `last`) with absolute
    `next`/`previous` links; 404 "Invalid page." for a page that does not exist."""
    size = _page_size(request.query_params.get("page_size"))
    pages = max(1, math.ceil(len(rows) / size))
    raw = request.query_params.get("page", "1")
    number = pages if raw == "last" else _int(raw)
    if number is None or number < 1 or number > pages:
        return detail(404, "Invalid page.")

    def link(page: int) -> str:
        query = dict(request.query_params)
        if page == 1:
            query.pop("page", None)  # DRF drops `page` for the first page
        else:
            query["page"] = str(page)
        base = str(request.url.replace(query=""))
        encoded = urlencode(sorted(query.items()))  # DRF's replace_query_param sorts
        return f"{base}?{encoded}" if encoded else base

    return JSONResponse(
        {
            "count": len(rows),
            "next": link(number + 1) if number < pages else None,
            "previous": link(number - 1) if number > 1 else None,
            "results": rows[(number - 1) * size : number * size],
        }
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _page_size(value: str | None) -> int:
    size = _int(value)
    return min(size, MAX_PAGE_SIZE) if size is not None and size > 0 else DEFAULT_PAGE_SIZE


def ordered(
    rows: list[dict[str, Any]], ordering: str | None, allowed: tuple[str, ...], default: str
) -> list[dict[str, Any]]:
    """DRF OrderingFilter: comma-separated fields, `-` for descending; fields outside the
    view's `ordering_fields` are ignored. Ties keep the id order, nulls sort last."""
    fields = [f.strip() for f in (ordering or "").split(",") if f.strip()]
    usable = [f for f in fields if f.lstrip("-") in allowed] or [default]
    rows = sorted(rows, key=lambda r: str(r.get("id")))
    for field in reversed(usable):
        name = field.lstrip("-")
        present = [r for r in rows if r.get(name) is not None]
        missing = [r for r in rows if r.get(name) is None]
        present.sort(key=lambda r: r[name], reverse=field.startswith("-"))
        rows = present + missing
    return rows


def matches(
    row: Mapping[str, Any],
    query: Mapping[str, str],
    exact: tuple[str, ...],
    searched: tuple[str, ...],
    score: str,
) -> bool:
    """django-filter's exact filters, DRF's SearchFilter (case-insensitive, over `searched`)
    and the score_min/score_max range on `score`."""
    for name in exact:
        if query.get(name) and str(row.get(name)) != query[name]:
            return False
    if query.get("search"):
        haystack = " ".join(str(row.get(name) or "") for name in searched)
        if query["search"].casefold() not in haystack.casefold():
            return False
    return in_score_range(row.get(score), query.get("score_min"), query.get("score_max"))


def in_score_range(score: Any, low: str | None, high: str | None) -> bool:
    """django-filter's score_min/score_max (already checked to be numbers)."""
    if not low and not high:
        return True
    if not isinstance(score, int | float):
        return False
    return (not low or score >= float(low)) and (not high or score <= float(high))
