"""Server-sent events on a real gateway in front of a real Llama Stack simulator process, whose
jobs follow lifecycles the tests script through its control API."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from gateway.schemas import JobStatus
from gateway.watch import EventId
from tests.server.proc import Proc
from tests.server.sse import (
    NO_CACHE,
    STANDALONE_LS,
    create_sim_job,
    events,
    metrics_value,
    vendor_reads,
    watch,
)

QUEUED, RUNNING, DONE = JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED


@pytest.fixture
def vendor(ls_vendor: Proc) -> Proc:
    return ls_vendor


@pytest.fixture
def proxy(watch_proxy: Proc) -> Proc:
    return watch_proxy


@pytest.fixture
def client(watch_client: httpx.Client) -> httpx.Client:
    return watch_client


def three_stages(vendor: Proc, seconds: float = 1.5) -> str:
    return create_sim_job(
        vendor.url, ("scheduled", seconds), ("in_progress", seconds), ("completed", None)
    )


def test_a_client_sees_every_transition_in_order(vendor: Proc, client: httpx.Client) -> None:
    job_id = three_stages(vendor)
    began = time.monotonic()
    response, seen = watch(client, job_id)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    got = events(seen)
    assert [f.job.status for f in got] == [QUEUED, RUNNING, DONE]
    assert {f.event for f in got} == {"status"} and got[0].retry == 3000
    ids = [EventId.parse(f.id) for f in got]
    assert all(ids) and [i.seq for i in ids if i] == [1, 2, 3]
    assert all(f.job.id == job_id and f.job.raw is None for f in got)
    assert got[-1].job.terminal
    # Each change arrives within a poll (<= 1 s) of happening at the vendor (1.5 s stages).
    assert got[1].at - began < 1.5 + 1.3 and got[2].at - began < 3.0 + 1.3


def test_heartbeats_keep_a_quiet_stream_alive(vendor: Proc, client: httpx.Client) -> None:
    job_id = create_sim_job(vendor.url, ("in_progress", 2.5), ("completed", None))
    _, seen = watch(client, job_id, heartbeat=1)
    assert [f.job.status for f in events(seen)] == [RUNNING, DONE]
    beats = [i for i, f in enumerate(seen) if f.comment == "heartbeat"]
    assert len(beats) >= 1 and 0 < beats[0] < len(seen) - 1  # between the two events


def test_many_watchers_of_one_job_share_one_poller(
    vendor: Proc, proxy: Proc, client: httpx.Client
) -> None:
    def watched_by(count: int) -> tuple[int, list[list[str | None]], dict[str, float]]:
        job_id = create_sim_job(
            vendor.url, ("scheduled", 2.0), ("in_progress", 2.0), ("completed", None)
        ).replace(STANDALONE_LS, NO_CACHE)
        seen: list[list[str | None]] = []
        sampled: dict[str, float] = {}
        idle = metrics_value(client.get("/metrics").text, "gateway_watch_pollers")

        def one() -> None:
            with httpx.Client(base_url=proxy.url, timeout=30.0) as own:
                seen.append([f.id for f in events(watch(own, job_id)[1])])

        threads = [threading.Thread(target=one) for _ in range(count)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # until every watcher is attached
            text = client.get("/metrics").text
            sampled = {
                name: metrics_value(text, f"gateway_watch_{name}")
                for name in ("pollers", "subscribers")
            }
            if sampled["subscribers"] == count:
                break
            time.sleep(0.05)
        for t in threads:
            t.join(30)
        # Pollers of earlier tests' jobs may still be lingering (5 s): they only go away.
        sampled["new pollers at most"] = sampled.pop("pollers") - idle
        return vendor_reads(vendor.url, job_id.rsplit("~", 1)[1]), seen, sampled

    single_reads, _, _ = watched_by(1)
    many_reads, seen, sampled = watched_by(25)
    print(f"vendor reads of one job over ~4 s: 1 watcher {single_reads}, 25 watchers {many_reads}")
    assert sampled["subscribers"] == 25 and sampled["new pollers at most"] <= 1, sampled
    # Each watcher gets the job as it stands when it attaches, then every change: the same ids.
    full = max(seen, key=len)
    assert len(seen) == 25 and len(full) == 3
    assert all(ids == full[-len(ids) :] for ids in seen)
    assert many_reads <= single_reads + 2  # one poller, whatever the number of watchers


def test_resume_with_last_event_id_continues_after_it(vendor: Proc, client: httpx.Client) -> None:
    job_id = three_stages(vendor, 1.2)
    _, first = watch(client, job_id, stop_after=1)  # then the client drops
    (queued,) = events(first)
    assert queued.job.status is QUEUED
    response, rest = watch(client, job_id, last_event_id=queued.id)
    assert response.status_code == 200
    assert [f.job.status for f in events(rest)] == [RUNNING, DONE]  # no repeat of "queued"
    ended = events(rest)[-1].id
    # Resuming after the terminal event: 204, which also stops an EventSource reconnecting.
    late = client.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": ended})
    assert late.status_code == 204 and not late.content
    query = client.get(f"/v1/jobs/{job_id}/events", params={"last_event_id": ended})
    assert query.status_code == 204


def test_a_terminal_job_streams_one_event_and_ends(vendor: Proc, client: httpx.Client) -> None:
    job_id = create_sim_job(vendor.url, ("completed", None))
    _, seen = watch(client, job_id)
    assert [f.job.status for f in events(seen)] == [DONE]


@pytest.mark.parametrize(
    ("path", "status", "slug"),
    [
        (f"/v1/jobs/{STANDALONE_LS}~mmlu~no-such-job/events", 404, "job-not-found"),
        ("/v1/jobs/nope~mmlu~1/events", 404, "unknown-backend"),
        ("/v1/jobs/not-an-id/events", 400, "invalid-request"),
        (f"/v1/jobs/{STANDALONE_LS}~mmlu~1/events?heartbeat=0", 400, "invalid-request"),
        (f"/v1/jobs/{STANDALONE_LS}~mmlu~1/events?since=1", 400, "invalid-request"),
    ],
)
def test_problems_before_the_stream_are_plain_problem_answers(
    client: httpx.Client, path: str, status: int, slug: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/" + slug)
