"""The NeMo Evaluator simulator in-process: contract shapes, lifecycles, control API, faults."""

from __future__ import annotations

import functools
import gzip
import io
import json
import re
import tarfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from starlette.applications import Starlette

from gateway.simulators import UNDOCUMENTED_STATUS, SimClock, SimState, client_for, create_app
from gateway.vendors.nemo_evaluator.sim.data import V1_STATUSES, V2_STATUSES, v1_id

VENDOR = "nemo-evaluator"
KEY = "sim-key-nemo-evaluator"
FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS = json.loads((FIXTURES / "sdk-1.5.0-response-schemas.json").read_text())["$defs"]
V1 = "/v1/evaluation/jobs"
V2 = "/v2/evaluation/jobs"


@functools.cache
def _validator(model: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{model}", "$defs": SCHEMAS})


def conforms(model: str, body: Any) -> None:
    """Validate against the JSON Schema derived from the SDK 1.5.0 model `model`."""
    _validator(model).validate(body)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def make_app(api_key: str | None = None) -> Starlette:
    state = SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=api_key)
    return create_app(VENDOR, state=state)


@pytest.fixture
def app() -> Starlette:
    return make_app()


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(VENDOR, app) as client:
        yield client


def seeded(app: Starlette, api: str) -> dict[str, str]:
    state: SimState = app.state.sim
    return {
        job.lifecycle[0].status: job.id
        for job in state.jobs.values()
        if job.data["api"] == api and len(job.lifecycle) == 1
    }


async def advance(http: httpx.AsyncClient, seconds: float) -> None:
    assert (await http.post("/_sim/clock", json={"advance": seconds})).status_code == 200


# -- seeding and shapes ------------------------------------------------------------------------


def test_seeds_one_job_per_documented_status_with_vendor_ids(app: Starlette) -> None:
    v1_jobs, v2_jobs = seeded(app, "v1"), seeded(app, "v2")
    assert set(v1_jobs) == set(V1_STATUSES)
    assert set(v2_jobs) == set(V2_STATUSES)
    assert all(re.fullmatch(r"eval-[1-9A-HJ-NP-Za-km-z]{20,23}", i) for i in v1_jobs.values())
    assert all(re.fullmatch(r"job-[0-9a-z]{22}", i) for i in v2_jobs.values())
    # Deterministic: a second simulator seeds the same ids.
    assert seeded(make_app(), "v1") == v1_jobs


async def test_a_jobs_data_is_its_own_not_the_shared_seeds(app: Starlette) -> None:
    # The seeds (seeds.yaml) are parsed once per process: changing one simulated job's fields
    # must not change another job's, nor the next simulator's.
    state: SimState = app.state.sim
    first, second = (state.jobs[seeded(app, "v1")[w]] for w in ("running", "completed"))
    first.data["config"]["params"]["limit_samples"] = 7
    first.data["results"]["tasks"]["qa"]["metrics"].clear()
    first.data["target"]["model"]["api_endpoint"]["url"] = "http://elsewhere"
    fresh = make_app()
    async with client_for(VENDOR, fresh) as http:
        for job in (second, fresh.state.sim.jobs[first.id]):
            assert job.data["config"]["params"]["limit_samples"] == 200
            assert job.data["results"]["tasks"]["qa"]["metrics"]
            assert job.data["target"]["model"]["api_endpoint"]["url"].startswith("http://nemo")
        body = (await http.get(f"{V1}/{first.id}")).json()
        assert body["config"]["params"]["limit_samples"] == 200


@pytest.mark.parametrize("word", V1_STATUSES)
async def test_v1_job_and_status_bodies(app: Starlette, http: httpx.AsyncClient, word: str) -> None:
    job_id = seeded(app, "v1")[word]
    job = (await http.get(f"{V1}/{job_id}")).json()
    conforms("EvaluationJob", job)
    assert (job["id"], job["status"]) == (job_id, word)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", job["created_at"])  # naive
    status = (await http.get(f"{V1}/{job_id}/status")).json()
    conforms("EvaluationStatusDetails", status)
    assert "status" not in status  # API.md §6: /status carries no status word
    assert status == job["status_details"]
    assert (await http.get(f"{V1}/{job_id}/status-details")).json() == status


