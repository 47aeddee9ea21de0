"""The CLI's remote mode (`--url`) is the remote client: its retries and idempotency keys,
and a plain typed error (never a traceback) when the answer is not the gateway's. The server
here is a scripted starlette app on a real loopback socket."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from gateway.cli.app import app
from tests.client.test_client_answers import SUBMISSION
from tests.support.servers import serve_in_thread

seen: list[Request] = []


async def not_the_gateway(request: Request) -> Response:
    seen.append(request)
    return Response("<html>502 Bad Gateway</html>", status_code=502, media_type="text/html")


async def busy_then_accepted(request: Request) -> Response:
    seen.append(request)
    if len([r for r in seen if r.method == "POST"]) == 1:
        body = {"type": "/problems/upstream-unavailable", "title": "t", "status": 503}
        headers = {"Retry-After": "0"}
        return Response(json.dumps(body), 503, headers, media_type="application/problem+json")
    return JSONResponse(SUBMISSION, status_code=202)


@pytest.fixture(scope="module")
def scripted() -> Iterator[str]:
    routes = [
        Route("/v1/jobs/{job_id}", not_the_gateway),
        Route("/v1/backends/{backend}/jobs", busy_then_accepted, methods=["POST"]),
    ]
    with serve_in_thread(Starlette(routes=routes)) as url:
        yield url


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("EVAL_GATEWAY_URL", raising=False)
    monkeypatch.delenv("EVAL_GATEWAY_API_KEY", raising=False)
    seen.clear()
    return CliRunner()


def test_an_answer_that_is_not_the_gateways_is_a_plain_error(cli: CliRunner, scripted: str) -> None:
    result = cli.invoke(app, ["jobs", "get", "ls-sim~mmlu~x", "--url", scripted])
    assert result.exit_code == 1
    expected = "error: GET /v1/jobs/ls-sim~mmlu~x: HTTP 502 that is not a gateway problem"
    assert expected in result.stderr
    assert "Traceback" not in result.output


def test_a_remote_submit_is_retried_under_one_key(cli: CliRunner, scripted: str) -> None:
    args = ["jobs", "submit", "--url", scripted, "-b", "ls-sim", "-e", "mmlu", "-m", "m", "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    keys = [r.headers.get("idempotency-key") for r in seen]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0] is not None
