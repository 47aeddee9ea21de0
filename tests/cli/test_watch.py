"""`eval-gateway jobs submit` and `jobs watch`: in-process (--config) and against a real
service (--url)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.schemas import Job, JobStatus, Result, Submission
from tests.server.proc import Proc, gateway
from tests.server.sse import NEMO_REQUEST, REQUESTS

EXAMPLE = "config.example.yaml"
DONE, FAILED, RUNNING = (f"ls-sim~mmlu~eval-{s}" for s in ("completed", "failed", "in-progress"))
NEMO = ["--evaluation", NEMO_REQUEST["evaluation"], "--model", "meta/llama-3.1-8b-instruct"]
NEMO += ["--endpoint", NEMO_REQUEST["targets"][0]["endpoint"]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("EVAL_GATEWAY_URL", raising=False)
    monkeypatch.delenv("EVAL_GATEWAY_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    with gateway(tmp_path_factory.mktemp("cli-watch"), Path(EXAMPLE).resolve()) as proc:
        yield proc


# -- in-process ----------------------------------------------------------------------------------


def test_watch_a_finished_job_shows_its_headline_metrics(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "watch", DONE, "--config", EXAMPLE])
    assert result.exit_code == 0, result.output
    assert f"watching {DONE} on ls-sim (llama-stack" in result.output
    assert "succeeded" in result.output and "headline metrics" in result.output
    assert f"eval-gateway jobs result {DONE}" in result.output


def test_watch_json_is_one_line_per_change_then_the_result(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "watch", DONE, "--config", EXAMPLE, "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["event"] for line in lines] == ["status", "result"]
    assert Job.model_validate(lines[0]["job"]).status is JobStatus.SUCCEEDED
    assert lines[0]["id"].count(".") == 2
    assert Result.model_validate(lines[1]["result"]).job_id == DONE


def test_watch_a_failed_job_exits_3(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "watch", FAILED, "--config", EXAMPLE, "--json"])
    assert result.exit_code == 3, result.output
    (line,) = [json.loads(line) for line in result.output.splitlines()]
    assert line["job"]["status"] == "failed"


def test_watch_gives_up_at_the_timeout(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "watch", RUNNING, "--config", EXAMPLE, "--timeout", "0.5"])
    assert result.exit_code == 1
    assert "Job not ready (409)" in result.output and "job_status: running" in result.output


def test_submit_and_wait_in_process(cli: CliRunner) -> None:
    args = ["jobs", "submit", "--config", EXAMPLE, "--backend", "evals", *NEMO, "--wait"]
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    submission = Submission.model_validate(out["submission"])
    assert (submission.requested, submission.backend) == ("evals", "nemo-v1-sim")
    assert [Job.model_validate(j).status for j in out["jobs"]] == [JobStatus.SUCCEEDED]
    assert Result.model_validate(out["results"][0]).metrics


def test_every_field_reaches_the_vendor_or_is_refused_by_name(cli: CliRunner) -> None:
    args = ["jobs", "submit", "--config", EXAMPLE, "--backend", "evals", *NEMO, "--json"]
    result = cli.invoke(app, [*args, "--name", "cli-test", "--temperature", "0.2"])
    assert result.exit_code == 1
    problem = json.loads(result.output)
    assert [e["loc"] for e in problem["errors"]] == [["body", "name"], ["body", "temperature"]]


def test_submit_needs_a_target(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "submit", "-b", "ls-sim", "-e", "mmlu"])
    assert result.exit_code == 2 and "--model or --agent" in result.output


def test_submit_checks_the_request_before_any_call(cli: CliRunner) -> None:
    args = ["jobs", "submit", "-b", "ls-sim", "-e", "mmlu", "-m", "x", "--temperature", "7"]
    result = cli.invoke(app, [*args, "--config", EXAMPLE])
    assert result.exit_code == 1
    assert "Invalid request (400)" in result.output and "body.temperature" in result.output


def test_submit_refuses_what_the_vendor_cannot_express(cli: CliRunner) -> None:
    args = ["jobs", "submit", "-b", "agent-evals", "-e", "x", "-m", "gpt", "--config", EXAMPLE]
    result = cli.invoke(app, args)
    assert result.exit_code == 1
    assert "cannot express 'targets.0.model'" in result.output


def test_vendor_options_are_json_when_they_parse(cli: CliRunner) -> None:
    request = REQUESTS["overmind-sim"]
    options = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in
               request["vendor_options"].items()]  # fmt: skip
    args = ["jobs", "submit", "-b", "overmind-sim", "-e", "prompt_tuning"]
    args += ["--agent", request["targets"][0]["agent"], "--config", EXAMPLE, "--json"]
    result = cli.invoke(app, [*args, *(a for o in options for a in ("-o", o))])
    assert result.exit_code == 0, result.output
    submission = Submission.model_validate_json(result.output)
    assert submission.jobs[0].status is JobStatus.QUEUED
    bad = cli.invoke(app, [*args, "-o", "no-equals-sign"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


# -- against a running service -------------------------------------------------------------------


def test_submit_then_watch_against_a_service(cli: CliRunner, service: Proc) -> None:
    args = ["jobs", "submit", "--url", service.url, "--backend", "evals", *NEMO]
    first = cli.invoke(app, [*args, "--idempotency-key", "cli-key-1", "--json"])
    assert first.exit_code == 0, first.output
    submission = Submission.model_validate_json(first.output)
    again = cli.invoke(app, [*args, "--idempotency-key", "cli-key-1"])
    assert again.exit_code == 0, again.output
    assert "already submitted with idempotency key 'cli-key-1'" in again.output
    job_id = submission.jobs[0].id
    assert job_id in again.output and f"eval-gateway jobs watch {job_id}" in again.output

    watched = cli.invoke(app, ["jobs", "watch", job_id, "--url", service.url])
    assert watched.exit_code == 0, watched.output
    out = watched.output
    assert out.index("queued") < out.index("running") < out.index("succeeded")
    assert "headline metrics" in out and "bleu" in out


def test_watch_json_against_a_service(cli: CliRunner, service: Proc) -> None:
    result = cli.invoke(app, ["jobs", "watch", DONE, "--url", service.url, "--json"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line)["event"] for line in result.output.splitlines()]
    assert events == ["status", "result"]


def test_watch_problems_from_a_service(cli: CliRunner, service: Proc) -> None:
    missing = cli.invoke(app, ["jobs", "watch", "ls-sim~mmlu~nope", "--url", service.url])
    assert missing.exit_code == 1 and "Job not found (404)" in missing.output
    slow = cli.invoke(app, ["jobs", "watch", RUNNING, "--url", service.url, "--timeout", "1"])
    assert slow.exit_code == 1 and "job_status: running" in slow.output
