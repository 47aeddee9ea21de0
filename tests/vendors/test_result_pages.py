"""Result rows are paged to the caller (issue 12, item 1): a cursor over the vendor's pages for
DigitalOcean, row offsets over one body for Llama Stack and Overmind; the walk stops on
evidence, never on what a vendor page count claims, and every read is a bounded number of
vendor calls."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import AsyncGateway
from gateway.adapters.base import BackendContext
from gateway.config import config_from_dict
from gateway.contract import ResultQuery
from gateway.errors import InvalidRequest
from gateway.ids import JobRef
from gateway.vendors.digitalocean_genai.adapter import DigitalOceanAdapter

FIXTURES = Path(__file__).parent / "digitalocean_genai" / "fixtures"
RUN = "9758a232-b351-11ef-bf8f-4e013e2ddde4"
CASE = "11efb7d6-cdb5-6388-bf8f-4e013e2ddde4"
RESULTS = f"/v2/gen-ai/evaluation_runs/{RUN}/results"
CASE_PATH = f"/v2/gen-ai/evaluation_test_cases/{CASE}"
CTX = BackendContext(backend="do", vendor="digitalocean-genai", base_url="https://do.test")


def results_page(number: int, prompt_ids: list[int], *, pages: int = 10**15) -> dict[str, Any]:
    """A successful run's results page that claims an absurd (schema-valid) page count."""
    page = json.loads(
        (FIXTURES / "get_evaluation_run_results.successful.constructed.json").read_text()
    )
    template = page["prompts"][0]
    page["prompts"] = [{**copy.deepcopy(template), "prompt_id": n} for n in prompt_ids]
    page["meta"] = {"page": number, "pages": pages, "total": pages * 2}
    return page


class Vendor:
    """A scripted DigitalOcean: `pages(number, per_page)` answers the results; every call is
    counted."""

    def __init__(self, pages: Any, row_count: int | None = None) -> None:
        self.pages = pages
        self.row_count = row_count
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if request.url.path == RESULTS:
            number = int(request.url.params["page"])
            return httpx.Response(200, json=self.pages(number, int(request.url.params["per_page"])))
        if request.url.path == CASE_PATH and self.row_count is not None:
            case = {"test_case_uuid": CASE, "dataset": {"row_count": self.row_count}}
            return httpx.Response(200, json={"evaluation_test_case": case})
        return httpx.Response(404, json={"id": "not_found", "message": "nope"})

    def adapter(self) -> DigitalOceanAdapter:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self), base_url=CTX.base_url)
        return DigitalOceanAdapter(CTX, client)


async def walk(adapter: DigitalOceanAdapter, page_size: int, most: int = 50) -> list[list[int]]:
    """The row ids of every page until the adapter says there is no next one."""
    seen: list[list[int]] = []
    cursor = None
    for _ in range(most):
        page = await adapter.get_result_page(JobRef("do", (RUN,)), ResultQuery(page_size, cursor))
        seen.append([int(row.id or -1) for row in page.result.rows])
        assert page.result.metrics, "the aggregated metrics are on every page"
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the walk did not stop")


async def test_a_repeated_page_ends_the_walk() -> None:
    # The vendor answers the same full page whatever page is asked for, claiming 1e15 pages.
    vendor = Vendor(lambda number, per_page: results_page(number, [1, 2]))
    assert await walk(vendor.adapter(), 2) == [[1, 2], []]


async def test_the_test_cases_row_count_ends_the_walk() -> None:
    # Ever-new full pages and 1e15 claimed pages: the run's dataset has 5 rows, so 5 it is.
    vendor = Vendor(
        lambda number, per_page: results_page(number, [number * 10 + i for i in range(per_page)]),
        row_count=5,
    )
    assert await walk(vendor.adapter(), 2) == [[10, 11], [20, 21], [30]]
    assert vendor.calls.count(CASE_PATH) == 1  # read once, carried in the cursor


