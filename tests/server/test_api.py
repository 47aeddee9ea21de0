"""The HTTP API on a real `eval-gateway serve` with no config: all five simulated vendors."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.schemas import Job, JobStatus, Page, Result
from tests.server.proc import Proc

LISTABLE = ["nemo-v1-sim", "nemo-v2-sim", "overmind-sim", "do-sim", "datarobot-sim"]
VENDORS = {
    "ls-sim": "llama-stack",
    "nemo-v1-sim": "nemo-evaluator",
    "nemo-v2-sim": "nemo-evaluator",
    "overmind-sim": "overmind",
    "do-sim": "digitalocean-genai",
    "datarobot-sim": "datarobot-genai",
}
# Llama Stack has no job list: its jobs are read by benchmark and job id.
LS_DONE, LS_RUNNING = "ls-sim~mmlu~eval-completed", "ls-sim~mmlu~eval-in-progress"


def jobs_in(api: httpx.Client, backend: str, status: JobStatus) -> list[Job]:
    response = api.get(f"/v1/backends/{backend}/jobs", params={"status": status, "page_size": 200})
    assert response.status_code == 200, response.text
    return Page.model_validate_json(response.content).items


def a_job(api: httpx.Client, backend: str, status: JobStatus) -> str:
    if backend == "ls-sim":
        return LS_DONE if status is JobStatus.SUCCEEDED else LS_RUNNING
    jobs = jobs_in(api, backend, status)
    assert jobs, f"{backend} has no {status} job"
    return jobs[0].id


def test_backends_lists_every_backend_and_alias_without_secrets(api: httpx.Client) -> None:
    response = api.get("/v1/backends")
    assert response.status_code == 200
    body = response.json()
    assert {b["name"]: b["vendor"] for b in body["backends"]} == VENDORS
    assert body["aliases"] == {"evals": "nemo-v1-sim", "agent-evals": "do-sim"}
    by_name = {b["name"]: b for b in body["backends"]}
    assert by_name["nemo-v2-sim"]["api_version"] == "v2"
    assert by_name["nemo-v1-sim"]["aliases"] == ["evals"]
    assert all(b["health"]["state"] in {"ok", "failing", "unknown"} for b in body["backends"])
    assert "sim://" not in response.text and "base_url" not in response.text
    assert "api_key" not in response.text


@pytest.mark.parametrize("backend", list(VENDORS))
def test_a_succeeded_job_and_its_result(api: httpx.Client, backend: str) -> None:
    job_id = a_job(api, backend, JobStatus.SUCCEEDED)
    job = Job.model_validate_json(api.get(f"/v1/jobs/{job_id}").content)
    assert (job.id, job.backend, job.vendor) == (job_id, backend, VENDORS[backend])
    assert job.status is JobStatus.SUCCEEDED and job.terminal
    assert job.raw is None  # only on request

    response = api.get(f"/v1/jobs/{job_id}/result")
    assert response.status_code == 200, response.text
    result = Result.model_validate_json(response.content)
    assert result.job_id == job_id and result.status is JobStatus.SUCCEEDED


@pytest.mark.parametrize("backend", list(VENDORS))
def test_result_of_a_running_job_is_job_not_ready_with_its_status(
    api: httpx.Client, backend: str
) -> None:
    job_id = a_job(api, backend, JobStatus.RUNNING)
    response = api.get(f"/v1/jobs/{job_id}/result")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/job-not-ready"
    assert problem["job_status"] == "running"
    assert problem["job_id"] == job_id and problem["backend"] == backend


def test_include_raw_adds_the_vendor_payload(api: httpx.Client) -> None:
    job_id = a_job(api, "overmind-sim", JobStatus.SUCCEEDED)
    raw = api.get(f"/v1/jobs/{job_id}", params={"include": "raw"}).json()["raw"]
    assert isinstance(raw, dict) and raw
    page = api.get("/v1/backends/do-sim/jobs", params={"include": "raw", "page_size": 1}).json()
    assert page["items"][0]["raw"]


@pytest.mark.parametrize("backend", LISTABLE)
def test_paging_walks_every_job_once(api: httpx.Client, backend: str) -> None:
    seen: list[str] = []
    token: str | None = None
    for _ in range(50):
        params: dict[str, str | int] = {"page_size": 3}
        if token:
            params["page_token"] = token
        page = Page.model_validate_json(
            api.get(f"/v1/backends/{backend}/jobs", params=params).content
        )
        assert len(page.items) <= 3
        seen += [j.id for j in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert token is None, "paging did not end"
    assert len(seen) == len(set(seen)) > 3
    everything = api.get(f"/v1/backends/{backend}/jobs", params={"page_size": 200}).json()
    assert sorted(seen) == sorted(j["id"] for j in everything["items"])


def test_a_page_token_cannot_be_replayed_on_another_backend(api: httpx.Client) -> None:
    token = api.get("/v1/backends/do-sim/jobs", params={"page_size": 1}).json()["next_page_token"]
    response = api.get("/v1/backends/overmind-sim/jobs", params={"page_token": token})
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/invalid-request"


def test_status_filter_returns_only_that_status(api: httpx.Client) -> None:
    jobs = jobs_in(api, "nemo-v2-sim", JobStatus.QUEUED)
    assert jobs and all(j.status is JobStatus.QUEUED for j in jobs)


def test_an_alias_reaches_its_backend(api: httpx.Client) -> None:
    page = api.get("/v1/backends/evals/jobs").json()
    assert page["items"] and {j["backend"] for j in page["items"]} == {"nemo-v1-sim"}


def test_list_on_a_vendor_without_a_job_list_is_unsupported(api: httpx.Client) -> None:
    response = api.get("/v1/backends/ls-sim/jobs")
    assert response.status_code == 501
    assert response.json()["type"] == "/problems/unsupported-operation"


def test_cancel_a_running_job(api: httpx.Client) -> None:
    # The last of two running jobs: the other tests read the first one.
    job_id = jobs_in(api, "nemo-v2-sim", JobStatus.RUNNING)[-1].id
    response = api.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    job = Job.model_validate_json(response.content)
    assert job.id == job_id
    assert job.status in {JobStatus.CANCELLING, JobStatus.CANCELLED}


def test_cancel_where_the_vendor_has_none_is_unsupported(api: httpx.Client) -> None:
    job_id = a_job(api, "do-sim", JobStatus.RUNNING)
    response = api.post(f"/v1/jobs/{job_id}/cancel", json={})
    assert response.status_code == 501
    assert response.json()["type"] == "/problems/unsupported-operation"


def test_health_and_readiness(api: httpx.Client, default_gateway: Proc) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["config"]["source"] == "<embedded defaults>"
    assert ready["config"]["generation"] == 1 and ready["config"]["auth_enabled"] is False
    assert {b["name"] for b in ready["backends"]} == set(VENDORS)


def test_auth_off_is_announced_loudly_at_start(default_gateway: Proc) -> None:
    line = default_gateway.wait_for_log("CALLER AUTH IS OFF")
    assert json.loads(line)["level"] == "warning"
