"""DataRobot paths, job references and error bodies: the adapter's small pure helpers."""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import quote, urljoin, urlsplit

from gateway import jsonbound
from gateway.adapters.base import BackendContext
from gateway.adapters.wire import dig, integer, items, obj, text
from gateway.errors import InvalidRequest
from gateway.ids import JobRef
from gateway.schemas import FieldError

GENAI: Final = "genai"
CLASSIC: Final = "classic"
KINDS: Final = (GENAI, CLASSIC)
API_PREFIX: Final = "/api/v2"
# Paths under API_PREFIX: the two status services (a status id and "/" follow) and the
# metric aggregations a submission starts.
GENAI_STATUS: Final = "/genai/status/"
CLASSIC_STATUS: Final = "/status/"
AGGREGATIONS: Final = "/genai/evaluationDatasetMetricAggregations/"


def api_path(ctx: BackendContext, rest: str) -> str:
    """`rest` under /api/v2, unless the backend's base URL already ends there."""
    base_path = urlsplit(ctx.base_url).path.rstrip("/")
    return rest if base_path.endswith(API_PREFIX) else f"{API_PREFIX}{rest}"


def status_path(ctx: BackendContext, kind: str, status_id: str) -> str:
    # The trailing slash is load-bearing: the client parses ids as `location.split("/")[-2]`.
    segment = quote(status_id, safe="")
    return api_path(ctx, f"{GENAI_STATUS if kind == GENAI else CLASSIC_STATUS}{segment}/")


def parse_ref(ref: JobRef) -> tuple[str, str]:
    """(kind, status_id) of a job reference; anything else is the caller's mistake."""
    if len(ref.parts) != 2:
        raise InvalidRequest("a datarobot-genai job id is '<backend>~<kind>~<status id>'")
    kind, status_id = ref.parts
    return check_kind(kind), _check_status_id(status_id)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidRequest(f"job id kind {kind!r} is not one of: {', '.join(KINDS)}")
    return kind


def _check_status_id(status_id: str) -> str:
    # '.' and '..' would be resolved as path segments and reach another endpoint.
    if status_id in (".", ".."):
        raise InvalidRequest(f"{status_id!r} is not a DataRobot status id")
    return status_id


def field_errors(body: Any) -> list[FieldError]:
    """Field errors of FastAPI `{"detail": [{loc, msg, type}]}` or classic `{"message":
    {field: msg}}` bodies (empty for any other shape)."""
    found: list[FieldError] = []
    for entry in items(dig(body, "detail")):
        msg = text(dig(entry, "msg"))
        if msg is None:
            continue
        loc = [part for part in items(dig(entry, "loc")) if _is_loc_part(part)]
        found.append(FieldError(loc=loc, msg=msg, type=text(dig(entry, "type"))))
    for field, value in obj(dig(body, "message")).items():
        msg = text(value) or json.dumps(value, default=str)[:300]
        found.append(FieldError(loc=[field], msg=msg))
    return found


def resolve_location(request_url: str, location: str | None) -> str | None:
    """An absolute http(s) URL for a `Location` header (relative ones resolve against the
    request's URL), or None when there is none."""
    if location is None or not location.strip():
        return None
    href = urljoin(request_url, location.strip())
    return href if urlsplit(href).scheme in ("http", "https") else None


def _is_loc_part(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def cursor_offset(cursor: Any) -> int:
    """The list offset kept in a page cursor (`{"offset": n}`; none: the first page)."""
    if cursor is None:
        return 0
    offset = integer(dig(cursor, "offset"))
    if offset is None or offset < 0:
        raise InvalidRequest("the page token does not belong to this datarobot-genai backend")
    return offset


def json_or_none(content: bytes) -> Any:
    """An error answer's body as JSON, or None when it is empty or not JSON."""
    try:
        return jsonbound.loads(content) if content.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
