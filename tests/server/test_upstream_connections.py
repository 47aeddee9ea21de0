"""Connection reuse is visible: /metrics counts the connections opened to each vendor.

Under steady load a pooled client opens a connection once per concurrent caller and then
reuses it; a count that grows with the requests would mean a new TCP handshake per call.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from starlette.testclient import TestClient

from gateway import config_from_dict
from gateway.server.app import create_app
from gateway.simulators import create_app as create_simulator
from tests.server.sse import metrics_value
from tests.support.servers import serve_in_thread

JOB = "/v1/jobs/ls~mmlu~eval-completed"
OPENED = 'gateway_upstream_connections_opened_total{backend="ls"}'


def test_metrics_count_upstream_connections_and_they_are_reused_under_load() -> None:
    with serve_in_thread(create_simulator("llama-stack", quirks=False)) as url:
        config = config_from_dict(
            {
                "backends": {
                    "ls": {"vendor": "llama-stack", "base_url": url, "cache": {"enabled": False}}
                },
                "ledger": {"enabled": False},
            }
        )
        with TestClient(create_app(config)) as api:
            assert metrics_value(api.get("/metrics").text, OPENED) == 0
            for _ in range(20):  # one caller at a time: one connection, reused
                assert api.get(JOB).status_code == 200
            assert metrics_value(api.get("/metrics").text, OPENED) == 1
            with ThreadPoolExecutor(4) as pool:  # four at a time: at most four connections
                codes = list(pool.map(lambda _: api.get(JOB).status_code, range(80)))
            assert set(codes) == {200}
            after_load = metrics_value(api.get("/metrics").text, OPENED)
            assert 1 <= after_load <= 4
            for _ in range(20):
                assert api.get(JOB).status_code == 200
            assert metrics_value(api.get("/metrics").text, OPENED) == after_load
