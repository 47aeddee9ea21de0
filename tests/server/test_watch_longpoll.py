"""`GET /v1/jobs/{id}?wait=` on a real gateway: early on a change, at the timeout otherwise."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.server.proc import Proc
from tests.server.sse import NO_CACHE, STANDALONE_LS, create_sim_job, metrics_value, vendor_reads


def timed_get(client: httpx.Client, job_id: str, **params: object) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = client.get(f"/v1/jobs/{job_id}", params=params)
    return response, time.monotonic() - began


def test_it_answers_as_soon_as_the_status_changes(
    ls_vendor: Proc, watch_client: httpx.Client
) -> None:
    job_id = create_sim_job(ls_vendor.url, ("scheduled", 1.0), ("in_progress", None))
    response, took = timed_get(watch_client, job_id, wait=20)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "running"
    assert 0.5 < took < 1.0 + 1.3  # the change, seen within one poll; far from 20 s


def test_it_answers_the_current_job_at_the_timeout(
    ls_vendor: Proc, watch_client: httpx.Client
) -> None:
    job_id = create_sim_job(ls_vendor.url, ("in_progress", None))
    response, took = timed_get(watch_client, job_id, wait=1.5)
    assert response.status_code == 200
    assert response.json()["status"] == "running"
    assert 1.5 <= took < 2.5
    assert "Cache-Status" in response.headers  # read through the cache, as any GET


def test_a_terminal_job_is_answered_at_once(ls_vendor: Proc, watch_client: httpx.Client) -> None:
    job_id = create_sim_job(ls_vendor.url, ("completed", None))
    response, took = timed_get(watch_client, job_id, wait=30, include="raw")
    assert response.json()["status"] == "succeeded" and took < 1.0
    assert response.json()["raw"]["status"] == "completed"


def test_wait_zero_is_a_plain_read(ls_vendor: Proc, watch_client: httpx.Client) -> None:
    job_id = create_sim_job(ls_vendor.url, ("in_progress", None))
    response, took = timed_get(watch_client, job_id, wait=0)
    assert response.status_code == 200 and took < 1.0


@pytest.mark.parametrize("wait", ["61", "-1", "soon", "nan"])
def test_the_wait_is_bounded(watch_client: httpx.Client, wait: str) -> None:
    response = watch_client.get(f"/v1/jobs/{STANDALONE_LS}~mmlu~1", params={"wait": wait})
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["query", "wait"]


def test_an_unknown_job_is_a_problem_not_a_wait(watch_client: httpx.Client) -> None:
    response, took = timed_get(watch_client, f"{STANDALONE_LS}~mmlu~nothing-here", wait=20)
    assert response.status_code == 404 and took < 5.0


def test_many_long_polls_share_one_poller(
    ls_vendor: Proc, watch_proxy: Proc, watch_client: httpx.Client
) -> None:
    job_id = create_sim_job(ls_vendor.url, ("in_progress", None)).replace(STANDALONE_LS, NO_CACHE)
    answers: list[int] = []
    idle_pollers = metrics_value(watch_client.get("/metrics").text, "gateway_watch_pollers")

    wait = 6  # long enough that all 20 are subscribed at once even on a busy machine

    def poll() -> None:
        with httpx.Client(base_url=watch_proxy.url, timeout=30.0) as own:
            answers.append(own.get(f"/v1/jobs/{job_id}", params={"wait": wait}).status_code)

    threads = [threading.Thread(target=poll) for _ in range(20)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + wait - 1
    while True:
        text = watch_client.get("/metrics").text
        subscribers = metrics_value(text, "gateway_watch_subscribers")
        if subscribers >= 20 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    # Pollers of earlier tests' jobs may still be lingering (5 s): they only go away.
    assert metrics_value(text, "gateway_watch_pollers") <= idle_pollers + 1
    assert subscribers == 20
    for t in threads:
        t.join(wait + 10)
    assert answers == [200] * 20
    reads = vendor_reads(ls_vendor.url, job_id.rsplit("~", 1)[1])
    print(f"20 long-polls of {wait} s: {reads} vendor reads")
    # One poller (<= 1 read a second over the wait, plus each answer's own uncached read).
    assert reads <= wait + 2 + 20
