"""The canonical schema as users see it: JSON Schema files, statuses, problems, exceptions."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import gateway
from gateway import GatewayError, Job, JobStatus, ProblemType
from gateway.errors import ERROR_CLASSES, UpstreamProblem
from gateway.schemas.export import json_schemas, render

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_published_json_schemas_are_current() -> None:
    for filename, schema in json_schemas().items():
        path = SCHEMA_DIR / filename
        assert path.exists(), f"run: python -m gateway.schemas.export docs/schemas ({filename})"
        assert path.read_text() == render(schema), (
            f"{filename} is stale: python -m gateway.schemas.export docs/schemas"
        )


def test_a_serialized_job_validates_against_the_published_schema() -> None:
    job = Job(
        id="ls~mmlu~0",
        backend="ls",
        vendor="llama-stack",
        vendor_job_id="0",
        status=JobStatus.FAILED,
        vendor_status="failed",
        error=gateway.UpstreamError("boom", backend="ls").problem(),
    )
    schema = json.loads((SCHEMA_DIR / "job.schema.json").read_text())
    document = job.model_dump(mode="json")
    jsonschema.validate(document, schema)
    assert document["terminal"] is True


def test_statuses_match_the_design() -> None:
    assert [s.value for s in JobStatus] == [
        "queued",
        "running",
        "paused",
        "cancelling",
        "succeeded",
        "partially_succeeded",
        "failed",
        "cancelled",
        "expired",
        "unknown",
    ]
    terminal = {s.value for s in JobStatus if s.terminal}
    assert terminal == {"succeeded", "partially_succeeded", "failed", "cancelled", "expired"}


def test_every_problem_type_has_one_exception_class() -> None:
    assert {p.slug for p in ProblemType} == set(ERROR_CLASSES)
    for slug, cls in ERROR_CLASSES.items():
        problem = cls("x").problem()
        assert problem.slug == slug
        assert problem.status == ProblemType.from_slug(slug).status
        assert isinstance(cls("x"), GatewayError)


def test_problem_round_trips_into_the_same_exception() -> None:
    err = gateway.UpstreamRateLimited("slow down", backend="do", retry_after=3.0, attempts=4)
    again = GatewayError.from_problem(err.problem("https://gw.example/problems/"))
    assert type(again) is gateway.UpstreamRateLimited
    assert (again.retry_after, again.attempts, again.backend) == (3.0, 4, "do")


def test_upstream_problems_share_a_branch() -> None:
    for cls in (
        gateway.UpstreamTimeout,
        gateway.UpstreamUnavailable,
        gateway.UpstreamAuthFailed,
        gateway.UpstreamInvalidResponse,
        gateway.UpstreamRateLimited,
    ):
        assert issubclass(cls, UpstreamProblem)
    assert not issubclass(gateway.JobNotReady, UpstreamProblem)


def test_problem_type_uri_uses_the_configured_base() -> None:
    problem = gateway.JobNotFound("gone").problem("https://gw.example/problems/")
    assert problem.type == "https://gw.example/problems/job-not-found"
    assert problem.to_json_dict()["title"] == "Job not found"


@pytest.mark.parametrize("progress", [-0.1, 1.5])
def test_progress_is_a_fraction(progress: float) -> None:
    with pytest.raises(ValueError, match="progress"):
        Job(
            id="a~b",
            backend="a",
            vendor="overmind",
            vendor_job_id="b",
            status=JobStatus.RUNNING,
            vendor_status="running",
            progress=progress,
        )
