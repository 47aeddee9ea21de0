"""Vendor faults through the real proxy: an `eval-gateway serve` process in front of a
standalone DataRobot simulator (`eval-gateway simulate`), on real sockets.

What a caller of the HTTP API relies on: a vendor slower than the read timeout is retried on
a fresh connection and answered; a vendor that stays slow ends in a 504 problem by the
deadline; a long rate limit is a 429 problem with `Retry-After`; an open circuit answers 503
at once with `Retry-After` and shows in /v1/backends, /readyz and /metrics; a failing vendor
is answered with the last known job, marked stale. Never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.resilience.e2e import gateway_config, metric, readyz
from tests.server.proc import Proc, gateway, simulator, write_config

READ_TIMEOUT = 0.3
DEADLINE = 2.0
RETRY = {"deadline": DEADLINE, "backoff_initial": 0.01, "backoff_max": 0.05, "max_retry_after": 2}


@pytest.fixture(scope="module")
def dr_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    with simulator(tmp_path_factory.mktemp("dr-sim"), "datarobot-genai") as proc:
        yield proc


@pytest.fixture(scope="module")
def proxy(dr_sim: Proc, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("proxy")
    timeouts = {"connect": 1, "read": READ_TIMEOUT, "write": 1, "pool": 1, "total": DEADLINE}
    dr = {"vendor": "datarobot-genai", "base_url": dr_sim.url, "timeouts": timeouts}
    config = gateway_config(
        {
            "dr": {**dr, "retry": RETRY},
            # The same vendor behind a breaker that trips fast (its own circuit).
            "dr-fragile": {
                **dr,
                "retry": {**RETRY, "max_attempts": 2},
                "breaker": {"consecutive_failures": 2, "open_for": 30},
            },
        }
    )
    with gateway(workdir, write_config(workdir / "gateway.yaml", config)) as proc:
        yield proc


@pytest.fixture
def api(proxy: Proc) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=proxy.url, timeout=30.0) as client:
        yield client


def new_job(sim: Proc, backend: str) -> tuple[str, str]:
    """(gateway id, vendor id) of a job that stays RUNNING."""
    made = httpx.post(f"{sim.url}/_sim/jobs", json={"lifecycle": [{"status": "RUNNING"}]})
    assert made.status_code == 201, made.text
    body = made.json()
    return "~".join([backend, *body["id_parts"]]), body["id"]


def arm(sim: Proc, vendor_id: str, kind: str, **fields: Any) -> None:
    """A fault on this job's paths only, so tests sharing the simulator do not meet it."""
    armed = httpx.post(f"{sim.url}/_sim/faults", json={"kind": kind, "path": vendor_id, **fields})
    assert armed.status_code == 201, armed.text


def vendor_calls(sim: Proc, vendor_id: str) -> int:
    counts = httpx.get(f"{sim.url}/_sim/requests").json()["requests"]
    return sum(n for path, n in counts.items() if vendor_id in path)


def timed_get(api: httpx.Client, path: str, **kw: Any) -> tuple[httpx.Response, float]:
    began = time.perf_counter()
    response = api.get(path, **kw)
    return response, time.perf_counter() - began