@pytest.mark.parametrize("word", V2_STATUSES)
async def test_v2_job_status_and_logs_bodies(
    app: Starlette, http: httpx.AsyncClient, word: str
) -> None:
    job_id = seeded(app, "v2")[word]
    job = (await http.get(f"{V2}/{job_id}")).json()
    conforms("EvaluatorV2Job", job)
    assert (job["id"], job["status"]) == (job_id, word)
    assert job["error_details"] == (
        {"message": "Error connecting to inference server"} if word == "error" else None
    )
    status = (await http.get(f"{V2}/{job_id}/status")).json()
    conforms("PlatformJobStatusResponse", status)
    assert (status["job_id"], status["status"]) == (job_id, word)
    logs = (await http.get(f"{V2}/{job_id}/logs")).json()
    assert logs["data"]
    assert logs["next_page"] is None  # the docs loop `while next_page is not None`
    stored = (await http.get(f"{V2}/{job_id}/results")).json()
    conforms("PlatformJobListResultResponse", stored)
    assert bool(stored["data"]) == (word == "completed")


async def test_v1_completed_status_matches_the_docs_example(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    status = (await http.get(f"{V1}/{seeded(app, 'v1')['completed']}/status")).json()
    expected = fixture("v1/job_status.200.completed.json")
    assert (status["message"], status["progress"]) == (expected["message"], expected["progress"])


async def test_v1_running_progress_follows_the_docs_formula(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    status = (await http.get(f"{V1}/{seeded(app, 'v1')['running']}/status")).json()
    expected = fixture("v1/job_status.200.running.json")
    assert (status["message"], status["progress"], status["samples_processed"]) == (
        expected["message"],
        expected["progress"],
        expected["samples_processed"],
    )


async def test_v1_results_and_downloads(app: Starlette, http: httpx.AsyncClient) -> None:
    job_id = seeded(app, "v1")["completed"]
    job = (await http.get(f"{V1}/{job_id}")).json()
    result = (await http.get(f"{V1}/{job_id}/results")).json()
    conforms("EvaluationResult", result)
    assert (result["job"], result["id"]) == (job_id, job["result"])
    assert (await http.get(f"/v1/evaluation/results/{job['result']}")).json() == result
    archive = await http.get(f"{V1}/{job_id}/download-results")
    assert archive.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "results/results.json" in names
    logs = await http.get(f"{V1}/{job_id}/logs")
    assert zipfile.ZipFile(io.BytesIO(logs.content)).namelist() == [f"logs/{job_id}.log"]
    unfinished = seeded(app, "v1")["running"]
    for path in ("results", "download-results"):
        missing = await http.get(f"{V1}/{unfinished}/{path}")
        assert missing.status_code == 404
        conforms("ErrorResponse", missing.json())


async def test_v2_results_and_downloads(app: Starlette, http: httpx.AsyncClient) -> None:
    job_id = seeded(app, "v2")["completed"]
    evaluation = await http.get(f"{V2}/{job_id}/results/evaluation-results/download")
    conforms("EvaluationResultV2", evaluation.json())
    assert set(evaluation.json()) == {"tasks", "groups"}
    stored = (await http.get(f"{V2}/{job_id}/results/artifacts")).json()
    conforms("PlatformJobResult", stored)
    tarball = await http.get(f"{V2}/{job_id}/results/artifacts/download")
    assert tarball.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(tarball.content))) as archive:
        member = archive.extractfile("results.json")
        assert member is not None
        assert json.loads(member.read()) == evaluation.json()
    assert (await http.get(f"{V2}/{job_id}/results/nope/download")).status_code == 404
    active = seeded(app, "v2")["active"]
    assert (await http.get(f"{V2}/{active}/results/artifacts/download")).status_code == 404


# -- lists -------------------------------------------------------------------------------------


