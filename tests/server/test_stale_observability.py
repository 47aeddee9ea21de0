"""A stale answer is logged and counted as the vendor failure behind it (issue 11, item 2):
the access log line and the upstream metrics use the health book's verdict, while the caller
still gets its 200 from cache. Through the real app, with faults armed on the simulator."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import config_from_dict
from gateway.server import create_app
from gateway.server.logs import JsonFormatter, RequestIdFilter
from gateway.simulators import Fault, SimState
from tests.server.proc import example_config

BACKEND = "ls-sim"
JOB = "ls-sim~mmlu~eval-completed"
NO_CACHE = {"Cache-Control": "no-cache"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    data = example_config()
    data["backends"][BACKEND].update({"timeouts": {"total": 0.3}, "retry": {"max_attempts": 1}})
    app = create_app(config_from_dict(data))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        yield c
    await app.state.holder.aclose()


def simulator(client: httpx.AsyncClient) -> SimState:
    state: SimState = client._transport.app.state.holder.current.gateway.simulator(BACKEND)  # type: ignore[attr-defined]
    return state


def access_fields(caplog: pytest.LogCaptureFixture, request_id: str) -> dict[str, Any]:
    """The access log line of one request, as the JSON formatter writes it."""
    formatter = JsonFormatter()
    for record in caplog.records:
        if record.name == "gateway.access":
            line: dict[str, Any] = json.loads(formatter.format(record))
            if line["request_id"] == request_id:
                return line
    raise AssertionError(f"no access log line for {request_id}")


async def upstream_count(client: httpx.AsyncClient, outcome: str) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "gateway_upstream_latency_seconds_count"
                and labels.get("backend") == BACKEND
                and labels.get("operation") == "get_job"
                and labels.get("outcome") == outcome
            ):
                return float(sample.value)
    return 0.0


@pytest.mark.parametrize(
    ("fault", "slug"),
    [
        (Fault("delay", remaining=1, seconds=2.0), "upstream-timeout"),
        (Fault("server_error", remaining=1, status=503), "upstream-unavailable"),
    ],
    ids=["delay", "5xx"],
)
async def test_a_stale_answer_is_logged_and_counted_as_its_failure(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, fault: Fault, slug: str
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.access")
    caplog.handler.addFilter(RequestIdFilter())  # as the server's handler stamps the id
    good = await client.get(f"/v1/jobs/{JOB}", headers={"X-Request-Id": "read-good-1"})
    assert good.status_code == 200
    good_line = access_fields(caplog, "read-good-1")
    assert good_line["outcome"] == "ok" and "stale" not in good_line
    simulator(client).arm(fault)
    stale = await client.get(f"/v1/jobs/{JOB}", headers={**NO_CACHE, "X-Request-Id": "stale-1"})
    assert stale.status_code == 200 and "fwd=stale" in stale.headers["cache-status"]
    line = access_fields(caplog, "stale-1")
    assert line["status"] == 200
    assert line["outcome"] == slug and line["stale"] is True, line
    assert await upstream_count(client, slug) == 1
    assert await upstream_count(client, "ok") == 1  # the good read only
    # A fresh cache hit afterwards is ok again and not stale.
    await client.get(f"/v1/jobs/{JOB}", headers={"X-Request-Id": "hit-1"})
    hit_line = access_fields(caplog, "hit-1")
    assert hit_line["outcome"] == "ok" and "stale" not in hit_line
