"""The remote client on its own, against scripted answers (httpx.MockTransport): retries and
Retry-After, idempotency keys, problem+json back into typed errors, answers that are not the
gateway's, and secrets kept out of repr, messages and logs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway import (
    InvalidRequest,
    JobNotFound,
    NotFound,
    UpstreamInvalidResponse,
    UpstreamProblem,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from gateway.client import (
    AsyncGatewayClient,
    GatewayClient,
    GatewayUnreachable,
    InvalidGatewayResponse,
    RetryPolicy,
    problem_details,
)
from gateway.errors import ERROR_CLASSES
from gateway.schemas import Job

URL = "http://gateway.test"
SECRET = "sk-client-secret-0123456789"
FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02)
JOB: dict[str, Any] = {
    "id": "ls-sim~mmlu~eval-1",
    "backend": "ls-sim",
    "vendor": "llama-stack",
    "vendor_job_id": "eval-1",
    "status": "running",
    "vendor_status": "in_progress",
    "terminal": False,
}
SUBMISSION = {"backend": "ls-sim", "requested": "ls-sim", "vendor": "llama-stack", "jobs": [JOB]}
REQUEST = {"evaluation": "mmlu", "targets": [{"model": "m"}]}
Handler = Callable[[httpx.Request], httpx.Response]


def problem(slug: str, status: int, **members: Any) -> httpx.Response:
    body = {"type": f"/problems/{slug}", "title": slug, "status": status, **members}
    headers = {"content-type": "application/problem+json"}
    if "retry_after" in members:
        headers["retry-after"] = str(int(members["retry_after"]))
    return httpx.Response(status, content=json.dumps(body), headers=headers)


class Script:
    """Answers in order (the last one repeats), recording each request and when it came."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(time.monotonic())
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self, **options: Any) -> GatewayClient:
        options.setdefault("retry", FAST)
        return GatewayClient(URL, api_key=SECRET, transport=httpx.MockTransport(self), **options)


