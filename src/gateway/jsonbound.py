"""JSON decoding with a bound on nesting depth.

`json.loads` recurses once per level: a small body nested a few thousand levels deep raises
RecursionError (not ValueError), and one nested a few hundred deep still reaches pydantic and
the serializers. Every body the gateway reads from a caller or a vendor is decoded here, so a
too-deep document is a ValueError like any other unreadable JSON, which each caller already
turns into its typed problem (invalid-request, upstream-invalid-response).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64  # far beyond any documented body, far below the interpreter's stack

# A JSON string (escapes included): its brackets are text, not structure.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")


class JSONTooDeep(ValueError):
    """The document nests arrays/objects deeper than the bound."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested more than {limit} levels deep")
        self.limit = limit


def nested_deeper_than(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text `raw` nests brackets more than `limit` levels deep.

    Cheap for ordinary documents: fewer opening brackets than `limit` cannot be too deep, and
    otherwise each pass (in C, by `re`) strips the innermost empty pairs, so the passes are the
    depth, at most `limit + 1`. Malformed bracketing is left for the JSON decoder to report.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    shape = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    for _ in range(limit):
        shorter = _EMPTY_PAIR.sub(b"", shape)
        if not shorter or len(shorter) == len(shape):
            return False
        shape = shorter
    return True


def loads(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, raising JSONTooDeep (a ValueError) past `limit` levels of nesting."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if nested_deeper_than(data, limit):
        raise JSONTooDeep(limit)
    try:
        return json.loads(raw)
    except RecursionError:  # badly bracketed and deep ("[[[...}"): the check left it to us
        raise JSONTooDeep(limit) from None
