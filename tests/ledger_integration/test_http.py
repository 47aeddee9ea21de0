"""The ledger over HTTP: `GET /v1/jobs`, `GET /v1/jobs/{id}/history`, a purged job's answer,
caller scopes, typed 400s, and /readyz + /metrics while the ledger is down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.config import config_from_dict
from gateway.ids import parse_job_id
from gateway.server.app import create_app
from tests.ledger_integration.conftest import OM_REQUEST, gateway_config

KEYS = {"LI_KEY_ALL": "key-all-0123456789abcdef", "LI_KEY_OM": "key-om-0123456789abcdef"}
ALL = {"Authorization": f"Bearer {KEYS['LI_KEY_ALL']}"}
OM_ONLY = {"Authorization": f"Bearer {KEYS['LI_KEY_OM']}"}


def with_keys(config: dict[str, Any]) -> dict[str, Any]:
    config["auth"] = {
        "enabled": True,
        "keys": [
            {"name": "all", "key": "${LI_KEY_ALL}"},
            {"name": "om-only", "key": "${LI_KEY_OM}", "backends": ["evals"]},
        ],
    }
    return config


@pytest.fixture
def client(ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    app = create_app(config_from_dict(with_keys(gateway_config(ledger_url))))
    with TestClient(app) as test_client:
        yield test_client


def settled(client: TestClient, expected: int, **params: Any) -> dict[str, Any]:
    """The ledger's list once the write-behind caught up (bounded: 5 s)."""
    deadline = time.monotonic() + 5
    while True:
        page: dict[str, Any] = client.get("/v1/jobs", params=params, headers=ALL).json()
        if len(page["items"]) >= expected or time.monotonic() > deadline:
            return page
        time.sleep(0.02)


def test_one_list_across_vendors_with_counts_paging_and_history(client: TestClient) -> None:
    listed = client.get("/v1/backends/nemo/jobs", headers=ALL).json()["items"]
    made = client.post("/v1/backends/evals/jobs", json=OM_REQUEST, headers=ALL).json()
    total = len(listed) + 1
    page = settled(client, total, page_size=500)
    assert {r["vendor"] for r in page["items"]} == {"nemo-evaluator", "overmind"}
    assert sum(page["counts"].values()) == total
    seen, token = [], None
    while True:  # cursor paging visits every row once
        params: dict[str, Any] = {"page_size": 3, **({"page_token": token} if token else {})}
        answer = client.get("/v1/jobs", params=params, headers=ALL).json()
        seen += [r["id"] for r in answer["items"]]
        token = answer.get("next_page_token")
        if not token:
            break
    assert len(seen) == len(set(seen)) == total
    job_id = made["jobs"][0]["id"]
    mine = client.get("/v1/jobs", params={"caller": "all", "vendor": "overmind"}, headers=ALL)
    assert [r["id"] for r in mine.json()["items"]] == [job_id]
    history = client.get(f"/v1/jobs/{job_id}/history", headers=ALL).json()
    assert history["job_id"] == job_id and history["changes"][0]["observed_by"] == "submit"
    several = [("status", "running"), ("status", "queued"), ("backend", "nemo")]
    statuses = {
        r["status"] for r in client.get("/v1/jobs", params=several, headers=ALL).json()["items"]
    }
    assert statuses <= {"running", "queued"}


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"page_size": "100000"},
        {"page_size": "0"},
        {"page_token": "garbage"},
        {"sort": "name"},
        {"created_after": "yesterday"},
        {"updated_before": "0.5"},  # a number is no RFC 3339 date-time (pydantic reads Unix time)
        {"vendor": "acme"},
        {"alias": "nope"},
        {"colour": "blue"},
        {"name": "x" * 500},
    ],
)
def test_bad_input_is_a_typed_400(client: TestClient, params: dict[str, str]) -> None:
    answer = client.get("/v1/jobs", params=params, headers=ALL)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("/invalid-request")


def test_a_limited_key_sees_only_its_backends(client: TestClient) -> None:
    client.get("/v1/backends/nemo/jobs", headers=ALL)
    client.post("/v1/backends/evals/jobs", json=OM_REQUEST, headers=OM_ONLY)
    settled(client, 2)
    page = client.get("/v1/jobs", params={"page_size": 500}, headers=OM_ONLY).json()
    assert page["items"] and {r["backend"] for r in page["items"]} == {"om"}
    assert sum(page["counts"].values()) == len(page["items"])
    assert client.get("/v1/jobs", params={"backend": "nemo"}, headers=OM_ONLY).status_code == 403
    nemo_id = client.get("/v1/jobs", params={"backend": "nemo"}, headers=ALL).json()["items"][0][
        "id"
    ]
    assert client.get(f"/v1/jobs/{nemo_id}/history", headers=OM_ONLY).status_code == 403
    assert client.get("/v1/jobs").status_code == 401


def test_a_purged_job_is_the_ledger_s_last_record_marked_gone(client: TestClient) -> None:
    made = client.post("/v1/backends/om/jobs", json=OM_REQUEST, headers=ALL).json()["jobs"][0]
    settled(client, 1)
    holder = client.app.state.holder  # type: ignore[attr-defined]
    del holder.current.gateway.simulator("om").jobs[parse_job_id(made["id"]).parts[-1]]
    answer = client.get(f"/v1/jobs/{made['id']}", headers={**ALL, "Cache-Control": "no-cache"})
    assert answer.status_code == 200
    assert answer.headers["Job-At-Vendor"] == "false"
    assert "fwd=stale" in answer.headers["Cache-Status"]
    body = answer.json()
    assert body["stale"] is True and body["status"] == made["status"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        records = client.get("/v1/jobs", params={"vendor": "overmind"}, headers=ALL).json()
        if not records["items"][0]["at_vendor"]:
            break
        time.sleep(0.02)
    assert records["items"][0]["at_vendor"] is False


def test_ledger_down_reads_go_on_readyz_degraded_submissions_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    down = "postgresql+asyncpg://nobody@127.0.0.1:9/none"
    app = create_app(config_from_dict(with_keys(gateway_config(down))))
    with TestClient(app) as client:
        assert client.get("/v1/backends/nemo/jobs", headers=ALL).status_code == 200
        refused = client.post("/v1/backends/om/jobs", json=OM_REQUEST, headers=ALL)
        assert refused.status_code == 503
        assert refused.json()["type"].endswith("/ledger-unavailable")
        assert client.get("/v1/jobs", headers=ALL).status_code == 503
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded" and ready["ledger"]["state"] == "degraded"
        assert ready["ledger"]["queued"] > 0  # the reads' observations wait for it
        metrics = client.get("/metrics").text
        assert "gateway_ledger_up 0.0" in metrics
        assert "gateway_ledger_queued" in metrics and "gateway_ledger_dropped_total" in metrics
