"""The `eval-gateway` CLI: check-config, jobs (in-process and against a running service)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.schemas import Job, JobStatus, Page, Problem
from tests.server.proc import Proc, example_config, gateway, simulator, write_config

DO_DONE = "do-sim~9758a232-b351-11ef-bf8f-4e013e2ddde4"
DO_RUNNING = "do-sim~a2000000-b351-11ef-bf8f-4e013e2ddde4"
KEY = "cli-key-0123456789abcdef"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("EVAL_GATEWAY_URL", raising=False)
    monkeypatch.delenv("EVAL_GATEWAY_API_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    workdir = tmp_path_factory.mktemp("cli-service")
    config = example_config()
    config["auth"] = {"enabled": True, "keys": [{"name": "cli", "key": "${GW_CLI_KEY}"}]}
    path = write_config(workdir / "gateway.yaml", config)
    with gateway(workdir, path, env={"GW_CLI_KEY": KEY}) as proc:
        yield proc


# -- check-config ---------------------------------------------------------------------------


def test_check_config_accepts_the_example(cli: CliRunner) -> None:
    result = cli.invoke(app, ["check-config", "config.example.yaml"])
    assert result.exit_code == 0, result.output
    assert "ok: 6 backend(s), 2 alias(es), caller auth OFF" in result.output


def test_check_config_lists_every_problem_with_its_key_path(cli: CliRunner, tmp_path: Path) -> None:
    config = example_config()
    config["aliases"]["evals"] = "nemo-v9-sim"
    config["server"]["max_body_byte"] = 10
    config["auth"] = {"enabled": True, "keys": [{"name": "ci", "key": "${GW_UNSET_VAR_X}"}]}
    path = write_config(tmp_path / "bad.yaml", config)
    result = cli.invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2
    assert f"invalid config: {path}" in result.output
    assert "auth.keys.0.key: environment variable GW_UNSET_VAR_X is not set" in result.output


def test_check_config_names_unknown_keys_and_what_is_allowed(
    cli: CliRunner, tmp_path: Path
) -> None:
    config = example_config()
    config["server"]["max_body_byte"] = 10
    config["auth"] = {"enabled": True, "keys": [{"name": "ci", "key_sha": "ab"}]}
    path = write_config(tmp_path / "bad.yaml", config)
    result = cli.invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2
    assert "server.max_body_byte: unknown key (did you mean 'max_body_bytes'?)" in result.output
    assert "auth.keys.0.key_sha: unknown key (did you mean 'key_sha256'?)" in result.output


def test_check_config_refuses_a_key_limited_to_an_unknown_backend(
    cli: CliRunner, tmp_path: Path
) -> None:
    config = example_config()
    digest = "0" * 64
    config["auth"] = {"keys": [{"name": "ci", "key_sha256": digest, "backends": ["evalz"]}]}
    path = write_config(tmp_path / "bad.yaml", config)
    result = cli.invoke(app, ["check-config", str(path)])
    assert result.exit_code == 2
    expected = "auth.keys.0.backends.0: 'evalz' is not a backend or alias (did you mean"
    assert expected in result.output


def test_serve_refuses_a_bad_config_before_listening(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("backends: {}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--config", str(path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "backends:" in done.stderr and "invalid config" in done.stderr


# -- jobs, in-process ------------------------------------------------------------------------


def test_jobs_get_shows_a_table(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "get", DO_DONE])
    assert result.exit_code == 0, result.output
    assert f"job {DO_DONE}" in result.output
    assert "succeeded (terminal)" in result.output
    assert "EVALUATION_RUN_SUCCESSFUL" in result.output


def test_jobs_get_json_is_the_canonical_job(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "get", DO_DONE, "--json"])
    assert result.exit_code == 0
    job = Job.model_validate_json(result.stdout)
    assert job.id == DO_DONE and job.status is JobStatus.SUCCEEDED


def test_jobs_list_through_an_alias(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "list", "evals", "--page-size", "2", "--json"])
    assert result.exit_code == 0
    page = Page.model_validate_json(result.stdout)
    assert len(page.items) == 2 and page.next_page_token
    table = cli.invoke(app, ["jobs", "list", "evals", "--page-size", "2"])
    assert page.items[0].id in table.output
    assert f"--page-token {page.next_page_token}" in table.output


def test_jobs_result_of_a_running_job_prints_the_problem_and_fails(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "result", DO_RUNNING])
    assert result.exit_code == 1
    assert "error: Job not ready (409)" in result.stderr
    assert "job_status: running" in result.stderr
    as_json = cli.invoke(app, ["jobs", "result", DO_RUNNING, "--json"])
    assert as_json.exit_code == 1
    problem = Problem.model_validate_json(as_json.stdout)
    assert problem.slug == "job-not-ready" and problem.job_status == "running"


def test_jobs_result_of_a_finished_job(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "result", DO_DONE])
    assert result.exit_code == 0, result.output
    assert f"result of {DO_DONE} (succeeded)" in result.output


def test_jobs_with_a_bad_config_file_lists_its_problems(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("backends: {x: {vendor: nope, base_url: sim://nope}}\n", encoding="utf-8")
    result = cli.invoke(app, ["jobs", "get", DO_DONE, "--config", str(path)])
    assert result.exit_code == 2
    assert "backends.x.vendor: unknown vendor" in result.stderr


# -- jobs, against a running service ---------------------------------------------------------


def test_jobs_against_a_service_with_the_key_from_the_environment(
    cli: CliRunner, service: Proc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVAL_GATEWAY_API_KEY", KEY)
    result = cli.invoke(app, ["jobs", "get", DO_DONE, "--url", service.url, "--json"])
    assert result.exit_code == 0, result.output
    assert Job.model_validate_json(result.stdout).status is JobStatus.SUCCEEDED
    monkeypatch.setenv("EVAL_GATEWAY_URL", service.url)  # the URL from the environment too
    listed = cli.invoke(app, ["jobs", "list", "overmind-sim", "--status", "running"])
    assert listed.exit_code == 0 and "overmind-sim~" in listed.output


def test_a_service_problem_is_printed_plainly_with_its_request_id(
    cli: CliRunner, service: Proc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVAL_GATEWAY_API_KEY", KEY)
    result = cli.invoke(app, ["jobs", "cancel", DO_RUNNING, "--url", service.url])
    assert result.exit_code == 1
    assert "error: Unsupported operation (501)" in result.stderr
    assert "request_id: " in result.stderr


def test_a_missing_key_is_unauthorized(cli: CliRunner, service: Proc) -> None:
    result = cli.invoke(app, ["jobs", "get", DO_DONE, "--url", service.url, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["type"] == "/problems/unauthorized"


def test_an_unreachable_service_is_a_plain_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "get", DO_DONE, "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "error: cannot reach http://127.0.0.1:9" in result.stderr


# -- simulate --------------------------------------------------------------------------------


def test_simulate_serves_a_vendor_simulator_on_loopback(tmp_path: Path) -> None:
    with simulator(tmp_path, "digitalocean-genai") as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        jobs = httpx.get(sim.url + "/_sim/jobs").json()
        assert jobs["vendor"] == "digitalocean-genai" and jobs["jobs"]


def test_simulate_refuses_an_unknown_vendor(cli: CliRunner) -> None:
    result = cli.invoke(app, ["simulate", "openai"])
    assert result.exit_code == 2
    assert "no simulator for vendor 'openai'" in result.stderr


# -- usability (issue 11) --------------------------------------------------------------------


def test_a_missing_key_says_how_to_give_one(cli: CliRunner, service: Proc) -> None:
    result = cli.invoke(app, ["jobs", "get", DO_DONE, "--url", service.url])
    assert result.exit_code == 1
    assert "EVAL_GATEWAY_API_KEY" in result.stderr and "--api-key" in result.stderr


def test_the_key_can_be_given_as_an_option(cli: CliRunner, service: Proc) -> None:
    args = ["jobs", "get", DO_DONE, "--url", service.url, "--api-key", KEY, "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert Job.model_validate_json(result.stdout).status is JobStatus.SUCCEEDED


@pytest.mark.parametrize(
    "command", [["serve"], ["jobs", "submit"], ["jobs", "list"], ["jobs", "watch"]]
)
def test_help_at_80_columns_shows_every_option_name_whole(command: list[str]) -> None:
    # A real process: the terminal width is read from COLUMNS when the CLI starts.
    run = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", "TERM": "xterm"},
        check=True,
    )
    assert "…" not in run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) <= 80
    if command == ["jobs", "submit"]:
        for name in ("--evaluation", "--benchmark", "--idempotency-key", "--api-key"):
            assert name in run.stdout


def test_jobs_result_pages_its_rows(cli: CliRunner, service: Proc) -> None:
    created = httpx.post(
        f"{service.url}/v1/backends/ls-sim/jobs",
        json={"evaluation": "basic-qa", "targets": [{"model": "m"}], "max_tokens": 8},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert created.status_code == 202, created.text
    job_id = created.json()["jobs"][0]["id"]
    base = ["jobs", "result", job_id, "--url", service.url, "--api-key", KEY, "--page-size", "2"]
    shown = cli.invoke(app, base)
    assert shown.exit_code == 0, shown.output
    assert (
        "2 per-example rows" in shown.output and "next page of rows: --page-token" in shown.output
    )
    first = json.loads(cli.invoke(app, [*base, "--json"]).output)
    assert [r["index"] for r in first["rows"]] == [0, 1]
    rest = cli.invoke(app, [*base, "--json", "--page-token", first["next_page_token"]])
    assert rest.exit_code == 0, rest.output
    second = json.loads(rest.output)
    assert [r["index"] for r in second["rows"]] == [2] and second["next_page_token"] is None


def test_jobs_ls_and_history_take_the_key_from_the_option(cli: CliRunner, service: Proc) -> None:
    cli.invoke(app, ["jobs", "get", DO_DONE, "--url", service.url, "--api-key", KEY])
    ls = ["jobs", "ls", "--url", service.url, "--api-key", KEY, "--json", "--backend", "do-sim"]
    deadline = time.monotonic() + 10  # the ledger writes behind the answer
    while True:
        listed = cli.invoke(app, [*ls, "--page-size", "500"])
        assert listed.exit_code == 0, listed.output
        ids = [item["id"] for item in json.loads(listed.output)["items"]]
        if DO_DONE in ids or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert DO_DONE in ids
    history = cli.invoke(
        app, ["jobs", "history", DO_DONE, "--url", service.url, "--api-key", KEY, "--json"]
    )
    assert history.exit_code == 0, history.output
    assert json.loads(history.output)["changes"][0]["observed_by"] == "read"
    assert "EVAL_GATEWAY_API_KEY" not in os.environ  # the key stays an argument


def test_a_result_without_rows_says_so(cli: CliRunner) -> None:
    result = cli.invoke(app, ["jobs", "result", DO_DONE])
    assert result.exit_code == 0, result.output
    assert "row(s)" not in result.output
    assert "per-example row" in result.output
