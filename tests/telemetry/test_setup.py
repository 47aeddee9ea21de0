"""Turning tracing on and off: the config key, OTEL_SDK_DISABLED, the missing extra, nothing
imported when off, and the OTLP exporter configured by the standard OTEL_* variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import ConfigError
from gateway.telemetry import TelemetrySettings, tracing_for
from tests.support.servers import serve_in_thread

ON = TelemetrySettings(enabled=True)

# A read through the library on a simulated backend, in a fresh interpreter.
READ_ONE_JOB = """
import asyncio, json, sys
from gateway import AsyncGateway
from gateway.simulators import Stage, vendor_sim

async def main(tracing):
    config = {"backends": {"ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"}},
              "telemetry": {"enabled": tracing}, "ledger": {"enabled": False}}
    async with AsyncGateway(config) as gw:
        sim = vendor_sim("llama-stack")
        job = sim.new_job(gw.simulator("ls"), [Stage("in_progress")], {})
        await gw.get_job(gw.job_id("ls", *sim.id_parts(job)))

asyncio.run(main(sys.argv[1] == "on"))
if sys.argv[1] == "on":
    from opentelemetry import trace
    trace.get_tracer_provider().shutdown()   # flush the batch processor
print(json.dumps(sorted(m for m in sys.modules if m.startswith("gateway.telemetry"))))
"""


def run_read(tracing: bool, env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", READ_ONE_JOB, "on" if tracing else "off"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_off_by_default_and_the_otel_side_is_never_imported() -> None:
    assert tracing_for(TelemetrySettings()) is None
    assert run_read(tracing=False) == [
        "gateway.telemetry",
        "gateway.telemetry.propagation",
        "gateway.telemetry.settings",
    ]


def test_otel_sdk_disabled_wins_over_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing_for(ON) is None


def test_enabled_without_the_extra_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.setitem(sys.modules, "gateway.telemetry.otel", None)  # as if not installed
    with pytest.raises(ConfigError) as caught:
        tracing_for(ON, "gateway.yaml")
    assert caught.value.source == "gateway.yaml"
    [(path, message)] = caught.value.issues
    assert path == "telemetry.enabled"
    assert "eval-gateway[otel]" in message


class Collector:
    """An OTLP/HTTP trace receiver on loopback: the bodies POSTed to /v1/traces."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.arrived = threading.Event()
        self.app = Starlette(routes=[Route("/v1/traces", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        self.bodies.append(await request.body())
        self.arrived.set()
        return Response(b"", media_type="application/x-protobuf")


@pytest.fixture
def collector() -> Iterator[tuple[str, Collector]]:
    receiver = Collector()
    with serve_in_thread(receiver.app) as url:
        yield url, receiver


def test_spans_go_to_the_otlp_endpoint_named_by_the_environment(
    collector: tuple[str, Collector],
) -> None:
    url, receiver = collector
    loaded = run_read(
        tracing=True,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": url,
            "OTEL_SERVICE_NAME": "evals-gateway-test",
            "OTEL_SDK_DISABLED": "false",
        },
    )
    assert "gateway.telemetry.otel" in loaded
    assert receiver.arrived.wait(10)
    names: list[str] = []
    services: set[str] = set()
    for body in receiver.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                names.extend(span.name for span in scope_spans.spans)
    assert services == {"evals-gateway-test"}
    assert sorted(names) == ["gateway get_job", "llama-stack get_job"]
