"""`eval-gateway jobs watch` rides out a failing vendor (issue 11, item 6): a retryable problem
(5xx, timeout, rate limit, open circuit) is shown and the watch goes on with backoff until the
job ends or its own --timeout; a problem that will not pass ends it at once. Through a real
gateway in front of a standalone Llama Stack simulator whose faults are armed per job."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from typer.testing import CliRunner

from gateway.cli import follow as cli_follow
from gateway.cli.app import app
from tests.server.proc import Proc
from tests.server.sse import NO_CACHE, create_sim_job


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("EVAL_GATEWAY_URL", raising=False)
    monkeypatch.delenv("EVAL_GATEWAY_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(
        cli_follow, "RETRY_INITIAL", 0.2, raising=False
    )  # a quick test; same backoff rule
    return CliRunner()


def failing_job(ls_vendor: Proc, gateway_calls: int) -> str:
    """A finished job whose first `gateway_calls` reads by the gateway get 504s (the gateway
    itself retries each call 3 times)."""
    job_id = create_sim_job(ls_vendor.url, ("completed", None)).replace("ls-remote", NO_CACHE)
    vendor_job = job_id.rsplit("~", 1)[1]
    armed = httpx.post(
        f"{ls_vendor.url}/_sim/faults",
        json={
            "kind": "server_error",
            "status": 504,  # upstream-timeout, as in the issue (the client retries 503s itself)
            "count": 3 * gateway_calls,
            "path": vendor_job,
        },
    )
    assert armed.status_code == 201, armed.text
    return job_id


def test_watch_keeps_going_through_retryable_failures_and_says_so(
    cli: CliRunner, ls_vendor: Proc, watch_proxy: Proc
) -> None:
    job_id = failing_job(ls_vendor, gateway_calls=2)
    args = ["jobs", "watch", job_id, "--url", watch_proxy.url, "--timeout", "30", "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["event"] for line in lines] == ["problem", "problem", "status", "result"]
    problems = [line for line in lines if line["event"] == "problem"]
    assert all(p["problem"]["retryable"] for p in problems)
    assert [p["retry_in"] for p in problems] == [0.2, 0.4]  # backoff between attempts
    assert lines[2]["job"]["status"] == "succeeded"


def test_watch_shows_people_that_the_vendor_is_failing(
    cli: CliRunner, ls_vendor: Proc, watch_proxy: Proc
) -> None:
    job_id = failing_job(ls_vendor, gateway_calls=1)
    result = cli.invoke(app, ["jobs", "watch", job_id, "--url", watch_proxy.url, "--timeout", "30"])
    assert result.exit_code == 0, result.output
    assert "vendor failing: upstream-" in result.output
    assert "still watching" in result.output and "succeeded" in result.output


def test_watch_gives_up_at_its_own_timeout_while_the_vendor_keeps_failing(
    cli: CliRunner, ls_vendor: Proc, watch_proxy: Proc
) -> None:
    job_id = failing_job(ls_vendor, gateway_calls=1000)
    began = time.monotonic()
    result = cli.invoke(app, ["jobs", "watch", job_id, "--url", watch_proxy.url, "--timeout", "3"])
    took = time.monotonic() - began
    assert result.exit_code == 1, result.output
    assert "gave up waiting" in result.output and "still failing" in result.output
    assert 2.9 <= took < 10, took  # kept watching up to --timeout, not beyond
    httpx.delete(f"{ls_vendor.url}/_sim/faults")


def test_a_problem_that_will_not_pass_ends_the_watch_at_once(
    cli: CliRunner, watch_proxy: Proc
) -> None:
    began = time.monotonic()
    missing = f"{NO_CACHE}~mmlu~no-such-job"
    result = cli.invoke(
        app, ["jobs", "watch", missing, "--url", watch_proxy.url, "--timeout", "30"]
    )
    assert result.exit_code == 1, result.output
    assert "job-not-found" in result.output or "not found" in result.output.lower()
    assert time.monotonic() - began < 5
