"""Each input of a request is parsed, validated and looked up once, then handed on (issue 10):
the job id of the URL, the backend name, the submission body. Counted on the proxy in process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from gateway import config_from_dict, ids
from gateway.config import GatewayConfig
from gateway.core.job_submits import as_submit_request
from gateway.errors import InvalidRequest, field_errors
from gateway.schemas import SubmitRequest
from gateway.server.app import create_app
from tests.server.sse import REQUESTS

JOB = "ls~mmlu~eval-completed"
RUNNING = "ls~mmlu~eval-in-progress"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Counter[str]]]:
    """An in-process proxy, and how often job ids were parsed, names resolved and submissions
    validated since the last `calls.clear()`."""
    calls: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def count(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        return count

    monkeypatch.setattr(ids, "_parse", counting("parse", ids._parse))
    monkeypatch.setattr(GatewayConfig, "resolve", counting("resolve", GatewayConfig.resolve))
    real_validate = SubmitRequest.model_validate
    monkeypatch.setattr(
        SubmitRequest, "model_validate", staticmethod(counting("validate", real_validate))
    )
    config = config_from_dict(
        {
            "backends": {
                "ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"},
                "nemo": {"vendor": "nemo-evaluator", "base_url": "sim://nemo-evaluator"},
            },
            "aliases": {"evals": "ls", "nemo-evals": "nemo"},
            "ledger": {"enabled": False},
        }
    )
    with TestClient(create_app(config)) as api:
        calls.clear()
        yield api, calls


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/jobs/{JOB}"),
        ("GET", f"/v1/jobs/{JOB}?include=raw"),
        ("GET", f"/v1/jobs/{JOB}/result"),
        ("POST", f"/v1/jobs/{RUNNING}/cancel"),
    ],
)
def test_a_job_route_parses_the_id_and_looks_up_its_backend_once(
    counted: tuple[TestClient, Counter[str]], method: str, path: str
) -> None:
    api, calls = counted
    answer = api.request(method, path, headers={"Cache-Control": "no-cache"})
    assert answer.status_code == 200, answer.text
    assert calls["parse"] == 1
    assert calls["resolve"] == 1


def test_a_listing_looks_up_its_backend_once(counted: tuple[TestClient, Counter[str]]) -> None:
    api, calls = counted
    assert api.get("/v1/backends/nemo-evals/jobs").status_code == 200
    assert calls["resolve"] == 1


def test_a_submission_is_validated_and_its_backend_looked_up_once(
    counted: tuple[TestClient, Counter[str]],
) -> None:
    api, calls = counted
    answer = api.post("/v1/backends/evals/jobs", json=REQUESTS["ls-sim"])
    assert answer.status_code == 202, answer.text
    assert answer.json()["requested"] == "evals" and answer.json()["backend"] == "ls"
    assert calls["validate"] == 1
    assert calls["resolve"] == 1


def test_a_bad_job_id_or_backend_is_still_refused_in_the_same_order(
    counted: tuple[TestClient, Counter[str]],
) -> None:
    api, _ = counted
    # A malformed id is a 400 before the query is read; an unknown backend a 404 after it.
    assert api.get("/v1/jobs/no-separator?bogus=1").json()["title"] == "Invalid request"
    assert api.get("/v1/jobs/nope~x?bogus=1").status_code == 400
    assert api.get("/v1/jobs/nope~x").status_code == 404
    parts = api.get("/v1/jobs/ls~only-one-part")
    assert parts.status_code == 400 and "part(s) after the backend" in parts.json()["detail"]


def test_field_errors_place_each_pydantic_error_and_may_reword_it(
    counted: tuple[TestClient, Counter[str]],
) -> None:
    with pytest.raises(ValidationError) as caught:
        SubmitRequest.model_validate({"evaluation": {}, "targets": "x", "extra": 1})
    errors = field_errors(caught.value, "body", {"extra_forbidden": "no such field"})
    assert errors and all(e.loc[0] == "body" for e in errors)
    assert [e.type for e in errors] == [e["type"] for e in caught.value.errors()]
    reworded = [e for e in errors if e.type == "extra_forbidden"]
    assert reworded and all(e.msg == "no such field" for e in reworded)
    # The library and the proxy list a bad submission's fields the same way.
    api, _ = counted
    over_http = api.post("/v1/backends/ls/jobs", json={"targets": "x"}).json()["errors"]
    with pytest.raises(InvalidRequest) as library:
        as_submit_request({"targets": "x"})
    assert library.value.errors is not None
    assert over_http == [e.model_dump() for e in library.value.errors]
