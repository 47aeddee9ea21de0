"""Export finished jobs to MLflow: one run per job, found again by its `gateway.job_id` tag.

What goes in a run is gateway.export.runs; the run is FINISHED, FAILED or KILLED after the
job, timed by the job's own timestamps. A second export of the same job updates that run (new
metric values, tags; params are write-once in MLflow) instead of starting another. Only
terminal jobs are exported (`job-not-ready` otherwise).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gateway.errors import GatewayError, JobNotReady
from gateway.export.mlflow_rest import MlflowRest
from gateway.export.runs import JOB_ID_TAG, RunData, from_job, from_record, ms, run_content
from gateway.export.settings import ExportSettings, MlflowExportSettings
from gateway.schemas import JobStatus
from gateway.schemas.ledger import JobRecord

__all__ = ["Exported", "MlflowExporter", "RunData", "attach", "from_job", "from_record"]
log = logging.getLogger("gateway.export")
RUN_STATES = {
    JobStatus.SUCCEEDED: "FINISHED",
    JobStatus.PARTIALLY_SUCCEEDED: "FINISHED",
    JobStatus.FAILED: "FAILED",
    JobStatus.EXPIRED: "FAILED",
    JobStatus.CANCELLED: "KILLED",
}
BATCH_LIMITS = {"metrics": 1000, "params": 100, "tags": 100}  # per log-batch call (MLflow)


@dataclass(frozen=True)
class Exported:
    job_id: str
    run_id: str
    experiment_id: str
    created: bool  # False: an earlier export's run was updated


class MlflowExporter:
    """Logs jobs to one experiment of one tracking server."""

    def __init__(self, rest: MlflowRest, experiment: str) -> None:
        self.rest = rest
        self.experiment = experiment
        self._experiment_id: str | None = None

    @classmethod
    def from_settings(cls, settings: MlflowExportSettings) -> MlflowExporter:
        rest = MlflowRest(settings.tracking_uri, timeout=settings.timeout_seconds)
        return cls(rest, settings.experiment)

    async def aclose(self) -> None:
        await self.rest.aclose()

    async def experiment_id(self) -> str:
        """The experiment's id, created on first use."""
        if self._experiment_id is not None:
            return self._experiment_id
        try:
            found = await self.rest.call(
                "GET", "/experiments/get-by-name", {"experiment_name": self.experiment}
            )
        except GatewayError as exc:
            if MlflowRest.error_code(exc) != "RESOURCE_DOES_NOT_EXIST":
                raise
            try:
                created = await self.rest.call(
                    "POST", "/experiments/create", {"name": self.experiment}
                )
            except GatewayError as again:  # created meanwhile by another exporter
                if MlflowRest.error_code(again) != "RESOURCE_ALREADY_EXISTS":
                    raise
                return await self.experiment_id()
            self._experiment_id = str(created["experiment_id"])
        else:
            self._experiment_id = str(found["experiment"]["experiment_id"])
        return self._experiment_id

    async def find_run(self, experiment_id: str, job_id: str) -> dict[str, Any] | None:
        """The run an earlier export made for this job (by its tag), if any."""
        quoted = job_id.replace("\\", "\\\\").replace("'", "\\'")
        answer = await self.rest.call(
            "POST",
            "/runs/search",
            {
                "experiment_ids": [experiment_id],
                "filter": f"tags.`{JOB_ID_TAG}` = '{quoted}'",
                "max_results": 1,
                "order_by": ["attributes.start_time ASC"],
            },
        )
        runs = answer.get("runs") or []
        return runs[0] if runs else None

    async def export(self, data: RunData) -> Exported:
        """Create or update the job's run; JobNotReady for a job that is still going."""
        if not data.status.terminal:
            raise JobNotReady(
                f"job {data.job_id} is {data.status.value}: only finished jobs are exported",
                job_id=data.job_id,
                job_status=data.status.value,
                backend=data.backend,
            )
        experiment_id = await self.experiment_id()
        content = run_content(data)
        existing = await self.find_run(experiment_id, data.job_id)
        if existing is None:
            tags = [{"key": JOB_ID_TAG, "value": data.job_id}]
            created = await self.rest.call(
                "POST",
                "/runs/create",
                {
                    "experiment_id": experiment_id,
                    "run_name": content.tags["mlflow.runName"],
                    "start_time": ms(data.created_at),
                    "tags": tags,
                },
            )
            run_id = str(created["run"]["info"]["run_id"])
            logged_params: dict[str, str] = {}
        else:
            run_id = str(existing["info"]["run_id"])
            logged_params = {
                p["key"]: p.get("value", "") for p in existing.get("data", {}).get("params", [])
            }
        # Params are write-once in MLflow: a second export logs only the new ones.
        params = {k: v for k, v in content.params.items() if k not in logged_params}
        await self._log(run_id, content.metrics, params, content.tags, ms(data.finished_at))
        await self.rest.call(
            "POST",
            "/runs/update",
            {
                "run_id": run_id,
                "status": RUN_STATES[data.status],
                "end_time": ms(data.finished_at),
            },
        )
        return Exported(data.job_id, run_id, experiment_id, created=existing is None)

    async def _log(
        self,
        run_id: str,
        metrics: dict[str, float],
        params: dict[str, str],
        tags: dict[str, str],
        timestamp: int,
    ) -> None:
        pending: dict[str, list[dict[str, Any]]] = {
            "metrics": [
                {"key": k, "value": v, "timestamp": timestamp, "step": 0}
                for k, v in metrics.items()
            ],
            "params": [{"key": k, "value": v} for k, v in params.items()],
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        while any(pending.values()):  # MLflow's per-call limits for each kind
            batch: dict[str, Any] = {"run_id": run_id}
            for kind, limit in BATCH_LIMITS.items():
                batch[kind], pending[kind] = pending[kind][:limit], pending[kind][limit:]
            await self.rest.call("POST", "/runs/log-batch", batch)

    async def on_terminal(self, record: JobRecord) -> None:
        """The ledger's hook: export a job that just became terminal (failures are logged,
        never raised: the ledger goes on)."""
        try:
            done = await self.export(from_record(record))
        except GatewayError as exc:
            log.warning("MLflow export of %s failed: %s", record.id, exc.detail)
            return
        log.info("exported %s to MLflow run %s", record.id, done.run_id)


def attach(ledger: Any, settings: ExportSettings) -> MlflowExporter | None:
    """Export every job the ledger sees become terminal, when `export.mlflow.on_terminal` is
    set; the caller closes the exporter (`aclose`) with the ledger."""
    config = settings.mlflow
    if config is None or not config.on_terminal:
        return None
    exporter = MlflowExporter.from_settings(config)
    ledger.on_terminal(exporter.on_terminal)
    return exporter
