"""Duplicate submissions never make a second vendor job: a real gateway in front of a real
Overmind simulator process, whose own request counter and job list are the evidence."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.proc import Proc, gateway, simulator, write_config
from tests.server.sse import REQUESTS

CREATE = "POST /api/jobs/"
REQUEST = REQUESTS["overmind-sim"]


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    with simulator(tmp_path_factory.mktemp("om-vendor"), "overmind") as proc:
        yield proc


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, vendor: Proc) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("om-gateway")
    config: dict[str, Any] = {
        "backends": {
            "om": {"vendor": "overmind", "base_url": vendor.url},
            # The gateway gives up on this one after 1 s: the vendor may still create the job.
            "om-short": {"vendor": "overmind", "base_url": vendor.url, "timeouts": {"total": 1}},
        },
        "aliases": {"evals": "om"},
        "server": {"reload": {"watch": False}},
    }
    with gateway(workdir, write_config(workdir / "gateway.yaml", config)) as proc:
        yield proc


@pytest.fixture(autouse=True)
def clean(vendor: Proc) -> None:
    httpx.delete(f"{vendor.url}/_sim/faults")


def creates(vendor: Proc) -> int:
    counts: dict[str, int] = httpx.get(f"{vendor.url}/_sim/requests").json()["requests"]
    return counts.get(CREATE, 0)


def vendor_jobs(vendor: Proc) -> int:
    return len(httpx.get(f"{vendor.url}/_sim/jobs").json()["jobs"])


def slow_creates(vendor: Proc, seconds: float, count: int = 1) -> None:
    fault = {"kind": "delay", "seconds": seconds, "path": "^/api/jobs/$", "count": count}
    assert httpx.post(f"{vendor.url}/_sim/faults", json=fault).status_code == 201


def submit(
    proxy: Proc,
    key: str | None,
    *,
    timeout: float = 30.0,
    backend: str = "evals",
    body: dict[str, Any] = REQUEST,
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return httpx.post(
        f"{proxy.url}/v1/backends/{backend}/jobs", json=body, headers=headers, timeout=timeout
    )


def test_a_retry_after_a_client_timeout_gets_the_same_job(vendor: Proc, proxy: Proc) -> None:
    before, jobs_before = creates(vendor), vendor_jobs(vendor)
    slow_creates(vendor, 1.5)
    with pytest.raises(httpx.ReadTimeout):
        submit(proxy, "retry-after-timeout", timeout=0.3)
    retried = submit(proxy, "retry-after-timeout")  # while the first one is still running
    again = submit(proxy, "retry-after-timeout")  # and once it has finished
    assert retried.status_code == again.status_code == 202, retried.text
    first, second = retried.json(), again.json()
    assert first["jobs"][0]["id"] == second["jobs"][0]["id"]
    assert first["replayed"] and second["replayed"]
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.headers["location"] == f"/v1/jobs/{first['jobs'][0]['id']}"
    assert first["idempotency_key"] == "retry-after-timeout"
    assert creates(vendor) - before == 1
    assert vendor_jobs(vendor) - jobs_before == 1


def test_concurrent_duplicates_make_one_vendor_job(vendor: Proc, proxy: Proc) -> None:
    before = creates(vendor)
    slow_creates(vendor, 0.5)
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(8)

    def one() -> None:
        barrier.wait()
        answers.append(submit(proxy, "eight-at-once"))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [202] * 8
    assert len({a.json()["jobs"][0]["id"] for a in answers}) == 1
    assert sorted(a.json()["replayed"] for a in answers) == [False] + [True] * 7
    assert creates(vendor) - before == 1


def test_the_same_key_with_another_body_is_a_clear_problem(vendor: Proc, proxy: Proc) -> None:
    assert submit(proxy, "one-key").status_code == 202
    before = creates(vendor)
    other = {**REQUEST, "name": "something else"}
    refused = submit(proxy, "one-key", body=other)
    assert refused.status_code == 400
    assert "different request" in refused.json()["detail"]
    assert creates(vendor) == before


def test_an_unknown_outcome_is_never_submitted_twice(vendor: Proc, proxy: Proc) -> None:
    """The gateway gave up (1 s) while the vendor was still creating the job (2 s)."""
    before, jobs_before = creates(vendor), vendor_jobs(vendor)
    slow_creates(vendor, 2.0, count=2)
    first = submit(proxy, "gave-up", backend="om-short")
    assert first.status_code == 504, first.text
    assert first.json()["type"].endswith("/upstream-timeout")
    again = submit(proxy, "gave-up", backend="om-short")
    assert again.status_code == 504  # the same problem, not a second try at the vendor
    assert "will not submit again" in again.json()["detail"]
    assert creates(vendor) - before == 1
    unkeyed = submit(proxy, None, backend="om-short")  # no key: not retried by the gateway
    assert unkeyed.status_code == 504
    assert creates(vendor) - before == 2
    # Whether such a call created a job is unknown to the gateway (this simulator drops a
    # request whose client left); either way there is at most one job per vendor call.
    assert vendor_jobs(vendor) - jobs_before <= 2


def test_without_a_key_every_submission_is_a_new_job(vendor: Proc, proxy: Proc) -> None:
    before = creates(vendor)
    ids = {submit(proxy, None).json()["jobs"][0]["id"] for _ in range(3)}
    assert len(ids) == 3 and creates(vendor) - before == 3


def test_keys_are_per_caller_tenant(tmp_path: Path, vendor: Proc) -> None:
    config: dict[str, Any] = {
        "backends": {"om": {"vendor": "overmind", "base_url": vendor.url}},
        "server": {"reload": {"watch": False}},
        "auth": {
            "enabled": True,
            "keys": [{"name": "a", "key": "${GW_KEY_A}"}, {"name": "b", "key": "${GW_KEY_B}"}],
        },
    }
    keys = {"GW_KEY_A": "key-a-0123456789abcdef", "GW_KEY_B": "key-b-0123456789abcdef"}
    with gateway(tmp_path, write_config(tmp_path / "gateway.yaml", config), env=keys) as proc:

        def as_caller(key: str) -> httpx.Response:
            return httpx.post(
                f"{proc.url}/v1/backends/om/jobs",
                json=REQUEST,
                headers={"Idempotency-Key": "shared", "Authorization": f"Bearer {key}"},
                timeout=30,
            )

        a, b = as_caller(keys["GW_KEY_A"]), as_caller(keys["GW_KEY_B"])
        assert a.status_code == b.status_code == 202
        assert a.json()["jobs"][0]["id"] != b.json()["jobs"][0]["id"]
        assert as_caller(keys["GW_KEY_A"]).json()["jobs"][0]["id"] == a.json()["jobs"][0]["id"]
