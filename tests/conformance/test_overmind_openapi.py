"""The Overmind simulator's answers against the reconstructed OpenAPI document.

Overmind has no official SDK for `/api/jobs/` (PyPI `overmind` 0.1.106 no longer calls it),
so the contract's `openapi.reconstructed.yaml` stands in: every body the simulator sends
(seeded jobs, list pages, iterations, create/update answers, DRF errors) must validate.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
import yaml

from gateway.simulators import SimClock, SimState, client_for, create_app
from gateway.vendors.overmind.sim.data import SEEDED

pytestmark = pytest.mark.sdk

FIXTURES = Path(__file__).parents[1] / "vendors" / "overmind" / "fixtures"
KEY = "sim-key-overmind"
MISSING = "00000000-0000-4000-8000-000000000000"
# Read-only fields of the 2026-06-18 generated clients (API.md, O3) the schema does not list.
O3_JOB_EXTRAS = {"kind", "payload", "seq", "error", "parent", "client_session", "eval_run"}


@functools.cache
def _openapi() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((FIXTURES / "openapi.reconstructed.yaml").read_text())
    return loaded


def _as_json_schema(node: Any, *, drift: bool) -> Any:
    """OpenAPI 3.0 -> JSON Schema: `nullable` becomes a null type; with `drift`, the enum
    values seen only in generated clients (`x-observed-extra-values`) are allowed too."""
    if isinstance(node, list):
        return [_as_json_schema(v, drift=drift) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_json_schema(v, drift=drift) for k, v in node.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if drift and "x-observed-extra-values" in out:
        out["enum"] = [*out["enum"], *out["x-observed-extra-values"]]
    return out


FORMATS = jsonschema.FormatChecker(formats=())


def _uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and urlsplit(value).netloc)


for _format, _check in (("uuid", _uuid), ("date-time", _date_time), ("uri", _uri)):
    FORMATS.checks(_format, raises=ValueError)(_check)


@functools.cache
def validator(name: str, *, drift: bool = True) -> Any:
    components = _as_json_schema(_openapi()["components"], drift=drift)
    schema = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


def problems(name: str, body: Any, *, drift: bool = True) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name, drift=drift).iter_errors(body)
    ]


def documented_job_fields() -> set[str]:
    schemas = _openapi()["components"]["schemas"]
    return {
        *schemas["JobFields"]["properties"],
        *schemas["Job"]["allOf"][1]["properties"],
        *O3_JOB_EXTRAS,
    }


@pytest.fixture
def state() -> SimState:
    return SimState(clock=SimClock(start=1767225600.0, frozen=True), api_key=KEY)


@pytest.fixture
async def sim(state: SimState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app("overmind", state=state)
    async with client_for("overmind", app, headers={"X-Api-Key": KEY}) as client:
        yield client


async def get_json(sim: httpx.AsyncClient, url: str, expect: int = 200, **params: Any) -> Any:
    answer = await sim.get(url, params=params or None)
    assert answer.status_code == expect, answer.text
    return answer.json()


# -- the validator itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "schema"),
    [
        ("job_retrieve.response.docs-example.json", "Job"),
        ("job.completed.constructed.json", "Job"),
        ("job.running.constructed.json", "Job"),
        ("job_list.page1.constructed.json", "PaginatedJobListList"),
        ("job_iteration_list.response.docs-example.json", "PaginatedJobIterationList"),
        ("error_400.drf.constructed.json", "DRFError"),
    ],
)
def test_contract_examples_validate(example: str, schema: str) -> None:
    body = json.loads((FIXTURES / example).read_text())
    assert problems(schema, body, drift=False) == []


def test_the_validator_rejects_what_the_schema_forbids() -> None:
    body = json.loads((FIXTURES / "job.completed.constructed.json").read_text())
    assert problems("Job", {**body, "status": "done"})
    assert problems("Job", {**body, "id": "not-a-uuid"})
    assert problems("Job", {**body, "created_at": "yesterday"})
    assert problems("Job", {k: v for k, v in body.items() if k != "iterations"})


# -- jobs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seeded", sorted(SEEDED))
async def test_every_seeded_job_validates(sim: httpx.AsyncClient, seeded: str) -> None:
    body = await get_json(sim, f"/api/jobs/{SEEDED[seeded]}/")
    assert problems("Job", body) == []
    assert set(body) <= documented_job_fields()


async def test_only_the_documented_drift_needs_the_extra_enum_values(
    sim: httpx.AsyncClient,
) -> None:
    strict = {}
    for seeded, job_id in SEEDED.items():
        strict[seeded] = problems("Job", await get_json(sim, f"/api/jobs/{job_id}/"), drift=False)
    assert sorted(strict["waiting_user"]) == [
        "job_type: 'optimize' is not one of ['inference', 'uploaded_outputs_setup', "
        "'judge_scoring', 'prompt_tuning', 'model_backtesting']",
        "status: 'waiting_user' is not one of ['pending', 'running', 'completed', 'failed', "
        "'cancelled']",
    ]
    assert strict["running"] == ["iterations/2/status: 'running' is not one of ['keep', 'discard']"]
    assert all(strict[name] == [] for name in ("pending", "completed", "failed", "cancelled"))


async def test_the_moving_job_validates_at_every_stage(
    sim: httpx.AsyncClient, state: SimState
) -> None:
    for step in (0, 3, 5):
        state.clock.advance(step)
        body = await get_json(sim, f"/api/jobs/{SEEDED['lifecycle']}/")
        assert problems("Job", body) == []


async def test_create_and_update_answers_validate(sim: httpx.AsyncClient) -> None:
    request = json.loads((FIXTURES / "job_create.request.constructed.json").read_text())
    created = await sim.post("/api/jobs/", json=request)
    assert created.status_code == 201
    assert problems("Job", created.json()) == []
    cancel = json.loads((FIXTURES / "job_update.cancel.request.constructed.json").read_text())
    updated = await sim.patch(f"/api/jobs/{created.json()['id']}/", json=cancel)
    assert problems("Job", updated.json()) == []


async def test_list_pages_validate(sim: httpx.AsyncClient) -> None:
    url: str | None = "/api/jobs/?page_size=3"
    pages = 0
    while url:
        page = await get_json(sim, url)
        assert problems("PaginatedJobListList", page) == []
        pages += 1
        url = page["next"]
    assert pages == 3
    filtered = await get_json(sim, "/api/jobs/", status="completed", ordering="-best_score")
    assert problems("PaginatedJobListList", filtered) == []


# -- iterations ----------------------------------------------------------------------------------


async def test_iteration_answers_validate(sim: httpx.AsyncClient) -> None:
    listed = await get_json(sim, "/api/job-iterations/", job=SEEDED["completed"])
    assert problems("PaginatedJobIterationList", listed) == []
    one = await get_json(sim, f"/api/job-iterations/{listed['results'][0]['id']}/")
    assert problems("JobIteration", one) == []
    request = json.loads((FIXTURES / "job_iteration_create.request.docs-curl.json").read_text())
    created = await sim.post("/api/job-iterations/", json={**request, "job": SEEDED["pending"]})
    assert created.status_code == 201
    assert problems("JobIteration", created.json()) == []


# -- errors --------------------------------------------------------------------------------------


async def test_error_bodies_are_drf_errors(sim: httpx.AsyncClient, state: SimState) -> None:
    bodies = [
        await get_json(sim, f"/api/jobs/{MISSING}/", 404),
        await get_json(sim, f"/api/job-iterations/{MISSING}/", 404),
        await get_json(sim, "/api/jobs/", 404, page=50),
        await get_json(sim, "/api/jobs/", 400, status="done"),
        await get_json(sim, "/api/job-iterations/", 400, job=MISSING),
        (await sim.post("/api/jobs/", json={"job_type": "foo"})).json(),
        (await sim.post("/api/jobs/", json=[])).json(),
        (await sim.put(f"/api/jobs/{SEEDED['running']}/", json={})).json(),
    ]
    async with client_for("overmind", create_app("overmind", state=state)) as anonymous:
        bodies.append((await anonymous.get("/api/jobs/")).json())
    await sim.post("/_sim/faults", json={"kind": "rate_limit", "retry_after": 3})
    bodies.append(await get_json(sim, "/api/jobs/", 429))
    for body in bodies:
        assert problems("DRFError", body) == [], body
