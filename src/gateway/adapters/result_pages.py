"""Result rows paged to the caller, the same way for every vendor.

A result read answers one page of rows (`page_size`, then the `next_page_token` of the page
before), with the aggregated metrics and artifacts on every page. Vendors that page their own
results (DigitalOcean) are read one vendor page per caller page; vendors whose result is one
body (Llama Stack, Overmind) are sliced here, by row offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import InvalidRequest
from ..schemas import Result

DEFAULT_RESULT_PAGE_SIZE: Final = 50


@dataclass(frozen=True)
class ResultQuery:
    """A canonical result read; `cursor` is the adapter's own paging state (or None)."""

    page_size: int = DEFAULT_RESULT_PAGE_SIZE
    cursor: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ResultPage:
    """One page of a result; `next_cursor` is the adapter's paging state for the next page."""

    result: Result
    next_cursor: dict[str, Any] | None = None


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