async def test_list_envelope_paging_sort_and_filters(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    page = (await http.get(V1, params={"page": 2, "page_size": 4})).json()
    conforms("EvaluationJobsPage", page)
    assert page["pagination"] == {
        "page": 2,
        "page_size": 4,
        "current_page_size": 4,
        "total_pages": 3,
        "total_results": 10,
    }
    assert set(page) == set(fixture("v1/jobs_list.envelope.docs.json")) | {"data"}
    beyond = (await http.get(V1, params={"page": 9})).json()
    assert (beyond["data"], beyond["pagination"]["current_page_size"]) == ([], 0)
    newest = (await http.get(V1, params={"sort": "-created_at", "page_size": 1})).json()
    assert newest["data"][0]["id"] == v1_id("eval", "v1-lifecycle")  # the moving job is newest
    oldest = (await http.get(V1, params={"sort": "created_at", "page_size": 1})).json()
    assert oldest["data"][0]["id"] == seeded(app, "v1")["created"]
    ready = (await http.get(V1, params={"filter[status]": "ready"})).json()
    assert [j["status"] for j in ready["data"]] == ["ready"]
    assert ready["filter"] == {"status": "ready"}
    # v1's filter[status] is a plain string: an unknown word matches nothing.
    assert (await http.get(V1, params={"filter[status]": "active"})).json()["data"] == []
    v2_page = (await http.get(V2, params={"filter[status]": "pausing"})).json()
    conforms("EvaluatorV2JobsPage", v2_page)
    assert [j["status"] for j in v2_page["data"]] == ["pausing"]
    assert (await http.get(V2, params={"filter[namespace]": "other"})).json()["data"] == []


@pytest.mark.parametrize(
    ("path", "params", "loc", "kind"),
    [
        (V1, {"page": "x"}, ["query", "page"], "int_parsing"),
        (V1, {"page_size": "0"}, ["query", "page_size"], "greater_than_equal"),
        (V1, {"sort": "name"}, ["query", "sort"], "enum"),
        (V2, {"filter[status]": "running"}, ["query", "filter[status]"], "enum"),
    ],
)
async def test_list_validation_errors(
    http: httpx.AsyncClient, path: str, params: dict[str, str], loc: list[str], kind: str
) -> None:
    answer = await http.get(path, params=params)
    assert answer.status_code == 422
    conforms("HTTPValidationError", answer.json())
    assert [(e["loc"], e["type"]) for e in answer.json()["detail"]] == [(loc, kind)]


async def test_v2_logs_cursor_paging(app: Starlette, http: httpx.AsyncClient) -> None:
    await advance(http, 10)
    job_id = [i for i in app.state.sim.jobs if i.startswith("job-")][-1]  # the moving job
    lines: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "1", **({"page_cursor": cursor} if cursor else {})}
        page = (await http.get(f"{V2}/{job_id}/logs", params=params)).json()
        if page["next_page"] is not None and page["prev_page"] is not None:
            conforms("PlatformJobLogPage", page)
        lines.extend(line["message"] for line in page["data"])
        cursor = page["next_page"]
        if cursor is None:
            break
    assert lines == [
        "Job status changed to created",
        "Job status changed to pending",
        "Job status changed to active",
        "Job status changed to completed",
    ]
    bad = await http.get(f"{V2}/{job_id}/logs", params={"page_cursor": "zz"})
    assert bad.status_code == 422


# -- create, lifecycle, cancel, delete ---------------------------------------------------------


async def test_v1_create_as_llama_stack_sends_it(http: httpx.AsyncClient) -> None:
    body = fixture("v1/job_create.request.llama-stack-provider.json")
    job = (await http.post(V1, json=body)).json()
    conforms("EvaluationJob", job)
    assert job["target"] == body["target"]
    assert (job["config"]["namespace"], job["config"]["name"]) == ("nvidia", "test-benchmark")


async def test_v1_create_follows_a_realistic_lifecycle(http: httpx.AsyncClient) -> None:
    created = await http.post(V1, json=fixture("v1/job_create.request.by-reference.json"))
    assert created.status_code == 200
    job = created.json()
    conforms("EvaluationJob", job)
    assert (job["status"], job["namespace"], job["result"]) == ("created", "my-organization", None)
    seen = []
    for step in (0.5, 1.0, 1.0, 2.5, 3.0):
        await advance(http, step)
        seen.append((await http.get(f"{V1}/{job['id']}")).json())
    assert [j["status"] for j in seen] == ["created", "pending", "running", "running", "completed"]
    assert seen[2]["status_details"]["progress"] < seen[3]["status_details"]["progress"]
    assert seen[-1]["result"].startswith("evaluation_result-")
    assert (await http.get(f"{V1}/{job['id']}/results")).status_code == 200


