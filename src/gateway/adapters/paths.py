"""Vendor identifiers in URL paths: escaped, and refused where no escaping is safe.

A vendor's router decodes `%2F` back into `/` before it routes (uvicorn/Starlette, FastAPI,
Django and most proxies do), so an id holding `/` would address another path, not the job:
a Llama Stack benchmark `a/b` asks for `/benchmarks/a/b/jobs/...`, a route that does not
exist (and the vendor's 404 says nothing about the job). Dot segments (`.`, `..`) are
normalized away by clients and servers alike, and some servers treat `\\` as `/`. None of
these can name a vendor job, so they are the caller's mistake (invalid-request), refused
before any vendor is asked; adapters percent-encode everything else.
"""

from __future__ import annotations

from urllib.parse import unquote

from gateway.errors import InvalidRequest

_SEPARATORS = ("/", "\\")
_DOT_SEGMENTS = frozenset({".", ".."})
_WHY = "it holds '/' or '\\', or is a dot segment, which no vendor route can carry"


def _unsafe(value: str) -> bool:
    return value in _DOT_SEGMENTS or any(sep in value for sep in _SEPARATORS)


def check_vendor_path(path: str) -> None:
    """Refuse a request path in which an escaped identifier would not stay one segment.

    Adapters build paths with `quote(id, safe='')`; this runs on every vendor call
    (`Adapter.call`), so no adapter can send such an id, whichever path it builds."""
    for raw in path.split("?", 1)[0].split("/"):
        if raw and ("%" in raw or raw in _DOT_SEGMENTS) and _unsafe(unquote(raw)):
            raise InvalidRequest(
                f"the identifier {unquote(raw)[:100]!r} cannot be sent to the vendor: {_WHY}"
            )