def ok(body: Any = JOB, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


# -- retries ---------------------------------------------------------------------------------


def test_the_gateways_503_is_retried_then_answers() -> None:
    script = Script(problem("upstream-unavailable", 503, retry_after=0), ok())
    with script.client() as gw:
        assert gw.get_job(JOB["id"]) == Job.model_validate(JOB)
    assert len(script.requests) == 2


def test_retry_after_is_honoured() -> None:
    script = Script(problem("upstream-rate-limited", 429, retry_after=0.3), ok())
    with script.client() as gw:
        gw.get_job(JOB["id"])
    assert script.times[1] - script.times[0] >= 0.3


def test_a_retry_after_beyond_the_cap_is_raised_not_slept_through() -> None:
    script = Script(problem("upstream-rate-limited", 429, retry_after=120, backend="ls-sim"))
    gw = script.client(retry=RetryPolicy(max_retry_after=30))
    with gw, pytest.raises(UpstreamRateLimited) as caught:
        gw.get_job(JOB["id"])
    assert len(script.requests) == 1
    assert caught.value.retry_after == 120 and caught.value.backend == "ls-sim"


def test_retries_are_bounded_and_the_last_problem_is_raised() -> None:
    script = Script(problem("upstream-unavailable", 503, detail="breaker open"))
    gw = script.client(retry=RetryPolicy(attempts=4, backoff=0.01))
    with gw, pytest.raises(UpstreamUnavailable, match="breaker open"):
        gw.list_jobs("ls-sim")
    assert len(script.requests) == 4


def test_other_problems_are_not_retried() -> None:
    script = Script(problem("job-not-found", 404), ok())
    with script.client() as gw, pytest.raises(JobNotFound):
        gw.get_job(JOB["id"])
    assert len(script.requests) == 1


def test_connection_errors_are_retried_then_typed() -> None:
    script = Script(httpx.ConnectError("refused"), ok())
    with script.client() as gw:
        assert gw.get_job(JOB["id"]).id == JOB["id"]
    down = Script(httpx.ConnectError("refused"))
    with down.client() as gw, pytest.raises(GatewayUnreachable) as caught:
        gw.get_job(JOB["id"])
    assert len(down.requests) == 3 and isinstance(caught.value, UpstreamUnavailable)
    assert caught.value.detail.startswith(f"cannot reach {URL}")


def test_a_submission_carries_one_key_across_its_retries() -> None:
    script = Script(
        problem("upstream-unavailable", 503), httpx.ReadError("reset"), ok(SUBMISSION, 202)
    )
    with script.client() as gw:
        gw.submit("ls-sim", REQUEST)
        gw.submit("ls-sim", REQUEST)
    keys = [r.headers.get("idempotency-key") for r in script.requests]
    assert len(keys) == 4 and keys[0] == keys[1] == keys[2] != keys[3]
    assert keys[0] is not None and keys[0].startswith("client-")
    assert json.loads(script.requests[0].content) == REQUEST


def test_a_given_key_is_sent_as_is() -> None:
    script = Script(ok(SUBMISSION, 202))
    with script.client() as gw:
        gw.submit("ls-sim", REQUEST, idempotency_key="mine-1")
    assert script.requests[0].headers["idempotency-key"] == "mine-1"


def test_a_submission_without_a_key_is_never_retried() -> None:
    for failure in (problem("upstream-unavailable", 503), httpx.ReadError("reset")):
        script = Script(failure, ok(SUBMISSION, 202))
        with script.client(auto_idempotency_keys=False) as gw, pytest.raises(UpstreamProblem):
            gw.submit("ls-sim", REQUEST)
        assert len(script.requests) == 1
        assert "idempotency-key" not in script.requests[0].headers


def test_a_cancel_is_retried_only_when_it_surely_was_not_sent() -> None:
    unsent = Script(httpx.ConnectError("refused"), ok())
    with unsent.client() as gw:
        gw.cancel_job(JOB["id"])
    assert len(unsent.requests) == 2
    sent = Script(httpx.ReadError("reset"), ok())
    with sent.client() as gw, pytest.raises(GatewayUnreachable):
        gw.cancel_job(JOB["id"])
    assert len(sent.requests) == 1


async def test_the_async_client_retries_the_same_way() -> None:
    script = Script(
        problem("upstream-unavailable", 503, retry_after=0), httpx.ConnectError("x"), ok()
    )
    transport = httpx.MockTransport(script)
    async with AsyncGatewayClient(URL, transport=transport, retry=FAST) as gw:
        assert (await gw.get_job(JOB["id"])).id == JOB["id"]
    assert len(script.requests) == 3


# -- problems back into typed errors ----------------------------------------------------------


def test_every_catalog_slug_becomes_its_class_with_its_members() -> None:
    for slug, cls in ERROR_CLASSES.items():
        status = cls.problem_type.status
        members = {
            "detail": f"the {slug}",
            "backend": "nemo-prod",
            "vendor": "nemo-evaluator",
            "job_id": "nemo-prod~eval-1",
            "job_status": "running",
            "vendor_status_code": 418,
            "vendor_error": {"message": "teapot"},
            "request_id": "req-1",
            "instance": "/v1/jobs/nemo-prod~eval-1",
            "errors": [{"loc": ["body", "x"], "msg": "bad"}],
            "extension_from_a_newer_gateway": 7,
        }
        script = Script(problem(slug, status, **members))
        gw = script.client(retry=RetryPolicy(attempts=1))
        with gw, pytest.raises(cls) as caught:
            gw.get_job("nemo-prod~eval-1")
        exc = caught.value
        assert type(exc) is cls, slug
        assert (exc.detail, exc.backend, exc.vendor, exc.job_status) == (
            f"the {slug}", "nemo-prod", "nemo-evaluator", "running",
        )  # fmt: skip
        assert (exc.vendor_status_code, exc.vendor_error, exc.request_id) == (
            418, {"message": "teapot"}, "req-1",
        )  # fmt: skip
        assert exc.errors is not None and exc.errors[0].loc == ["body", "x"]
        wire = problem_details(exc)
        assert wire.status == status and wire.instance == "/v1/jobs/nemo-prod~eval-1"
        assert wire.model_extra == {"extension_from_a_newer_gateway": 7}


def test_the_http_status_of_a_problem_is_kept() -> None:
    script = Script(problem("invalid-request", 413, detail="body too large"))
    with script.client() as gw, pytest.raises(InvalidRequest) as caught:
        gw.get_job(JOB["id"])
    assert problem_details(caught.value).status == 413


def test_an_unknown_slug_falls_back_by_status() -> None:
    script = Script(problem("tenant-not-found", 404, detail="no such tenant"))
    with script.client() as gw, pytest.raises(NotFound, match="no such tenant"):
        gw.get_job(JOB["id"])


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (
            httpx.Response(
                502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
            ),
            502,
        ),
        (httpx.Response(200, text="not json"), 200),
        (httpx.Response(200, json={"id": "x"}), 200),
        (
            httpx.Response(500, content=b"{", headers={"content-type": "application/problem+json"}),
            500,
        ),
        (httpx.Response(404, text=""), 404),
    ],
)
def test_an_answer_that_is_not_the_gateways_is_a_typed_invalid_response(
    answer: httpx.Response, status: int
) -> None:
    script = Script(answer)
    with script.client() as gw, pytest.raises(InvalidGatewayResponse) as caught:
        gw.get_job(JOB["id"])
    assert isinstance(caught.value, UpstreamInvalidResponse)
    assert caught.value.http_status == status
    assert caught.value.problem().slug == "upstream-invalid-response"


def test_a_proxys_503_page_is_retried_then_typed() -> None:
    page = httpx.Response(503, text="<html>down</html>", headers={"content-type": "text/html"})
    script = Script(page)
    with script.client() as gw, pytest.raises(InvalidGatewayResponse) as caught:
        gw.get_job(JOB["id"])
    assert len(script.requests) == 3 and caught.value.http_status == 503


# -- secrets -----------------------------------------------------------------------------------


def test_the_key_is_sent_but_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(problem("upstream-unavailable", 503, retry_after=0), httpx.ConnectError("x"))
    caplog.set_level(logging.DEBUG)
    with script.client() as gw:
        assert SECRET not in repr(gw) and "***" in repr(gw)
        assert SECRET not in repr(gw.settings)
        with pytest.raises(GatewayUnreachable) as caught:
            gw.get_job(JOB["id"])
    assert script.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert SECRET not in caught.value.problem().model_dump_json()
    assert "retrying GET /v1/jobs/ls-sim~mmlu~eval-1" in caplog.text
    assert SECRET not in caplog.text


def test_a_key_in_the_url_is_refused() -> None:
    with pytest.raises(ValueError, match="api_key"):
        GatewayClient(f"http://me:{SECRET}@gateway.test")
    with pytest.raises(ValueError, match="http"):
        GatewayClient("gateway.test:8080")
