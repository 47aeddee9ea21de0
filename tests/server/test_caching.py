"""Polling through the proxy: Cache-Status and Age, no-cache, breaker state, counters."""

from __future__ import annotations

import httpx

from gateway.schemas import JobStatus
from tests.server.test_api import LS_DONE, a_job


def test_a_second_poll_is_a_cache_hit_with_age(api: httpx.Client) -> None:
    job_id = a_job(api, "datarobot-sim", JobStatus.SUCCEEDED)
    api.get(f"/v1/jobs/{job_id}", headers={"Cache-Control": "no-cache"})
    again = api.get(f"/v1/jobs/{job_id}")
    assert again.status_code == 200
    assert again.headers["Cache-Status"].startswith("eval-gateway; hit")
    assert int(again.headers["Age"]) >= 0


def test_no_cache_forces_a_fresh_vendor_read(api: httpx.Client) -> None:
    fresh = api.get(f"/v1/jobs/{LS_DONE}", headers={"Cache-Control": "no-cache"})
    assert fresh.status_code == 200
    assert "fwd=request" in fresh.headers["Cache-Status"]
    assert "hit" not in fresh.headers["Cache-Status"]


def test_backends_and_readiness_show_the_circuit(api: httpx.Client) -> None:
    backends = api.get("/v1/backends").json()["backends"]
    assert {b["circuit"] for b in backends} <= {"closed", "open", "half_open"}
    ready = api.get("/readyz").json()
    assert ready["shared_state"] == "off"  # no Redis in the embedded defaults
    assert all(b["circuit"] == "closed" for b in ready["backends"])


def test_cache_and_breaker_counters_are_exported(api: httpx.Client) -> None:
    job_id = a_job(api, "overmind-sim", JobStatus.SUCCEEDED)
    api.get(f"/v1/jobs/{job_id}")
    api.get(f"/v1/jobs/{job_id}")
    text = api.get("/metrics").text
    hits = [
        line
        for line in text.splitlines()
        if line.startswith(
            'gateway_resilience_events_total{backend="overmind-sim",event="cache_hits"}'
        )
    ]
    assert hits
    assert float(hits[0].rsplit(" ", 1)[1]) >= 1
    assert 'gateway_circuit_state{backend="overmind-sim",state="closed"} 1.0' in text
