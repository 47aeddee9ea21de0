"""Event streams versus config reloads and shutdown, on a real gateway.

A stream holds its config generation only while it starts: after a reload it follows the job on
the new generation (checking the caller against the new config), and the old generation closes
at once instead of after `drain_seconds`. SIGTERM ends open streams instead of waiting for the
whole graceful-shutdown period.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from gateway.schemas import JobStatus
from tests.server.proc import Proc, gateway, write_config
from tests.server.sse import STANDALONE_LS, Frame, create_sim_job, events, watch

KEY_A, KEY_B = "key-a-0123456789abcdef", "key-b-0123456789abcdef"
KEYS_ENV = {"GW_KEY_A": KEY_A, "GW_KEY_B": KEY_B}


def config(vendor_url: str, **sections: Any) -> dict[str, Any]:
    return {
        "backends": {
            STANDALONE_LS: {
                "vendor": "llama-stack",
                "base_url": vendor_url,
                "cache": {"running_ttl": 0.1},
            },
        },
        "aliases": {"evals": STANDALONE_LS},
        "server": {
            "reload": {"watch": True, "poll_seconds": 0.1, "drain_seconds": 30},
            "shutdown_seconds": 30,
        },
        **sections,
    }


def watch_in_thread(
    proc: Proc, job_id: str, started: threading.Event | None = None, **headers: str
) -> tuple[threading.Thread, list[Any]]:
    """Follow a job's stream in a thread; `started` is set once its first event arrived."""
    out: list[Any] = []

    def seen_frame(frame: Frame) -> None:
        if started is not None and frame.event:
            started.set()

    def run() -> None:
        with httpx.Client(base_url=proc.url, timeout=60.0, headers=headers) as client:
            out.append(watch(client, job_id, heartbeat=1, on_frame=seen_frame))

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def wait_for_event(proc: Proc, job_id: str) -> None:
    """Until the gateway has a watcher on the job (its first event went out)."""
    deadline = time.monotonic() + 10
    while "gateway_watch_subscribers 1.0" not in httpx.get(proc.url + "/metrics").text:
        assert time.monotonic() < deadline, f"nobody is watching {job_id}"
        time.sleep(0.05)


def test_a_stream_follows_the_job_across_a_reload(tmp_path: Path, ls_vendor: Proc) -> None:
    data = config(ls_vendor.url)
    path = write_config(tmp_path / "gateway.yaml", data)
    with gateway(tmp_path, path) as proc:
        job_id = create_sim_job(
            ls_vendor.url, ("scheduled", 1.5), ("in_progress", 2.0), ("completed", None)
        )
        thread, out = watch_in_thread(proc, job_id)
        wait_for_event(proc, job_id)
        data["aliases"]["other"] = STANDALONE_LS
        write_config(path, data)
        proc.wait_for_log("config reloaded")
        reloaded = time.monotonic()
        closed = proc.wait_for_log("config generation 1 closed", timeout=5)
        assert time.monotonic() - reloaded < 3.0  # not drain_seconds (30): no stream holds it
        assert "0 request(s) cut off" in closed
        thread.join(20)
        response, seen = out[0]
        assert response.status_code == 200
        got = events(seen)
        assert [f.job.status for f in got] == [
            JobStatus.QUEUED,
            JobStatus.RUNNING,
            JobStatus.SUCCEEDED,
        ]
        # The events after the reload come from the new generation's poller.
        assert got[0].id.split(".")[0] != got[-1].id.split(".")[0]  # type: ignore[union-attr]


def test_a_key_revoked_by_a_reload_ends_its_stream(tmp_path: Path, ls_vendor: Proc) -> None:
    keys = [{"name": "a", "key": "${GW_KEY_A}"}, {"name": "b", "key": "${GW_KEY_B}"}]
    data = config(ls_vendor.url, auth={"enabled": True, "keys": keys})
    path = write_config(tmp_path / "gateway.yaml", data)
    with gateway(tmp_path, path, env=KEYS_ENV) as proc:
        job_id = create_sim_job(ls_vendor.url, ("in_progress", None))
        thread, out = watch_in_thread(proc, job_id, Authorization=f"Bearer {KEY_A}")
        wait_for_event(proc, job_id)
        data["auth"]["keys"] = keys[1:]  # key "a" is gone
        write_config(path, data)
        thread.join(10)
        assert not thread.is_alive(), "the stream outlived its key"
        _, seen = out[0]
        last: Frame = events(seen)[-1]
        assert last.event == "problem"
        assert last.problem.type.endswith("/unauthorized") and last.problem.status == 401


def test_sigterm_ends_open_streams_at_once(tmp_path: Path, ls_vendor: Proc) -> None:
    path = write_config(tmp_path / "gateway.yaml", config(ls_vendor.url))
    with gateway(tmp_path, path) as proc:
        job_id = create_sim_job(ls_vendor.url, ("in_progress", None))
        started = [threading.Event() for _ in range(3)]
        streams = [watch_in_thread(proc, job_id, one) for one in started]
        # Every stream has its first event (a stream still waiting for its first answer when
        # the gateway stops gets a 503 problem instead, which is not what this test is about).
        for one in started:
            assert one.wait(10), "a stream never got its first event"
        began = time.monotonic()
        proc.signal(signal.SIGTERM)
        assert proc.process.wait(10) in {0, -signal.SIGTERM}
        took = time.monotonic() - began
        for thread, out in streams:
            thread.join(5)
            response, seen = out[0]
            assert response.status_code == 200 and events(seen)[0].job.status is JobStatus.RUNNING
        assert took < 5.0, f"shutdown took {took:.1f}s with open streams (grace is 30 s)"
        assert "closing the job watchers" in proc.log_text()