def problem_slug(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    slug: str = response.json()["type"].rsplit("/", 1)[-1]
    return slug


def test_a_vendor_slower_than_the_read_timeout_is_retried_and_answered(
    api: httpx.Client, dr_sim: Proc
) -> None:
    job_id, vendor_id = new_job(dr_sim, "dr")
    arm(dr_sim, vendor_id, "delay", seconds=1.0)  # the first answer takes 1 s
    response, elapsed = timed_get(api, f"/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "running"
    assert READ_TIMEOUT <= elapsed < 1.0  # gave up on the slow answer, did not wait it out
    assert vendor_calls(dr_sim, vendor_id) == 2


def test_a_vendor_that_stays_slow_is_a_504_problem_by_the_deadline(
    api: httpx.Client, dr_sim: Proc
) -> None:
    job_id, vendor_id = new_job(dr_sim, "dr")
    arm(dr_sim, vendor_id, "delay", seconds=1.5, count=10)
    response, elapsed = timed_get(api, f"/v1/jobs/{job_id}")
    assert response.status_code == 504, response.text
    assert problem_slug(response) == "upstream-timeout"
    assert response.json()["attempts"] == 3  # max_attempts, each cut at the read timeout
    assert elapsed <= DEADLINE + 0.5
    assert vendor_calls(dr_sim, vendor_id) == 3


@pytest.mark.parametrize("status", [413, 429])
def test_a_long_rate_limit_is_a_429_problem_with_retry_after(
    api: httpx.Client, dr_sim: Proc, status: int
) -> None:
    job_id, vendor_id = new_job(dr_sim, "dr")
    arm(dr_sim, vendor_id, "rate_limit", status=status, retry_after=30)
    response, elapsed = timed_get(api, f"/v1/jobs/{job_id}")
    assert response.status_code == 429, response.text
    assert problem_slug(response) == "upstream-rate-limited"
    assert response.headers["Retry-After"] == "30"
    body = response.json()
    assert body["retry_after"] == 30 and body["attempts"] == 1
    assert body["vendor_status_code"] == status
    assert elapsed < 1.0  # passed on at once, not waited for
    assert vendor_calls(dr_sim, vendor_id) == 1


def test_a_failing_vendor_is_answered_with_the_last_known_job_marked_stale(
    api: httpx.Client, dr_sim: Proc
) -> None:
    job_id, vendor_id = new_job(dr_sim, "dr")
    assert api.get(f"/v1/jobs/{job_id}").status_code == 200
    arm(dr_sim, vendor_id, "server_error", status=503, count=10)
    response = api.get(f"/v1/jobs/{job_id}", headers={"Cache-Control": "no-cache"})
    assert response.status_code == 200, response.text
    assert response.json()["stale"] is True and response.json()["status"] == "running"
    assert "fwd=stale" in response.headers["Cache-Status"]
    assert "fwd-status=503" in response.headers["Cache-Status"]
    assert int(response.headers["Age"]) >= 0


def test_an_open_circuit_answers_503_at_once_and_shows_everywhere(
    api: httpx.Client, proxy: Proc, dr_sim: Proc
) -> None:
    job_id, vendor_id = new_job(dr_sim, "dr-fragile")
    arm(dr_sim, vendor_id, "server_error", status=503, count=100)
    for _ in range(2):  # two failed calls open the circuit
        failed = api.get(f"/v1/jobs/{job_id}")
        assert failed.status_code == 503 and problem_slug(failed) == "upstream-unavailable"
        assert failed.json()["attempts"] == 2
    calls = vendor_calls(dr_sim, vendor_id)

    rejected, elapsed = timed_get(api, f"/v1/jobs/{job_id}")
    assert rejected.status_code == 503 and problem_slug(rejected) == "upstream-unavailable"
    assert elapsed < 0.5
    assert 1 <= int(rejected.headers["Retry-After"]) <= 30
    assert rejected.json()["attempts"] == 0
    assert vendor_calls(dr_sim, vendor_id) == calls  # the vendor was spared

    circuits = {b["name"]: b["circuit"] for b in api.get("/v1/backends").json()["backends"]}
    assert circuits == {"dr": "closed", "dr-fragile": "open"}  # one backend's circuit only
    ready = {b["name"]: b["circuit"] for b in readyz(proxy.url)["backends"]}
    assert ready == circuits
    open_gauge = 'gateway_circuit_state{backend="dr-fragile",state="open"}'
    assert metric(proxy.url, open_gauge) == 1.0
    assert (
        metric(
            proxy.url,
            'gateway_resilience_events_total{backend="dr-fragile",event="breaker_rejected"}',
        )
        or 0
    ) >= 1
