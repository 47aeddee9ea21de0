"""The id handed back is the id asked for (issue 12, item 2), in every adapter: a vendor body
naming another job is a vendor inconsistency (logged once, kept under raw), never a new
identity, and never cached under another id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway import AsyncGateway
from gateway.adapters.base import BackendContext
from gateway.config import config_from_dict
from gateway.ids import JobRef
from gateway.schemas import Job
from gateway.vendors.datarobot_genai import adapter as datarobot_genai
from gateway.vendors.digitalocean_genai import adapter as digitalocean_genai
from gateway.vendors.llama_stack import adapter as llama_stack
from gateway.vendors.nemo_evaluator import v1 as nemo_v1
from gateway.vendors.nemo_evaluator import v2 as nemo_v2
from gateway.vendors.overmind import adapter as overmind

ASKED_UUID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
OTHER_UUID = "00000000-6e1a-4fe4-a799-aa6d9a6ab26e"

# vendor, translator, the parts asked for, a body about another job, that other vendor id
Case = tuple[str, Callable[..., Job], tuple[str, ...], dict[str, Any]]
CASES: list[Case] = [
    (
        "llama-stack",
        llama_stack.to_job,
        ("bench-1", "job-1"),
        {"job_id": "ea", "status": "completed"},
    ),
    ("nemo-evaluator", nemo_v1.to_job, ("eval-ASKED",), {"id": "eval-OTHER", "status": "running"}),
    ("nemo-evaluator", nemo_v2.to_job, ("job-asked",), {"id": "job-other", "status": "active"}),
    (
        "overmind",
        overmind.to_job,
        (ASKED_UUID,),
        {
            "id": OTHER_UUID,
            "status": "running",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "iterations": [],
        },
    ),
    (
        "digitalocean-genai",
        digitalocean_genai.to_job,
        (ASKED_UUID,),
        {"evaluation_run": {"evaluation_run_uuid": OTHER_UUID, "status": "EVALUATION_RUN_QUEUED"}},
    ),
    (
        "datarobot-genai",
        datarobot_genai.to_job,
        ("genai", ASKED_UUID),
        {"statusId": OTHER_UUID, "status": "RUNNING", "code": 0, "created": "2026-01-01T00:00:00Z"},
    ),
]


@pytest.mark.parametrize(("vendor", "to_job", "parts", "body"), CASES)
def test_a_body_naming_another_job_keeps_the_id_asked_for(
    vendor: str,
    to_job: Callable[..., Job],
    parts: tuple[str, ...],
    body: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = BackendContext(backend=f"b-{len(parts)}-{vendor}", vendor=vendor, base_url="http://v")
    asked = JobRef(ctx.backend, parts)
    with caplog.at_level(logging.WARNING, logger="gateway.adapters"):
        job = to_job(ctx, body, asked)
        again = to_job(ctx, body, asked)
    assert job.id == again.id == str(asked)
    assert job.vendor_job_id == parts[-1]
    assert job.raw == body  # the vendor's word stays visible
    assert all(link.href.find(parts[-1]) > 0 for link in job.links if link.rel == "self")
    warnings = [r for r in caplog.records if "kept the id asked for" in r.getMessage()]
    assert len(warnings) == 1  # logged once


def test_results_keep_the_id_asked_for_too() -> None:
    ctx = BackendContext(backend="om", vendor="overmind", base_url="http://v")
    body = dict(CASES[3][3], status="completed")
    assert overmind.to_result(ctx, body, JobRef("om", (ASKED_UUID,))).job_id == f"om~{ASKED_UUID}"
    do_ctx = BackendContext(backend="do", vendor="digitalocean-genai", base_url="http://v")
    page = {"evaluation_run": {"evaluation_run_uuid": OTHER_UUID}, "prompts": []}
    result = digitalocean_genai.to_result(do_ctx, page, JobRef("do", (ASKED_UUID,)))
    assert result.job_id == f"do~{ASKED_UUID}"


async def test_the_gateway_answers_and_caches_under_the_id_asked_for() -> None:
    # Seen on a real Llama Stack: asked ls~bench-1~job-1, answered {"job_id": "ea", ...}.
    calls: list[str] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"job_id": "ea", "status": "completed"})

    config = config_from_dict(
        {"backends": {"ls": {"vendor": "llama-stack", "base_url": "http://ls.test"}}}
    )
    async with AsyncGateway(config, transports={"ls": httpx.MockTransport(vendor)}) as gw:
        job = await gw.get_job("ls~bench-1~job-1", include_raw=True)
        assert job.id == "ls~bench-1~job-1" and job.vendor_job_id == "job-1"
        assert job.raw == {"job_id": "ea", "status": "completed"}
        cached = await gw.get_job("ls~bench-1~job-1")  # a terminal job: from the cache
        assert cached.id == "ls~bench-1~job-1" and len(calls) == 1
        other = await gw.get_job("ls~bench-1~ea")  # never cached under the body's id
        assert other.id == "ls~bench-1~ea" and len(calls) == 2
