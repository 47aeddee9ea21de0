"""The automatic export: a job the ledger records as terminal becomes an MLflow run on a real
tracking server, with the benchmark and model of its submission; a failing tracking server
is logged, never raised into the ledger; the config section validates."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway import AsyncGateway
from gateway.config import LedgerConfig, config_from_dict
from gateway.errors import ConfigError
from gateway.export.mlflow import MlflowExporter, attach, from_record
from gateway.export.settings import ExportSettings, MlflowExportSettings
from gateway.ledger import Ledger
from gateway.schemas import JobStatus, Metric
from gateway.schemas.ledger import JobRecord, ResultSnapshot
from gateway.simulators import Stage, vendor_sim
from tests.export.conftest import MlflowServer
from tests.support.servers import free_port

_names = itertools.count(1)
SUBMISSION = {"evaluation": "mmlu", "targets": [{"type": "model", "model": "llama-3-8b"}]}


async def runs_when_there(server: MlflowServer, experiment: str, seconds: float = 30.0) -> list:
    """The experiment's runs once one is complete: the hook runs after the ledger's write,
    and a run is ended (no longer RUNNING) by the export's last call."""
    deadline = time.monotonic() + seconds
    while True:
        runs = await asyncio.to_thread(server.runs, experiment)
        ended = runs and all(r["info"]["status"] != "RUNNING" for r in runs)
        if ended or time.monotonic() > deadline:
            return runs
        await asyncio.sleep(0.1)


async def test_a_job_the_ledger_sees_finish_is_exported(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    experiment = f"gateway-auto-{next(_names)}"
    settings = ExportSettings(
        mlflow=MlflowExportSettings(
            tracking_uri=mlflow_server.url, experiment=experiment, on_terminal=True
        )
    )
    ledger = await Ledger.open(LedgerConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"))
    exporter = attach(ledger, settings)
    assert exporter is not None
    config = {"backends": {"ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"}}}
    try:
        async with AsyncGateway({**config, "ledger": {"enabled": False}}) as gw:
            sim = vendor_sim("llama-stack")
            running = sim.new_job(gw.simulator("ls"), [Stage("in_progress")], {})
            done = sim.new_job(gw.simulator("ls"), [Stage("completed")], {})
            running_job = await gw.get_job(gw.job_id("ls", *sim.id_parts(running)))
            job = await gw.get_job(gw.job_id("ls", *sim.id_parts(done)))
            result = await gw.get_result(job.id)
        ledger.observe(running_job, "read")  # not terminal: never exported
        ledger.observe(job, "read")
        ledger.observe_result(job.id, result)
        await ledger.flush()
        runs = await runs_when_there(mlflow_server, experiment)
    finally:
        await ledger.aclose()
        await exporter.aclose()
    [run] = runs
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["gateway.job_id"] == job.id
    assert tags["gateway.status"] == "succeeded"
    metrics = {m["key"]: m["value"] for m in run["data"].get("metrics", [])}
    assert metrics["mmlu/mmlu/acc"] == pytest.approx(0.5186)
    assert run["info"]["status"] == "FINISHED"


async def test_a_gateway_configured_for_it_exports_the_jobs_it_sees_finish(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    """The config alone turns the export on: no code attaches it."""
    experiment = f"gateway-config-{next(_names)}"
    config = {
        "backends": {"ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"}},
        "ledger": {"url": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"},
        "export": {
            "mlflow": {
                "tracking_uri": mlflow_server.url,
                "experiment": experiment,
                "on_terminal": True,
            }
        },
    }
    async with AsyncGateway(config) as gw:
        sim = vendor_sim("llama-stack")
        done = sim.new_job(gw.simulator("ls"), [Stage("completed")], {})
        job = await gw.get_job(gw.job_id("ls", *sim.id_parts(done)))
        await gw.get_result(job.id)
        await gw.history(job.id)  # the ledger is open and has written what it saw
        runs = await runs_when_there(mlflow_server, experiment)
    [run] = runs
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["gateway.job_id"] == job.id


def record(job_id: str) -> JobRecord:
    now = datetime.now(UTC)
    return JobRecord(
        id=job_id,
        backend="nemo-prod",
        vendor="nemo-evaluator",
        api_version="v2",
        vendor_ids=["eval-1"],
        submission=SUBMISSION,
        status=JobStatus.SUCCEEDED,
        terminal=True,
        first_seen_at=now,
        last_seen_at=now,
        updated_at=now,
        result=ResultSnapshot(
            metrics=[
                Metric(name="accuracy", value=0.75, group="mmlu"),
                Metric(name="verdict", value="pass"),
                Metric(name="passed", value=True),
                Metric(name="score:raw (x)", value=3),
                Metric(name="missing", value=None),
            ],
            taken_at=now,
        ),
    )


def test_a_record_gives_params_metrics_and_tags() -> None:
    from gateway.export.runs import run_content

    content = run_content(from_record(record("nemo-prod~eval-1")))
    assert content.metrics == {"mmlu/accuracy": 0.75, "score_raw _x_": 3.0}
    assert content.params == {
        "backend": "nemo-prod",
        "vendor": "nemo-evaluator",
        "api_version": "v2",
        "benchmark": "mmlu",
        "model": "llama-3-8b",
    }
    assert content.tags["metric.verdict"] == "pass"
    assert content.tags["metric.passed"] == "true"
    assert content.tags["gateway.job_id"] == "nemo-prod~eval-1"
    assert content.tags["model"] == "llama-3-8b"
    assert "metric.missing" not in content.tags


async def test_an_unreachable_server_is_logged_not_raised_into_the_ledger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = MlflowExportSettings(
        tracking_uri=f"http://127.0.0.1:{free_port()}", experiment="x", timeout_seconds=2
    )
    exporter = MlflowExporter.from_settings(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.export"):
            await exporter.on_terminal(record("nemo-prod~eval-2"))
    finally:
        await exporter.aclose()
    [line] = [r for r in caplog.records if r.name == "gateway.export"]
    assert "could not reach the MLflow tracking server" in line.getMessage()


def test_the_export_section_validates() -> None:
    base = {"backends": {"ls": {"vendor": "llama-stack", "base_url": "sim://llama-stack"}}}
    good = config_from_dict(
        {**base, "export": {"mlflow": {"tracking_uri": "http://127.0.0.1:5000", "experiment": "e"}}}
    )
    assert good.export.mlflow is not None and good.export.mlflow.on_terminal is False
    for bad in (
        {"mlflow": {"tracking_uri": "file:///tmp/mlruns", "experiment": "e"}},
        {"mlflow": {"tracking_uri": "http://u:p@host", "experiment": "e"}},
        {"mlflow": {"tracking_uri": "http://host"}},
        {"mlflow": {"tracking_uri": "http://host", "experiment": "e", "on_termnial": True}},
    ):
        with pytest.raises(ConfigError) as caught:
            config_from_dict({**base, "export": bad})
        assert all(path.startswith("export.mlflow") for path, _ in caught.value.issues)
        assert "u:p" not in str(caught.value)
