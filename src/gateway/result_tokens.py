"""Result pages through the core: page tokens bound to one job's result, and cache keys.

A result's `next_page_token` carries the adapter's cursor, the backend (as every page token)
and the job id: a token of one job's result cannot page another's, nor a job list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.adapters.base import Adapter
from gateway.contract import DEFAULT_RESULT_PAGE_SIZE, ResultQuery
from gateway.errors import InvalidRequest
from gateway.ids import JobRef
from gateway.paging import check_page_size, decode_page_token, encode_page_token
from gateway.schemas import Result

__all__ = [
    "DEFAULT_RESULT_PAGE_SIZE",
    "decode_result_token",
    "encode_result_token",
    "read_result_page",
    "result_cache_key",
    "result_query",
]


def encode_result_token(backend: str, job_id: str, cursor: Mapping[str, Any]) -> str:
    return encode_page_token(backend, {"result_of": job_id, "at": dict(cursor)})


def decode_result_token(backend: str, job_id: str, token: str | None) -> dict[str, Any] | None:
    """The adapter cursor in a result token; a list token or another job's is refused."""
    wrapped = decode_page_token(backend, token)
    if wrapped is None:
        return None
    cursor = wrapped.get("at")
    if wrapped.get("result_of") != job_id or not isinstance(cursor, dict):
        raise InvalidRequest(
            "page_token is not a page of this job's result", backend=backend, job_id=job_id
        )
    return cursor


def result_query(backend: str, job_id: str, page_size: int, token: str | None) -> ResultQuery:
    return ResultQuery(
        page_size=check_page_size(page_size), cursor=decode_result_token(backend, job_id, token)
    )


def result_cache_key(job_id: str, page_size: int, token: str | None) -> str:
    """The first page at the default size is cached under the job id itself (what a cancel
    invalidates); other pages under the job id and their query."""
    if page_size == DEFAULT_RESULT_PAGE_SIZE and not token:
        return job_id
    return f"{job_id}?page_size={page_size}&page_token={token or ''}"


async def read_result_page(
    adapter: Adapter, backend: str, ref: JobRef, job_id: str, query: ResultQuery
) -> Result:
    """One page of the result from the adapter, with the token of the next page."""
    page = await adapter.get_result_page(ref, query)
    token = encode_result_token(backend, job_id, page.next_cursor) if page.next_cursor else None
    return page.result.model_copy(update={"next_page_token": token})