async def test_v2_create_follows_a_realistic_lifecycle(http: httpx.AsyncClient) -> None:
    created = await http.post(V2, json=fixture("v2/job_create.request.json"))
    job = created.json()
    conforms("EvaluatorV2Job", job)
    assert job["status"] == "created"
    assert job["spec"]["config"]["type"] == "bfclv3"
    await advance(http, 3.5)
    assert (await http.get(f"{V2}/{job['id']}")).json()["status"] == "active"
    await advance(http, 5)
    assert (await http.get(f"{V2}/{job['id']}")).json()["status"] == "completed"


@pytest.mark.parametrize(
    ("path", "body", "locs"),
    [
        (V1, {"target": "a/b"}, [["body", "config"]]),
        (
            V1,
            {"config": {"params": {}}, "target": "a/b"},
            [["body", "config", "str"], ["body", "config", "EvaluationConfig", "type"]],
        ),
        (V1, [], [["body"]]),
        (V2, {"config": "a/b", "target": "a/b"}, [["body", "spec"]]),
        (V2, {"spec": {"config": "a/b"}}, [["body", "spec", "target"]]),
    ],
)
async def test_create_validation_errors(
    http: httpx.AsyncClient, path: str, body: Any, locs: list[list[str]]
) -> None:
    answer = await http.post(path, json=body)
    assert answer.status_code == 422
    conforms("HTTPValidationError", answer.json())
    assert [e["loc"] for e in answer.json()["detail"]] == locs


