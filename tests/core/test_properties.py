"""Whatever a vendor sends, every adapter answers with canonical objects or a typed problem.

Hypothesis plays the vendor: any JSON body (or garbage bytes) with any status code, through
the real adapter code path. The only acceptable outcomes are a canonical object or a
GatewayError subclass — never a KeyError, TypeError or validation error leaking out.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import GatewayError, Job, Result
from gateway.adapters import Adapter, BackendContext, adapter_class
from gateway.contract import ListedJobs, ListQuery
from gateway.ids import JobRef

ADAPTERS = [
    ("llama-stack", None, ("mmlu", "0")),
    ("nemo-evaluator", "v1", ("eval-1",)),
    ("nemo-evaluator", "v2", ("job-1",)),
    ("overmind", None, ("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",)),
    ("digitalocean-genai", None, ("9758a232-b351-11ef-bf8f-4e013e2ddde4",)),
    ("datarobot-genai", None, ("genai", "e900225c-0629-4e96-be6e-86a17a309645")),
    ("datarobot-genai", None, ("classic", "5f2b9a0c8e1d4a0012345678")),
]
IDS = [f"{v}-{a or ''}-{p[0]}" for v, a, p in ADAPTERS]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=25,
)
# Bodies shaped like the vendors' own, with random values: reaches deeper than pure noise.
vendor_keys = st.sampled_from(
    [
        "job_id",
        "status",
        "id",
        "evaluation_run",
        "statusId",
        "code",
        "message",
        "created",
        "status_details",
        "progress",
        "tasks",
        "groups",
        "scores",
        "generations",
        "results",
        "data",
        "pagination",
        "prompts",
        "meta",
        "links",
        "iterations",
        "best_score",
        "count",
        "next",
        "detail",
        "error",
        "star_metric_result",
        "run_level_metric_results",
        "spec",
        "error_details",
        "created_at",
        "updated_at",
        "queued_at",
        "finished_at",
        "metrics",
    ]
)
shaped = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(vendor_keys, inner, max_size=8),
    max_leaves=30,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)
statuses = st.sampled_from([200, 200, 200, 204, 303, 307, 400, 401, 404, 409, 422, 429, 500, 503])
headers = st.dictionaries(
    st.sampled_from(["retry-after", "ratelimit-reset", "location", "retry-after-ms"]),
    st.text(alphabet="0123456789:/ -TZabc.", max_size=30),
    max_size=2,
)


def adapter_for(
    vendor: str, version: str | None, status: int, body: bytes, hdrs: dict[str, str]
) -> Adapter:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=hdrs)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://vendor")
    ctx = BackendContext(backend="b", vendor=vendor, api_version=version, base_url="http://vendor")
    return adapter_class(vendor, version)(ctx, http)


async def outcome(call: Any) -> object:
    try:
        return await call
    except GatewayError as exc:
        exc.problem()  # and it renders
        return exc


@pytest.mark.parametrize(("vendor", "version", "parts"), ADAPTERS, ids=IDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=statuses, body=bodies, hdrs=headers)
async def test_any_vendor_answer_gives_canonical_objects_or_a_problem(
    vendor: str,
    version: str | None,
    parts: tuple[str, ...],
    status: int,
    body: bytes,
    hdrs: dict[str, str],
) -> None:
    adapter = adapter_for(vendor, version, status, body, hdrs)
    ref = JobRef("b", parts)
    job = await outcome(adapter.get_job(ref))
    assert isinstance(job, Job | GatewayError)
    if isinstance(job, Job):
        assert job.backend == "b" and job.vendor == vendor
        assert job.terminal is job.status.terminal
    result = await outcome(adapter.get_result(ref))
    assert isinstance(result, Result | GatewayError)
    cancelled = await outcome(adapter.cancel_job(ref))
    assert isinstance(cancelled, Job | GatewayError)
    listed = await outcome(adapter.list_jobs(ListQuery(page_size=10)))
    assert isinstance(listed, ListedJobs | GatewayError)
    await adapter.http.aclose()
