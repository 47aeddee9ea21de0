"""The Overmind simulator in-process: DRF behaviour, lifecycle, control API, faults, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from importlib import resources
from typing import Any

import httpx
import pytest
import yaml

from gateway.simulators import SimClock, SimState, client_for, create_app
from gateway.vendors.overmind.sim.data import SEEDED

KEY = "sim-key-overmind"
AUTH = {"X-Api-Key": KEY}
MISSING = "00000000-0000-4000-8000-000000000000"


def job_url(name_or_id: str) -> str:
    return f"/api/jobs/{SEEDED.get(name_or_id, name_or_id)}/"


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)


@pytest.fixture
async def sim(state: SimState) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for("overmind", create_app("overmind", state=state), headers=AUTH) as c:
        yield c


async def status_of(sim: httpx.AsyncClient, name: str) -> str:
    answer = await sim.get(job_url(name))
    assert answer.status_code == 200
    word: str = answer.json()["status"]
    return word


# -- seeded jobs and lifecycle ---------------------------------------------------------------------


async def test_one_seeded_job_per_documented_status(sim: httpx.AsyncClient) -> None:
    for word in ("pending", "running", "waiting_user", "completed", "failed", "cancelled"):
        assert await status_of(sim, word) == word


async def test_the_seeded_jobs_are_the_seeds_file(sim: httpx.AsyncClient, state: SimState) -> None:
    # Seeded jobs are data (sim/seeds.yaml, shipped as package data), not code: every entry
    # is served with its first status, its fields over the shared base and its creation time.
    text = resources.files("gateway.vendors.overmind.sim").joinpath("seeds.yaml").read_text()
    seeds = yaml.safe_load(text)
    assert set(seeds["jobs"]) == set(SEEDED)
    for job in seeds["jobs"].values():
        body = (await sim.get(f"/api/jobs/{job['id']}/")).json()
        fields = {**seeds["base"], **job.get("fields", {})}
        assert body["status"] == job["lifecycle"][0]["status"]
        assert (body["job_type"], body["agent"]) == (fields["job_type"], fields["agent"])
        created = datetime.fromisoformat(body["created_at"]).timestamp()
        assert created == state.clock.now() - job["created"]


async def test_lifecycle_moves_with_the_frozen_clock(
    sim: httpx.AsyncClient, state: SimState
) -> None:
    seen = []
    for step in (0.0, 1.9, 0.2, 4.8, 0.2):
        state.clock.advance(step)
        seen.append(await status_of(sim, "lifecycle"))
    assert seen == ["pending", "pending", "running", "running", "completed"]


async def test_iterations_appear_and_get_verdicts_while_the_job_runs(
    sim: httpx.AsyncClient, state: SimState
) -> None:
    assert (await sim.get(job_url("lifecycle"))).json()["iterations"] == []
    state.clock.advance(2.5)
    first = (await sim.get(job_url("lifecycle"))).json()["iterations"]
    assert [(i["iteration_name"], i["status"]) for i in first] == [("iteration_1", "running")]
    assert first[0]["dimension_scores"] is None
    state.clock.advance(5)
    body = (await sim.get(job_url("lifecycle"))).json()
    assert [i["status"] for i in body["iterations"]] == ["keep", "discard", "keep"]
    assert (body["best_score"], body["baseline_score"], body["improvement"]) == (0.79, 0.64, 0.15)
    assert body["result"] == {"best_iteration": "iteration_3"}
    assert body["report_markdown"].startswith("# Optimisation report")


async def test_running_job_shows_the_drifted_running_iteration_status(
    sim: httpx.AsyncClient,
) -> None:
    body = (await sim.get(job_url("running"))).json()
    assert [i["status"] for i in body["iterations"]] == ["keep", "discard", "running"]
    assert body["report_markdown"] == "" and body["result"] is None


async def test_pending_job_shows_no_scores_and_failed_job_its_error(
    sim: httpx.AsyncClient,
) -> None:
    pending = (await sim.get(job_url("pending"))).json()
    assert (pending["best_score"], pending["baseline_score"], pending["improvement"]) == (
        None,
        None,
        None,
    )
    failed = (await sim.get(job_url("failed"))).json()
    assert failed["error"] == "dataset has no eval rows"
    assert failed["report_markdown"] == "Run failed: dataset has no eval rows"


async def test_times_render_like_drf_in_utc(sim: httpx.AsyncClient) -> None:
    body = (await sim.get(job_url("lifecycle"))).json()
    assert body["created_at"] == "2026-01-01T00:00:00.000Z"


# -- DRF routing and errors ------------------------------------------------------------------------


async def test_missing_and_malformed_ids_are_drf_404(sim: httpx.AsyncClient) -> None:
    for job_id in (MISSING, "not-a-uuid"):
        answer = await sim.get(job_url(job_id))
        assert answer.status_code == 404
        assert answer.json() == {"detail": "No Job matches the given query."}


async def test_missing_trailing_slash_is_a_permanent_redirect(sim: httpx.AsyncClient) -> None:
    answer = await sim.get("/api/jobs", params={"page": 2})
    assert answer.status_code == 301
    assert answer.headers["location"] == "/api/jobs/?page=2"


async def test_unknown_route_is_djangos_html_404_even_without_a_key(state: SimState) -> None:
    async with client_for("overmind", create_app("overmind", state=state)) as anonymous:
        answer = await anonymous.get("/api/eval-jobs/")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Not Found</h1>" in answer.text


async def test_put_is_not_allowed(sim: httpx.AsyncClient) -> None:
    answer = await sim.put(job_url("running"), json={"status": "failed"})
    assert answer.status_code == 405
    assert answer.json() == {"detail": 'Method "PUT" not allowed.'}
    assert "PATCH" in answer.headers["allow"]


# -- create / update / delete ----------------------------------------------------------------------


async def test_create_pending_job_runs_its_lifecycle(
    sim: httpx.AsyncClient, state: SimState
) -> None:
    request = {
        "job_type": "prompt_tuning",
        "prompt_slug": "support-triage-system",
        "num_iterations": 2,
        "data_source": "traces",
        "status": "pending",
        "id": "ignored-read-only",
    }
    answer = await sim.post("/api/jobs/", json=request)
    assert answer.status_code == 201
    created = answer.json()
    assert created["status"] == "pending"
    assert created["id"] != "ignored-read-only"
    assert created["prompt_slug"] == "support-triage-system"
    assert created["iterations"] == []
    state.clock.advance(8)
    done = (await sim.get(job_url(created["id"]))).json()
    assert done["status"] == "completed"
    assert len(done["iterations"]) == 2


async def test_create_with_another_status_keeps_it(sim: httpx.AsyncClient, state: SimState) -> None:
    created = (await sim.post("/api/jobs/", json={"status": "running"})).json()
    state.clock.advance(600)
    assert await status_of(sim, created["id"]) == "running"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"job_type": "foo", "data_source": "x" * 21},
            {
                "job_type": ['"foo" is not a valid choice.'],
                "data_source": ["Ensure this field has no more than 20 characters."],
            },
        ),
        ({"status": "done"}, {"status": ['"done" is not a valid choice.']}),
        (
            {"agent": "nope", "num_iterations": "x"},
            {
                "agent": ["Must be a valid UUID."],
                "num_iterations": ["A valid integer is required."],
            },
        ),
        (
            {"best_score": "high", "prompt_slug": None},
            {
                "best_score": ["A valid number is required."],
                "prompt_slug": ["This field may not be null."],
            },
        ),
        (
            [{"job_type": "inference"}],
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        ),
    ],
)
async def test_bad_create_bodies_get_drf_field_errors(
    sim: httpx.AsyncClient, body: Any, errors: dict[str, list[str]]
) -> None:
    answer = await sim.post("/api/jobs/", json=body)
    assert answer.status_code == 400
    assert answer.json() == errors


async def test_unparseable_json_and_wrong_media_type(sim: httpx.AsyncClient) -> None:
    bad = await sim.post(
        "/api/jobs/", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("JSON parse error - ")
    plain = await sim.post(
        "/api/jobs/", content=b"status=x", headers={"content-type": "text/plain"}
    )
    assert plain.status_code == 415
    assert plain.json() == {"detail": 'Unsupported media type "text/plain" in request.'}


async def test_patch_status_stamps_it_and_stops_the_scripted_work(
    sim: httpx.AsyncClient, state: SimState
) -> None:
    state.clock.advance(3)  # running, first iteration done at 3.25 not yet
    answer = await sim.patch(job_url("lifecycle"), json={"status": "cancelled"})
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    assert answer.json()["updated_at"] == "2026-01-01T00:00:03.000Z"
    state.clock.advance(10)
    later = (await sim.get(job_url("lifecycle"))).json()
    assert later["status"] == "cancelled"
    assert [i["status"] for i in later["iterations"]] == ["running"]


async def test_patch_writes_fields_and_validates(sim: httpx.AsyncClient) -> None:
    ok = await sim.patch(job_url("running"), json={"report_markdown": "halfway"})
    assert ok.json()["report_markdown"] == "halfway"
    assert ok.json()["status"] == "running"
    bad = await sim.patch(job_url("running"), json={"status": "paused"})
    assert bad.status_code == 400
    assert bad.json() == {"status": ['"paused" is not a valid choice.']}


async def test_delete_removes_the_job(sim: httpx.AsyncClient) -> None:
    assert (await sim.delete(job_url("failed"))).status_code == 204
    assert (await sim.get(job_url("failed"))).status_code == 404


# -- list ------------------------------------------------------------------------------------------


async def test_list_pages_with_absolute_drf_links(sim: httpx.AsyncClient) -> None:
    first = (await sim.get("/api/jobs/", params={"page_size": 3})).json()
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert first["next"] == "http://overmind.sim.invalid/api/jobs/?page=2&page_size=3"
    second = (await sim.get(first["next"])).json()
    assert second["previous"] == "http://overmind.sim.invalid/api/jobs/?page_size=3"
    last = (await sim.get("/api/jobs/", params={"page_size": 3, "page": "last"})).json()
    assert last["next"] is None and len(last["results"]) == 1
    ids = [r["id"] for page in (first, second, last) for r in page["results"]]
    assert sorted(ids) == sorted(SEEDED.values())


async def test_list_items_are_the_slim_shape(sim: httpx.AsyncClient) -> None:
    item = (await sim.get("/api/jobs/")).json()["results"][0]
    assert "iterations" not in item and "report_markdown" not in item
    assert {"id", "created_at", "updated_at", "status", "best_score"} <= set(item)


@pytest.mark.parametrize("page", ["9", "0", "abc"])
async def test_list_page_out_of_range_is_invalid_page(sim: httpx.AsyncClient, page: str) -> None:
    answer = await sim.get("/api/jobs/", params={"page": page})
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Invalid page."}


async def test_list_filters(sim: httpx.AsyncClient) -> None:
    async def ids(**params: str) -> list[str]:
        return [r["id"] for r in (await sim.get("/api/jobs/", params=params)).json()["results"]]

    assert await ids(status="waiting_user") == [SEEDED["waiting_user"]]
    assert await ids(job_type="judge_scoring") == [SEEDED["failed"]]
    assert await ids(score_min="0.75") == [SEEDED["completed"]]
    assert await ids(created_before="2025-12-31T22:15:00Z") == [SEEDED["failed"]]
    assert len(await ids(search="triage")) == 7
    oldest_first = await ids(ordering="created_at")
    assert oldest_first[0] == SEEDED["failed"]


async def test_bad_list_filters_are_django_filter_400s(sim: httpx.AsyncClient) -> None:
    answer = await sim.get("/api/jobs/", params={"status": "done", "agent": "x"})
    assert answer.status_code == 400
    assert answer.json() == {
        "status": ["Select a valid choice. done is not one of the available choices."],
        "agent": ["Enter a valid UUID."],
    }


# -- job iterations --------------------------------------------------------------------------------


async def test_iterations_list_by_job_and_retrieve(sim: httpx.AsyncClient) -> None:
    listed = (await sim.get("/api/job-iterations/", params={"job": SEEDED["completed"]})).json()
    assert listed["count"] == 3
    assert {r["job"] for r in listed["results"]} == {SEEDED["completed"]}
    one = await sim.get(f"/api/job-iterations/{listed['results'][0]['id']}/")
    assert one.status_code == 200
    assert one.json() == listed["results"][0]
    kept = await sim.get("/api/job-iterations/", params={"status": "running"})
    assert [r["job"] for r in kept.json()["results"]] == [SEEDED["running"]]


async def test_iteration_errors(sim: httpx.AsyncClient) -> None:
    missing = await sim.get(f"/api/job-iterations/{MISSING}/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No JobIteration matches the given query."}
    unknown_job = await sim.get("/api/job-iterations/", params={"job": MISSING})
    assert unknown_job.status_code == 400
    assert unknown_job.json() == {
        "job": ["Select a valid choice. That choice is not one of the available choices."]
    }
    required = await sim.post("/api/job-iterations/", json={})
    assert required.json() == {
        "iteration_name": ["This field is required."],
        "job": ["This field is required."],
    }
    no_job = await sim.post("/api/job-iterations/", json={"iteration_name": "x", "job": MISSING})
    assert no_job.json() == {"job": [f'Invalid pk "{MISSING}" - object does not exist.']}


async def test_iteration_create_patch_delete(sim: httpx.AsyncClient) -> None:
    created = await sim.post(
        "/api/job-iterations/",
        json={"iteration_name": "manual", "job": SEEDED["pending"], "avg_score": 0.5},
    )
    assert created.status_code == 201
    iteration = created.json()
    assert (iteration["job"], iteration["status"], iteration["avg_score"]) == (
        SEEDED["pending"],
        "keep",
        0.5,
    )
    url = f"/api/job-iterations/{iteration['id']}/"
    patched = await sim.patch(url, json={"status": "discard"})
    assert patched.json()["status"] == "discard"
    job = (await sim.get(job_url("pending"))).json()
    assert [i["status"] for i in job["iterations"]] == ["discard"]
    assert (await sim.delete(url)).status_code == 204
    assert (await sim.get(url)).status_code == 404


# -- auth ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Authentication credentials were not provided."),
        ({"Authorization": f"Token {KEY}"}, "Authentication credentials were not provided."),
        ({"X-Api-Key": "wrong"}, "Invalid API key."),
        ({"Authorization": "Bearer wrong"}, "Invalid API key."),
        ({"X-Api-Key": "wrong", "Authorization": f"Bearer {KEY}"}, "Invalid API key."),
    ],
)
async def test_auth_is_enforced_with_drf_401s(
    state: SimState, headers: dict[str, str], detail: str
) -> None:
    async with client_for("overmind", create_app("overmind", state=state), headers=headers) as c:
        answer = await c.get("/api/jobs/")
    assert answer.status_code == 401
    assert answer.json() == {"detail": detail}
    assert answer.headers["www-authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("headers", [{"X-Api-Key": KEY}, {"Authorization": f"Bearer {KEY}"}])
async def test_both_documented_schemes_are_accepted(
    state: SimState, headers: dict[str, str]
) -> None:
    async with client_for("overmind", create_app("overmind", state=state), headers=headers) as c:
        assert (await c.get("/api/jobs/")).status_code == 200


async def test_without_a_configured_key_anything_goes() -> None:
    async with client_for("overmind", create_app("overmind")) as anonymous:
        assert (await anonymous.get("/api/jobs/")).status_code == 200


# -- control API and faults ------------------------------------------------------------------------


async def test_control_api_lists_creates_and_moves_the_clock(sim: httpx.AsyncClient) -> None:
    jobs = (await sim.get("/_sim/jobs")).json()["jobs"]
    assert {j["id"]: j["vendor_status"] for j in jobs}[SEEDED["waiting_user"]] == "waiting_user"
    created = await sim.post(
        "/_sim/jobs",
        json={
            "lifecycle": [{"status": "running", "seconds": 4}, {"status": "failed"}],
            "data": {"job_type": "langfuse_import", "on_failed": {"error": "import broke"}},
        },
    )
    assert created.status_code == 201
    job_id = created.json()["id"]
    body = (await sim.get(job_url(job_id))).json()
    assert (body["status"], body["job_type"]) == ("running", "langfuse_import")
    clock = await sim.post("/_sim/clock", json={"advance": 5})
    assert clock.json()["frozen"] is True
    body = (await sim.get(job_url(job_id))).json()
    assert (body["status"], body["error"]) == ("failed", "import broke")


async def test_control_api_counts_requests_and_resets(sim: httpx.AsyncClient) -> None:
    await sim.delete(job_url("completed"))
    counts = (await sim.get("/_sim/requests")).json()["requests"]
    assert counts[f"DELETE {job_url('completed')}"] == 1
    assert (await sim.post("/_sim/reset")).status_code == 204
    assert await status_of(sim, "completed") == "completed"


async def arm(sim: httpx.AsyncClient, **fault: Any) -> None:
    answer = await sim.post("/_sim/faults", json=fault)
    assert answer.status_code == 201


async def test_rate_limit_fault_is_drf_throttled(sim: httpx.AsyncClient) -> None:
    await arm(sim, kind="rate_limit", retry_after=1.2)
    answer = await sim.get(job_url("running"))
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "2"
    assert answer.json() == {"detail": "Request was throttled. Expected available in 2 seconds."}
    assert (await sim.get(job_url("running"))).status_code == 200  # used up


async def test_server_error_faults(sim: httpx.AsyncClient) -> None:
    await arm(sim, kind="server_error")
    crash = await sim.get(job_url("running"))
    assert crash.status_code == 500
    assert "<h1>Server Error (500)</h1>" in crash.text
    await arm(sim, kind="server_error", status=503, path="/api/jobs/")
    unavailable = await sim.get("/api/jobs/")
    assert unavailable.status_code == 503
    assert unavailable.json() == {"detail": "Simulated server error"}


async def test_delay_fault_still_answers(sim: httpx.AsyncClient) -> None:
    await arm(sim, kind="delay", seconds=0.01)
    assert (await sim.get(job_url("running"))).status_code == 200


async def test_drop_connection_fault_breaks_the_connection(sim: httpx.AsyncClient) -> None:
    await arm(sim, kind="drop_connection")
    with pytest.raises(httpx.RemoteProtocolError):
        await sim.get(job_url("running"))


async def test_body_faults(sim: httpx.AsyncClient) -> None:
    whole = await sim.get(job_url("completed"))
    await arm(sim, kind="truncated_body")
    cut = await sim.get(job_url("completed"))
    assert len(cut.content) == len(whole.content) // 2
    await arm(sim, kind="malformed_body")
    with pytest.raises(ValueError, match="Expecting value"):
        (await sim.get(job_url("completed"))).json()


async def test_undocumented_status_fault_and_clearing_faults(sim: httpx.AsyncClient) -> None:
    await arm(sim, kind="undocumented_status")
    assert await status_of(sim, "completed") == "sim_undocumented_status"
    assert await status_of(sim, "completed") == "completed"
    await arm(sim, kind="server_error", count=5)
    assert (await sim.delete("/_sim/faults")).status_code == 204
    assert (await sim.get(job_url("completed"))).status_code == 200


async def test_iteration_ordering_uses_allowed_fields_and_ignores_others(
    sim: httpx.AsyncClient,
) -> None:
    def scores(page: Any) -> list[float]:
        return [r["avg_score"] for r in page["results"]]

    params = {"job": SEEDED["completed"]}
    best_first = await sim.get("/api/job-iterations/", params={**params, "ordering": "-avg_score"})
    assert scores(best_first.json()) == [0.79, 0.69, 0.66]
    ignored = await sim.get(
        "/api/job-iterations/", params={**params, "ordering": "dimension_scores"}
    )
    assert ignored.status_code == 200
    assert [r["order"] for r in ignored.json()["results"]] == [1, 2, 3]
