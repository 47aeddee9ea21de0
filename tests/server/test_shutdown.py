"""Graceful shutdown of a real server: SIGTERM lets in-flight requests finish."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.server.proc import example_config, gateway, simulator, write_config


def test_sigterm_finishes_the_request_in_flight_then_exits_cleanly(tmp_path: Path) -> None:
    with simulator(tmp_path, "overmind") as vendor:
        config = example_config()
        config["backends"]["om-remote"] = {"vendor": "overmind", "base_url": vendor.url}
        path = write_config(tmp_path / "gateway.yaml", config)
        with gateway(tmp_path, path) as proc:
            httpx.post(vendor.url + "/_sim/faults", json={"kind": "delay", "seconds": 1.5})
            answers: list[httpx.Response] = []
            slow = threading.Thread(
                target=lambda: answers.append(
                    httpx.get(proc.url + "/v1/backends/om-remote/jobs", timeout=30)
                )
            )
            slow.start()
            time.sleep(0.4)  # the request is now waiting on the vendor

            proc.signal(signal.SIGTERM)
            slow.join(10)
            assert answers and answers[0].status_code == 200  # finished, not cut off
            assert answers[0].json()["items"][0]["backend"] == "om-remote"
            # uvicorn re-raises the signal once it has shut down: "terminated by SIGTERM".
            assert proc.process.wait(15) in {0, -signal.SIGTERM}
            with pytest.raises(httpx.ConnectError):
                httpx.get(proc.url + "/healthz", timeout=2)
            logs = proc.log_text()
            assert logs.index("Shutting down") < logs.index("GET /v1/backends/om-remote/jobs 200")
            assert "Application shutdown complete" in logs
