"""schemathesis against a live server: no 500s, every response matches the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Response, checks
from schemathesis.generation.case import Case

from gateway.server.openapi import build_openapi
from tests.server.proc import Proc, example_config, gateway, write_config

KEY = "fuzz-key-0123456789abcdef"


@schemathesis.check
def no_internal_error(ctx: schemathesis.CheckContext, response: Response, case: Case) -> None:
    """500 is a bug of ours. Other 5xx are documented answers about the vendor (501 no such
    operation, 502/503/504 upstream failures), which status_code_conformance holds to the doc."""
    if response.status_code == 500:
        raise AssertionError(f"internal error: {response.text[:500]}")


CHECKS = [
    no_internal_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.ignored_auth,
]


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
JOB_EXAMPLES = {
    "done-llama-stack": "ls-sim~mmlu~eval-completed",
    "running-llama-stack": "ls-sim~mmlu~eval-in-progress",
    "done-nemo-v1": "nemo-v1-sim~eval-Fgba8Joty3mzZwwymkJacB",
    "running-nemo-v2": "nemo-v2-sim~job-adr6dqf5qweqr6mbdhzrkn",
    "done-overmind": "overmind-sim~7b1e0c2a-4f3d-4e5a-9c6b-000000000004",
    "done-digitalocean": "do-sim~9758a232-b351-11ef-bf8f-4e013e2ddde4",
    "done-datarobot": "datarobot-sim~classic~5f2b9a0c8e1d4a0012345602",
}
BACKEND_EXAMPLES = ["evals", "nemo-v2-sim", "overmind-sim", "do-sim", "datarobot-sim", "ls-sim"]


# The waiting routes, bounded for a request/response fuzzer (their behaviour has its own
# tests: tests/server/test_watch_*.py):
# - the event stream runs until the job is terminal, and the "running" examples never end, so
#   a fuzzer reading its body would hang: it is left out here;
# - a long-poll may last `wait` seconds (60 at most): the fuzzer may ask for 1 at most.
STREAMS = ["/v1/jobs/{job_id}/events"]
MAX_FUZZ_WAIT = 1


def document_with_examples() -> dict[str, Any]:
    """The document the live app serves (test_openapi checks that), plus example values."""
    document = build_openapi()
    for path in STREAMS:
        del document["paths"][path]
    for operations in document["paths"].values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["name"] == "job_id":
                    param["examples"] = {k: {"value": v} for k, v in JOB_EXAMPLES.items()}
                elif param["name"] == "backend":
                    param["examples"] = {b: {"value": b} for b in BACKEND_EXAMPLES}
                elif param["name"] == "wait":
                    param["schema"]["maximum"] = MAX_FUZZ_WAIT
    return document


schema = schemathesis.openapi.from_dict(document_with_examples())


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_live_api_conforms_to_its_document(case: Case, live: Proc) -> None:
    case.call_and_validate(
        base_url=live.url, headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS
    )
