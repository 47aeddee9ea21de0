"""`eval-gateway export mlflow` against a real MLflow tracking server, reading jobs from a
Llama Stack simulator on loopback: one run per job with its metrics, params and tags; a second
export updates that run; bad input gets a problem and an exit code, never a traceback."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gateway.cli.app import app
from gateway.ids import format_job_id
from gateway.simulators import SimState, Stage, create_app, vendor_sim
from tests.export.conftest import MlflowServer
from tests.support.servers import free_port, serve_in_thread

runner = CliRunner()
_names = itertools.count(1)


@pytest.fixture(scope="module")
def vendor() -> Iterator[tuple[str, SimState]]:
    sim = create_app("llama-stack")
    with serve_in_thread(sim) as url:
        yield url, sim.state.sim


@pytest.fixture
def config_file(tmp_path: Path, vendor: tuple[str, SimState]) -> Path:
    url, _ = vendor
    path = tmp_path / "gateway.yaml"
    config = {"backends": {"ls": {"vendor": "llama-stack", "base_url": url}}}
    config["ledger"] = {"enabled": False}
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def experiment() -> str:
    return f"gateway-export-{next(_names)}"


def new_job(state: SimState, word: str) -> str:
    sim = vendor_sim("llama-stack")
    job = sim.new_job(state, [Stage(word)], {})
    return format_job_id("ls", *sim.id_parts(job))


def export(config: Path, server_url: str, experiment: str, *job_ids: str, as_json: bool = True):
    args = ["export", "mlflow", *job_ids, "--experiment", experiment, "--tracking-uri"]
    args += [server_url, "--config", str(config)] + (["--json"] if as_json else [])
    return runner.invoke(app, args)


def by_key(entries: list[dict]) -> dict[str, object]:
    return {e["key"]: e["value"] for e in entries}


def test_a_finished_job_becomes_one_run_and_a_second_export_updates_it(
    mlflow_server: MlflowServer,
    config_file: Path,
    vendor: tuple[str, SimState],
    experiment: str,
) -> None:
    job_id = new_job(vendor[1], "completed")
    first = export(config_file, mlflow_server.url, experiment, job_id)
    assert first.exit_code == 0, first.output
    [exported] = json.loads(first.stdout)
    assert exported["job_id"] == job_id and exported["created"] is True

    [run] = mlflow_server.runs(experiment)
    assert run["info"]["run_id"] == exported["run_id"]
    assert run["info"]["status"] == "FINISHED"
    metrics = by_key(run["data"]["metrics"])
    assert metrics["mmlu/mmlu/acc"] == pytest.approx(0.5186)
    assert metrics["mmlu/mmlu_abstract_algebra/acc"] == pytest.approx(0.41)
    params = by_key(run["data"]["params"])
    assert params == {"backend": "ls", "vendor": "llama-stack", "benchmark": "mmlu"}
    tags = by_key(run["data"]["tags"])
    assert tags["gateway.job_id"] == job_id
    assert tags["gateway.status"] == "succeeded"
    assert tags["vendor"] == "llama-stack" and tags["benchmark"] == "mmlu"

    again = export(config_file, mlflow_server.url, experiment, job_id, as_json=False)
    assert again.exit_code == 0, again.output
    assert f"run {exported['run_id']} updated" in again.stdout
    [same] = mlflow_server.runs(experiment)  # still one run
    assert same["info"]["run_id"] == exported["run_id"]


def test_failed_and_cancelled_jobs_end_their_runs_so(
    mlflow_server: MlflowServer,
    config_file: Path,
    vendor: tuple[str, SimState],
    experiment: str,
) -> None:
    failed, cancelled = new_job(vendor[1], "failed"), new_job(vendor[1], "cancelled")
    done = export(config_file, mlflow_server.url, experiment, failed, cancelled)
    assert done.exit_code == 0, done.output
    runs = {by_key(r["data"]["tags"])["gateway.job_id"]: r for r in mlflow_server.runs(experiment)}
    assert runs[failed]["info"]["status"] == "FAILED"
    assert by_key(runs[failed]["data"]["tags"])["gateway.problem.type"] == "upstream-error"
    assert runs[cancelled]["info"]["status"] == "KILLED"
    assert "metrics" not in runs[cancelled]["data"]


def test_bad_job_ids_get_problems_and_the_good_ones_are_still_exported(
    mlflow_server: MlflowServer,
    config_file: Path,
    vendor: tuple[str, SimState],
    experiment: str,
) -> None:
    running = new_job(vendor[1], "in_progress")
    good = new_job(vendor[1], "completed")
    unknown = format_job_id("ls", "mmlu", "eval-NOSUCHJOB")
    result = export(
        config_file, mlflow_server.url, experiment, running, "no-such-backend~x", unknown, good
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    outcomes = json.loads(result.stdout)
    problems = [o["problem"] for o in outcomes if "problem" in o]
    slugs = [p["type"].rsplit("/", 1)[-1] for p in problems]
    assert slugs == ["job-not-ready", "unknown-backend", "job-not-found"]
    assert problems[0]["job_status"] == "running"
    assert [o["job_id"] for o in outcomes if "run_id" in o] == [good]
    assert [
        by_key(r["data"]["tags"])["gateway.job_id"] for r in mlflow_server.runs(experiment)
    ] == [good]


def test_an_unreachable_tracking_server_is_one_clear_problem(
    config_file: Path, vendor: tuple[str, SimState]
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    job_id = new_job(vendor[1], "completed")
    result = export(config_file, nobody, "anything", job_id, as_json=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "could not reach the MLflow tracking server" in result.stderr
    assert "upstream-unavailable" in result.stderr


def test_a_tracking_uri_is_required_and_never_carries_credentials(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    args = ["export", "mlflow", "ls~mmlu~x", "--experiment", "e", "--config", str(config_file)]
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2
    assert "--tracking-uri" in missing.stderr
    secret = runner.invoke(app, [*args, "--tracking-uri", "http://user:hunter2@127.0.0.1:5000"])
    assert secret.exit_code == 2
    assert "must not carry credentials" in secret.stderr
    assert "hunter2" not in secret.output
