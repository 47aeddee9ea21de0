"""`eval-gateway export mlflow JOB_ID... --experiment NAME [--tracking-uri URI]`.

Reads each job in-process from the config (the embedded simulators without --config), with
its result when it has one, and logs it as one MLflow run (gateway.export.mlflow). Every
failure is printed as a problem, never a traceback: exit 1 if any job could not be exported,
2 for a bad config or a missing or malformed tracking URI.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from gateway.cli.options import EXIT_CONFIG, EXIT_PROBLEM, load_config_or_exit
from gateway.cli.render import print_problem
from gateway.config import GatewayConfig
from gateway.core.async_gateway import AsyncGateway
from gateway.errors import GatewayError, JobNotReady
from gateway.export.settings import MlflowExportSettings
from gateway.schemas import JobStatus, Problem, Result

if TYPE_CHECKING:  # imported when the command runs: every other command starts without it
    from gateway.export.mlflow import Exported, MlflowExporter

WITH_RESULT = frozenset({JobStatus.SUCCEEDED, JobStatus.PARTIALLY_SUCCEEDED})

export_app = typer.Typer(
    help="Send finished jobs' results elsewhere (MLflow).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _settings(
    config: GatewayConfig, tracking_uri: str | None, experiment: str | None
) -> MlflowExportSettings:
    configured = config.export.mlflow
    uri = tracking_uri or (configured.tracking_uri if configured else None)
    name = experiment or (configured.experiment if configured else None)
    if not uri:
        typer.echo("no tracking server: pass --tracking-uri or set MLFLOW_TRACKING_URI", err=True)
        raise typer.Exit(EXIT_CONFIG)
    if not name:
        typer.echo("no experiment: pass --experiment or set MLFLOW_EXPERIMENT_NAME", err=True)
        raise typer.Exit(EXIT_CONFIG)
    timeout = configured.timeout_seconds if configured else 10.0
    try:
        return MlflowExportSettings(tracking_uri=uri, experiment=name, timeout_seconds=timeout)
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"--tracking-uri/--experiment: {error['msg']}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None


async def _submission(gw: AsyncGateway, job_id: str) -> dict[str, Any] | None:
    """The canonical submission the ledger kept, when the gateway started the job (best
    effort: benchmark and model are then known whatever the vendor)."""
    record_of = getattr(gw, "job_record", None)
    if record_of is None:
        return None
    try:
        record = await record_of(job_id)
    except GatewayError:
        return None
    submission: dict[str, Any] | None = getattr(record, "submission", None)
    return submission


async def export_one(gw: AsyncGateway, exporter: MlflowExporter, job_id: str) -> Exported:
    from gateway.export.mlflow import from_job  # lazy: see TYPE_CHECKING above

    job = await gw.get_job(job_id, fresh=True)
    if not job.terminal:
        raise JobNotReady(
            f"job {job_id} is {job.status.value}: only finished jobs are exported",
            job_id=job_id,
            job_status=job.status.value,
            backend=job.backend,
        )
    result: Result | None = None
    if job.status in WITH_RESULT:
        result = await gw.get_result(job_id)
    return await exporter.export(from_job(job, result, await _submission(gw, job_id)))


async def _export_all(
    config: GatewayConfig, settings: MlflowExportSettings, job_ids: list[str]
) -> list[Exported | Problem]:
    from gateway.export.mlflow import MlflowExporter  # lazy: see TYPE_CHECKING above

    exporter = MlflowExporter.from_settings(settings)
    outcomes: list[Exported | Problem] = []
    try:
        async with AsyncGateway(config) as gw:
            try:
                await exporter.experiment_id()  # an unreachable server fails once, up front
            except GatewayError as exc:
                return [exc.problem()]
            for job_id in job_ids:
                try:
                    outcomes.append(await export_one(gw, exporter, job_id))
                except GatewayError as exc:
                    outcomes.append(exc.with_context(job_id=job_id).problem())
    finally:
        await exporter.aclose()
    return outcomes


@export_app.command("mlflow")
def export_mlflow(
    job_ids: Annotated[list[str], typer.Argument(help="Gateway job ids", metavar="JOB_ID...")],
    experiment: Annotated[
        str | None,
        typer.Option(
            envvar="MLFLOW_EXPERIMENT_NAME", help="Experiment (default: export.mlflow.experiment)"
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            envvar="MLFLOW_TRACKING_URI",
            help="http(s) URL of the tracking server (default: export.mlflow.tracking_uri)",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Read jobs in-process with this config"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")] = False,
) -> None:
    """Log each finished job as one MLflow run; exporting a job again updates its run."""
    loaded = load_config_or_exit(config)
    settings = _settings(loaded, tracking_uri, experiment)
    outcomes = asyncio.run(_export_all(loaded, settings, job_ids))
    failed = False
    printed: list[dict[str, Any]] = []
    for outcome in outcomes:
        if isinstance(outcome, Problem):
            failed = True
            if as_json:
                printed.append({"problem": outcome.to_json_dict()})
            else:
                print_problem(outcome, as_json=False)
            continue
        verb = "created" if outcome.created else "updated"
        if as_json:
            printed.append(
                {
                    "job_id": outcome.job_id,
                    "run_id": outcome.run_id,
                    "experiment_id": outcome.experiment_id,
                    "created": outcome.created,
                }
            )
        else:
            typer.echo(f"{outcome.job_id}: run {outcome.run_id} {verb} in {settings.experiment!r}")
    if as_json:
        typer.echo(json.dumps(printed, indent=2))
    if failed:
        raise typer.Exit(EXIT_PROBLEM)
