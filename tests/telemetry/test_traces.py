"""OpenTelemetry traces through the real proxy, in front of a simulated vendor on loopback
(the aiohttp engine real vendors get): the span tree of one read with one retry, the caller's
traceparent as parent, the traceparent each vendor attempt sends, no secret on any span, and
nothing traced (nor the OTel side of gateway.telemetry imported) when tracing is off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import config_from_dict
from gateway.server.app import create_app
from gateway.simulators import Fault, SimState, Stage, vendor_sim
from gateway.simulators import create_app as create_sim
from tests.support.servers import serve_in_thread

VENDOR_KEY = "sk-otel-vendor-credential-0123456789"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
CALLER_TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$")


class HeaderRecorder:
    """Wraps the vendor simulator: the headers of every vendor API request it receives."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_sim"):
            self.seen.append({k.decode().lower(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


Vendor = tuple[str, SimState, HeaderRecorder]


@pytest.fixture(scope="module")
def vendor() -> Iterator[Vendor]:
    sim = create_sim("llama-stack", api_key=VENDOR_KEY)
    recorder = HeaderRecorder(sim)
    with serve_in_thread(recorder) as url:
        yield url, sim.state.sim, recorder


def gateway_config(url: str, *, tracing: bool) -> dict[str, Any]:
    return {
        "backends": {
            "ls": {
                "vendor": "llama-stack",
                "base_url": url,
                "api_key": "${OTEL_TEST_VENDOR_KEY}",
                "retry": {"backoff_initial": 0.01, "backoff_max": 0.02, "deadline": 5},
            }
        },
        "telemetry": {"enabled": tracing},
        "server": {"reload": {"watch": False}},
        "ledger": {"enabled": False},
    }


async def read_through_proxy(
    url: str, state: SimState, *, tracing: bool, faults: int, headers: dict[str, str]
) -> tuple[str, httpx.Response]:
    sim = vendor_sim("llama-stack")
    job = sim.new_job(state, [Stage("in_progress")], {})
    for _ in range(faults):
        state.arm(Fault("server_error", status=503, retry_after=None))
    config = config_from_dict(
        gateway_config(url, tracing=tracing), env={"OTEL_TEST_VENDOR_KEY": VENDOR_KEY}
    )
    app = create_app(config)
    job_id = app.state.holder.current.gateway.job_id("ls", *sim.id_parts(job))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            answer = await client.get(f"/v1/jobs/{job_id}", headers=headers)
    finally:
        await app.state.holder.aclose()
    return job_id, answer


def one(spans: list[ReadableSpan], kind: SpanKind) -> ReadableSpan:
    found = [s for s in spans if s.kind is kind]
    assert len(found) == 1, [s.name for s in found]
    return found[0]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_one_read_with_one_retry_gives_the_span_tree(
    spans: InMemorySpanExporter, vendor: Vendor
) -> None:
    url, state, recorder = vendor
    recorder.seen.clear()
    job_id, answer = await read_through_proxy(
        url, state, tracing=True, faults=1, headers={"traceparent": CALLER_TRACEPARENT}
    )
    assert answer.status_code == 200, answer.text
    finished = list(spans.get_finished_spans())

    server = one(finished, SpanKind.SERVER)
    operation = one(finished, SpanKind.INTERNAL)
    attempts = sorted(
        (s for s in finished if s.kind is SpanKind.CLIENT),
        key=lambda s: attrs(s)["gateway.attempt"],
    )
    assert len(finished) == 4
    assert [attrs(s)["gateway.attempt"] for s in attempts] == [1, 2]

    # The tree: caller -> server span -> gateway operation -> each attempt, one trace.
    assert server.parent is not None and server.parent.span_id == int(CALLER_SPAN, 16)
    assert {s.context.trace_id for s in finished} == {int(CALLER_TRACE, 16)}
    assert operation.parent is not None and operation.parent.span_id == server.context.span_id
    for attempt in attempts:
        assert attempt.parent is not None and attempt.parent.span_id == operation.context.span_id

    assert server.name == "GET /v1/jobs/{job_id}"
    assert attrs(server)["http.route"] == "/v1/jobs/{job_id}"
    assert attrs(server)["http.response.status_code"] == 200
    assert attrs(server)["gateway.backend"] == "ls"

    assert operation.name == "gateway get_job"
    assert attrs(operation) == {
        "gateway.backend": "ls",
        "gateway.vendor": "llama-stack",
        "gateway.operation": "get_job",
        "gateway.job_id": job_id,
        "gateway.attempts": 2,
        "gateway.cache_status": "miss",
        "gateway.job.status": "running",
    }
    failed, retried = attempts
    assert failed.name == retried.name == "llama-stack get_job"
    assert failed.status.status_code is StatusCode.ERROR
    assert attrs(failed)["gateway.problem.type"] == "upstream-unavailable"
    assert attrs(failed)["http.response.status_code"] == 503
    assert "gateway.job.status" not in attrs(failed)
    assert retried.status.status_code is StatusCode.UNSET
    assert attrs(retried)["gateway.job.status"] == "running"
    assert "gateway.problem.type" not in attrs(retried)

    # Each vendor attempt carried its own span as traceparent.
    sent = [TRACEPARENT.match(seen.get("traceparent", "")) for seen in recorder.seen]
    assert all(sent), recorder.seen
    assert [(int(m.group(1), 16), int(m.group(2), 16)) for m in sent if m] == [
        (a.context.trace_id, a.context.span_id) for a in attempts
    ]


async def test_without_a_caller_traceparent_the_server_span_is_a_root(
    spans: InMemorySpanExporter, vendor: Vendor
) -> None:
    url, state, _ = vendor
    _, answer = await read_through_proxy(url, state, tracing=True, faults=0, headers={})
    assert answer.status_code == 200
    server = one(list(spans.get_finished_spans()), SpanKind.SERVER)
    assert server.parent is None


async def test_no_secret_header_or_query_on_any_span(
    spans: InMemorySpanExporter, vendor: Vendor
) -> None:
    url, state, _ = vendor
    await read_through_proxy(
        url,
        state,
        tracing=True,
        faults=1,
        headers={"Authorization": "Bearer caller-secret-token-0123456789"},
    )
    finished = spans.get_finished_spans()
    assert finished
    for span in finished:
        for key, value in attrs(span).items():
            assert "authorization" not in key.lower() and "header" not in key.lower()
            assert VENDOR_KEY not in str(value) and "caller-secret" not in str(value)
            assert url not in str(value)  # no vendor URL either


async def test_a_problem_answer_names_its_type_on_the_spans(
    spans: InMemorySpanExporter, vendor: Vendor
) -> None:
    url, state, _ = vendor
    # More 503s than attempts: the read fails with the typed problem.
    _, answer = await read_through_proxy(url, state, tracing=True, faults=10, headers={})
    state.clear_faults()
    assert answer.status_code == 503
    finished = list(spans.get_finished_spans())
    server = one(finished, SpanKind.SERVER)
    operation = one(finished, SpanKind.INTERNAL)
    assert attrs(server)["gateway.problem.type"] == "upstream-unavailable"
    assert server.status.status_code is StatusCode.ERROR
    assert attrs(operation)["gateway.problem.type"] == "upstream-unavailable"
    assert attrs(operation)["gateway.attempts"] >= 2


async def test_tracing_off_records_nothing_and_sends_no_traceparent(
    spans: InMemorySpanExporter, vendor: Vendor
) -> None:
    url, state, recorder = vendor
    recorder.seen.clear()
    _, answer = await read_through_proxy(
        url, state, tracing=False, faults=1, headers={"traceparent": CALLER_TRACEPARENT}
    )
    assert answer.status_code == 200
    assert spans.get_finished_spans() == ()
    assert len(recorder.seen) == 2  # the 503 and the retry
    assert all("traceparent" not in seen for seen in recorder.seen)