async def test_a_short_or_empty_page_ends_the_walk() -> None:
    short = Vendor(lambda number, per_page: results_page(number, [1, 2] if number == 1 else [3]))
    assert await walk(short.adapter(), 2) == [[1, 2], [3]]
    empty = Vendor(lambda number, per_page: results_page(number, [1, 2] if number == 1 else []))
    assert await walk(empty.adapter(), 2) == [[1, 2], []]


async def test_meta_total_bounds_the_rows() -> None:
    def pages(number: int, per_page: int) -> dict[str, Any]:
        page = results_page(number, [number * 10, number * 10 + 1])
        page["meta"]["total"] = 3
        return page

    assert await walk(Vendor(pages).adapter(), 2) == [[10, 11], [20]]


async def test_row_indexes_continue_across_pages() -> None:
    vendor = Vendor(lambda n, per_page: results_page(n, [n * 10, n * 10 + 1]), row_count=4)
    adapter = vendor.adapter()
    first = await adapter.get_result_page(JobRef("do", (RUN,)), ResultQuery(2))
    second = await adapter.get_result_page(JobRef("do", (RUN,)), ResultQuery(2, first.next_cursor))
    assert [r.index for r in first.result.rows + second.result.rows] == [0, 1, 2, 3]
    assert second.next_cursor is None


def gateway_for(vendor: Vendor, total: float = 5.0) -> AsyncGateway:
    config = config_from_dict(
        {
            "backends": {
                "do": {
                    "vendor": "digitalocean-genai",
                    "base_url": "https://do.test",
                    "api_key": "${DO_KEY}",
                    "timeouts": {"total": total},
                }
            }
        },
        env={"DO_KEY": "do-test-key-123"},
    )
    return AsyncGateway(config, transports={"do": httpx.MockTransport(vendor)})


async def test_a_result_read_of_an_absurd_page_count_answers_at_once() -> None:
    # Issue 12: `meta.pages` around 1e15 made one read walk up to 500 pages or 60 s.
    vendor = Vendor(lambda n, per_page: results_page(n, list(range(n * 100, n * 100 + per_page))))
    async with gateway_for(vendor) as gw:
        started = time.monotonic()
        result = await gw.get_result(f"do~{RUN}", page_size=20)
        assert time.monotonic() - started < 2.0
        assert len(result.rows) == 20 and result.next_page_token is not None
        assert vendor.calls.count(RESULTS) == 1
        following = await gw.get_result(
            f"do~{RUN}", page_size=20, page_token=result.next_page_token
        )
        assert [r.index for r in following.rows][:1] == [20]
        assert vendor.calls.count(RESULTS) == 2


async def test_a_page_token_pages_only_the_result_it_came_from() -> None:
    vendor = Vendor(lambda n, per_page: results_page(n, list(range(n * 10, n * 10 + per_page))))
    async with gateway_for(vendor) as gw:
        token = (await gw.get_result(f"do~{RUN}", page_size=2)).next_page_token
        assert token is not None
        other = "9758a232-b351-11ef-bf8f-000000000000"
        with pytest.raises(InvalidRequest, match="not a page of this job's result"):
            await gw.get_result(f"do~{other}", page_token=token)
        with pytest.raises(InvalidRequest):
            await gw.list_jobs("do", page_token=token)


async def test_in_memory_results_are_paged_the_same_way() -> None:
    # Llama Stack's builtin result is one body of 3 rows; Overmind's rows are iterations.
    async with AsyncGateway() as gw:
        job_id = (
            "ls-sim~basic-qa~"
            + (
                await gw.submit(
                    "ls-sim",
                    {"evaluation": "basic-qa", "targets": [{"model": "m"}], "max_tokens": 8},
                )
            )
            .jobs[0]
            .vendor_job_id
        )
        first = await gw.get_result(job_id, page_size=2)
        assert [r.index for r in first.rows] == [0, 1] and first.next_page_token
        second = await gw.get_result(job_id, page_size=2, page_token=first.next_page_token)
        assert [r.index for r in second.rows] == [2] and second.next_page_token is None
        assert first.metrics == second.metrics and first.metrics
