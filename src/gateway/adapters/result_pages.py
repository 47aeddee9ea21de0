"""Result rows paged to the caller, the same way for every vendor.

A result read answers one page of rows (`page_size`, then the `next_page_token` of the page
before), with the aggregated metrics and artifacts on every page. Vendors that page their own
results (DigitalOcean) are read one vendor page per caller page; vendors whose result is one
body (Llama Stack, Overmind) are sliced here, by row offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.contract import ResultPage, ResultQuery
from gateway.errors import InvalidRequest
from gateway.schemas import Result


def cursor_int(
    cursor: Mapping[str, Any], key: str, *, minimum: int = 0, maximum: int | None = None
) -> int:
    """An integer of a cursor the gateway issued; anything else is a foreign token."""
    value = cursor.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        raise InvalidRequest("page_token does not belong to this result")
    return value


def page_rows(result: Result, query: ResultQuery) -> ResultPage:
    """The page of an in-memory result at the cursor's row offset."""
    offset = cursor_int(query.cursor, "offset") if query.cursor is not None else 0
    end = offset + max(1, query.page_size)
    page = result.model_copy(update={"rows": result.rows[offset:end]})
    return ResultPage(page, {"offset": end} if end < len(result.rows) else None)
