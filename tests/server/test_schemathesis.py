"""schemathesis against a live server with caller auth on: all of schemathesis's default checks
(no server errors, statuses, content types, headers and bodies as documented, schema-valid
input accepted, schema-invalid input refused, auth not ignored, wrong methods 405...), on every
route of the document the server itself publishes, the waiting ones included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Response
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.generation.case import Case

from gateway.server.openapi import build_openapi
from tests.server.proc import Proc, example_config, gateway, write_config

KEY = "fuzz-key-0123456789abcdef"
REQUEST_TIMEOUT = 15.0  # seconds; every route below answers in well under one


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("schemathesis")
    config = example_config()
    config["auth"] = {"enabled": True, "keys": [{"name": "fuzz", "key": "${GW_FUZZ_KEY}"}]}
    config["server"]["access_log"] = False  # hundreds of requests; keep the log small
    path = write_config(workdir / "gateway.yaml", config)
    with gateway(workdir, path, env={"GW_FUZZ_KEY": KEY}) as proc:
        yield proc


# Real ids from the embedded simulators, so the runs reach past "not found" answers.
DONE_JOBS = {
    "done-llama-stack": "ls-sim~mmlu~eval-completed",
    "done-nemo-v1": "nemo-v1-sim~eval-Fgba8Joty3mzZwwymkJacB",
    "done-overmind": "overmind-sim~7b1e0c2a-4f3d-4e5a-9c6b-000000000004",
    "done-digitalocean": "do-sim~9758a232-b351-11ef-bf8f-4e013e2ddde4",
    "done-datarobot": "datarobot-sim~classic~5f2b9a0c8e1d4a0012345602",
}
RUNNING_JOBS = {
    "running-llama-stack": "ls-sim~mmlu~eval-in-progress",
    "running-nemo-v2": "nemo-v2-sim~job-adr6dqf5qweqr6mbdhzrkn",
}
BACKEND_EXAMPLES = ["evals", "nemo-v2-sim", "overmind-sim", "do-sim", "datarobot-sim", "ls-sim"]

# The waiting routes are bounded by what they are given, not by a changed document: a long-poll
# (`wait` up to 60 s) and the event stream (until the job is terminal) end at once for a
# finished job or one that does not exist, so they get finished jobs only. Their waiting
# itself has its own tests (tests/server/test_watch_*.py).
WAITING = {("/v1/jobs/{job_id}", "get"), ("/v1/jobs/{job_id}/events", "get")}

# Two additions to schemathesis's defaults, both documented answers of ours:
# - 5xx the document gives for the vendor (501 no such operation, 502/503/504 it failed) are
#   answers, not server errors; 500 stays a failure (a bug of ours);
# - invalid input may be refused by its size before its content: 414 (URL over 8 KiB, e.g. a
#   job id far past its maxLength) and 431 (headers over 32 KiB) are refusals too.
VENDOR_ANSWERS = ["501", "502", "503", "504"]
NEGATIVE_REFUSALS = [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "414", "431"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", *VENDOR_ANSWERS]},
            "negative_data_rejection": {"expected-statuses": NEGATIVE_REFUSALS},
        }
    }
)


def document_with_examples() -> dict[str, Any]:
    """The document the live app serves (test_openapi checks that), plus example values."""
    document = build_openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            jobs = DONE_JOBS if (path, method) in WAITING else {**DONE_JOBS, **RUNNING_JOBS}
            # Each operation its own copies: the document shares one dict per parameter.
            operation["parameters"] = [dict(p) for p in operation.get("parameters", [])]
            for param in operation["parameters"]:
                if param["name"] == "job_id":
                    param["examples"] = {k: {"value": v} for k, v in jobs.items()}
                elif param["name"] == "backend":
                    param["examples"] = {b: {"value": b} for b in BACKEND_EXAMPLES}
    return document


# Refusals of a request's shape: for schema-valid input, each is the schema and the server
# disagreeing (such as `targets: [{}]`, valid by the schema and refused). The other 400s a
# schema-valid request can get are about meaning, which no schema of the canonical API can
# say: a vendor that cannot express a field, a job id with the wrong number of parts for its
# backend's vendor, a page token this gateway never issued.
SHAPE_REFUSALS = (
    "invalid query:",
    "invalid submission:",
    "the body ",
    "a submission needs",
    "job id ",
    "send Idempotency-Key",
)


@schemathesis.check
def valid_input_passes_validation(
    ctx: schemathesis.CheckContext, response: Response, case: Case[Any]
) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code == 400:
        detail = str(response.json().get("detail", ""))
        assert not detail.startswith(SHAPE_REFUSALS), f"schema-valid input refused: {detail}"


schema = schemathesis.openapi.from_dict(document_with_examples(), config=CONFIG)
# positive_data_acceptance expects no 400 for schema-valid input; ours has the meaning-level
# ones above, and valid_input_passes_validation holds the shape-level ones to zero instead.
schema.config.checks.positive_data_acceptance.expected_statuses.append("400")


FUZZ = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def run_case(case: Case[Any], live: Proc) -> None:
    case.call_and_validate(
        base_url=live.url,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=REQUEST_TIMEOUT,
    )


@schema.parametrize()
@FUZZ
def test_live_api_conforms_to_its_document(case: Case[Any], live: Proc) -> None:
    run_case(case, live)