async def test_create_with_a_body_that_is_not_json(http: httpx.AsyncClient) -> None:
    answer = await http.post(V1, content=b"{nope", headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"


async def test_cancel_moves_to_cancelling_then_cancelled(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    v1_id, v2_id = seeded(app, "v1")["running"], seeded(app, "v2")["paused"]
    assert (await http.post(f"{V1}/{v1_id}/cancel")).json()["status"] == "cancelling"
    cancelled_v2 = (await http.post(f"{V2}/{v2_id}/cancel")).json()
    conforms("EvaluatorV2Job", cancelled_v2)
    assert cancelled_v2["status"] == "cancelling"
    await advance(http, 1.5)
    assert (await http.get(f"{V1}/{v1_id}")).json()["status"] == "cancelled"
    assert (await http.get(f"{V2}/{v2_id}")).json()["status"] == "cancelled"
    again = await http.post(f"{V1}/{v1_id}/cancel")
    assert again.status_code == 409
    conforms("ErrorResponse", again.json())


async def test_delete(app: Starlette, http: httpx.AsyncClient) -> None:
    v1_id, v2_id = seeded(app, "v1")["failed"], seeded(app, "v2")["error"]
    deleted = await http.delete(f"{V1}/{v1_id}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await http.get(f"{V1}/{v1_id}")).status_code == 404
    assert (await http.delete(f"{V2}/{v2_id}")).json() == {}
    assert (await http.delete(f"{V2}/{v2_id}")).status_code == 404


# -- routing and errors ------------------------------------------------------------------------


async def test_fastapi_style_routing_answers(app: Starlette, http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/nothing")).json() == {"detail": "Not Found"}
    wrong_method = await http.put(V1)
    assert (wrong_method.status_code, wrong_method.json()) == (
        405,
        {"detail": "Method Not Allowed"},
    )
    slash = await http.get(f"{V1}/")
    assert (slash.status_code, slash.headers["location"]) == (307, f"{http.base_url}{V1}")
    missing = await http.get(f"{V1}/eval-nope")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Job eval-nope not found"})
    # The two API versions keep separate job sets.
    assert (await http.get(f"{V2}/{seeded(app, 'v1')['running']}")).status_code == 404
    assert (await http.get(f"{V1}/{seeded(app, 'v2')['active']}")).status_code == 404


async def test_auth_when_a_key_is_configured() -> None:
    app = make_app(api_key=KEY)
    async with client_for(VENDOR, app) as http:
        missing = await http.get(V1)
        assert (missing.status_code, missing.json()) == (401, {"detail": "Not authenticated"})
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = await http.get(V1, headers={"Authorization": "Bearer nope"})
        assert wrong.json() == {"detail": "Invalid authentication credentials"}
        assert (await http.get(V1, headers={"Authorization": f"Basic {KEY}"})).status_code == 401
        assert (await http.get(V1, headers={"Authorization": f"Bearer {KEY}"})).status_code == 200
        assert (await http.get("/_sim/jobs")).status_code == 200  # the control API is open


async def test_no_key_configured_accepts_any_request(http: httpx.AsyncClient) -> None:
    assert (await http.get(V2, headers={"Authorization": "Bearer whatever"})).status_code == 200


# -- control API and faults --------------------------------------------------------------------


async def test_control_api_jobs_and_clock(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/_sim/jobs")).json()
    assert listed["vendor"] == VENDOR
    assert len(listed["jobs"]) == len(V1_STATUSES) + len(V2_STATUSES) + 2
    body = {
        "lifecycle": [{"status": "pausing", "seconds": 2}, {"status": "paused"}],
        "data": {"api": "v2"},
    }
    created = (await http.post("/_sim/jobs", json=body)).json()
    assert created["id"].startswith("job-")
    assert (await http.get(f"{V2}/{created['id']}")).json()["status"] == "pausing"
    clock = (await http.post("/_sim/clock", json={"advance": 2.5})).json()
    assert clock["frozen"] is True
    assert (await http.get(f"{V2}/{created['id']}")).json()["status"] == "paused"
    default_v1 = (await http.post("/_sim/jobs", json={"lifecycle": [{"status": "ready"}]})).json()
    assert (await http.get(f"{V1}/{default_v1['id']}")).json()["status"] == "ready"
    bad = await http.post(
        "/_sim/jobs", json={"lifecycle": [{"status": "x"}], "data": {"api": "v3"}}
    )
    assert bad.status_code == 400


async def test_fault_rate_limit(http: httpx.AsyncClient) -> None:
    await http.post("/_sim/faults", json={"kind": "rate_limit", "retry_after": 4})
    limited = await http.get(V1)
    assert (limited.status_code, limited.json()) == (429, {"detail": "Too Many Requests"})
    assert limited.headers["retry-after"] == "4"
    assert (await http.get(V1)).status_code == 200  # consumed


async def test_fault_server_error_only_on_its_path(app: Starlette, http: httpx.AsyncClient) -> None:
    await http.post("/_sim/faults", json={"kind": "server_error", "status": 503, "path": "/v2/"})
    assert (await http.get(V1)).status_code == 200
    failed = await http.get(V2)
    assert (failed.status_code, failed.json()) == (503, {"detail": "Simulated server error"})


async def test_fault_bodies_and_connection(app: Starlette, http: httpx.AsyncClient) -> None:
    await http.post("/_sim/faults", json={"kind": "malformed_body"})
    with pytest.raises(json.JSONDecodeError):
        (await http.get(V1)).json()
    await http.post("/_sim/faults", json={"kind": "truncated_body"})
    with pytest.raises(json.JSONDecodeError):
        (await http.get(V1)).json()
    await http.post("/_sim/faults", json={"kind": "drop_connection"})
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get(V1)
    await http.post("/_sim/faults", json={"kind": "delay", "seconds": 0.01})
    assert (await http.get(V1)).status_code == 200


async def test_fault_undocumented_status(app: Starlette, http: httpx.AsyncClient) -> None:
    job_id = seeded(app, "v2")["completed"]
    await http.post("/_sim/faults", json={"kind": "undocumented_status"})
    assert (await http.get(f"{V2}/{job_id}")).json()["status"] == UNDOCUMENTED_STATUS
    assert (await http.get(f"{V2}/{job_id}")).json()["status"] == "completed"
    # It also shows in lists (once: the fault is consumed by the first job rendered).
    await http.post("/_sim/faults", json={"kind": "undocumented_status"})
    words = [j["status"] for j in (await http.get(V2, params={"page_size": 50})).json()["data"]]
    assert words.count(UNDOCUMENTED_STATUS) == 1


async def test_clearing_faults(http: httpx.AsyncClient) -> None:
    await http.post("/_sim/faults", json={"kind": "server_error", "count": 5})
    assert (await http.delete("/_sim/faults")).status_code == 204
    assert (await http.get(V1)).status_code == 200
