"""Readable output of the CLI: rich tables for people, plain problem details on errors."""

from __future__ import annotations

import json
import time
from types import TracebackType
from typing import Any

import typer
from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table

from gateway.schemas import Job, JobStatus, Metric, Page, Problem, Result, Submission

HEADLINE_METRICS = 8

_STATUS_STYLE = {
    JobStatus.SUCCEEDED: "green",
    JobStatus.PARTIALLY_SUCCEEDED: "yellow",
    JobStatus.FAILED: "red",
    JobStatus.EXPIRED: "red",
    JobStatus.CANCELLED: "magenta",
    JobStatus.CANCELLING: "magenta",
    JobStatus.UNKNOWN: "bold yellow",
}


def console_for_tables(min_width: int = 160) -> Console:
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, min_width)  # piped: keep ids on one line
    return console


def styled_status(status: JobStatus) -> str:
    style = _STATUS_STYLE.get(status)
    return f"[{style}]{status.value}[/]" if style else status.value


def _value(metric: Metric) -> str:
    unit = f" {metric.unit}" if metric.unit else ""
    return f"{metric.value}{unit}"


def render_job(job: Job) -> None:
    table = Table(title=f"job {job.id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows: list[tuple[str, Any]] = [
        ("status", styled_status(job.status) + (" (terminal)" if job.terminal else "")),
        ("vendor status", job.vendor_status),
        (
            "backend",
            f"{job.backend} ({job.vendor}{' ' + job.api_version if job.api_version else ''})",
        ),
        ("vendor job id", job.vendor_job_id),
        ("name", job.name),
        ("created", job.created_at),
        ("updated", job.updated_at),
        ("started", job.started_at),
        ("finished", job.finished_at),
        ("progress", f"{job.progress:.0%}" if job.progress is not None else None),
        ("message", job.message),
        ("error", f"{job.error.title}: {job.error.detail}" if job.error else None),
        ("stale", "yes (served from cache)" if job.stale else None),
    ]
    rows += [(f"metric {m.name}", _value(m)) for m in job.metrics]
    rows += [(f"link {link.rel}", link.href) for link in job.links]
    for field, value in rows:
        if value is not None:
            table.add_row(field, str(value))
    console_for_tables().print(table)
    _print_raw(job.raw)


def render_page(page: Page) -> None:
    table = Table(title=f"{len(page.items)} job(s)", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("status", "vendor status", "name", "created"):
        table.add_column(column, overflow="fold")
    for job in page.items:
        created = job.created_at.isoformat(timespec="seconds") if job.created_at else ""
        table.add_row(
            job.id, styled_status(job.status), job.vendor_status or "", job.name or "", created
        )
    console = console_for_tables()
    console.print(table)
    if page.total is not None:
        console.print(f"total: {page.total}")
    if page.next_page_token:
        console.print(f"next page: --page-token {page.next_page_token}", soft_wrap=True)


def render_result(result: Result) -> None:
    console = console_for_tables()
    console.print(f"result of {result.job_id} ({styled_status(result.status)})", soft_wrap=True)
    table = Table(title="metrics", title_justify="left")
    for column in ("metric", "value", "group"):
        table.add_column(column, overflow="fold")
    for metric in result.metrics:
        table.add_row(metric.name, _value(metric), metric.group or "")
    console.print(table)
    console.print(_rows_line(len(result.rows)))
    if result.next_page_token:
        console.print(f"next page of rows: --page-token {result.next_page_token}", soft_wrap=True)
    for link in result.artifacts:
        console.print(f"artifact {link.rel}: {link.href}", soft_wrap=True)
    _print_raw(result.raw)


def _print_raw(raw: dict[str, Any] | None) -> None:
    if raw is not None:
        typer.echo("vendor payload:")
        typer.echo(json.dumps(raw, indent=2, default=str))


def print_problem(problem: Problem, as_json: bool) -> None:
    """Problem details, plainly: on stdout as JSON for scripts, else on stderr for people."""
    if as_json:
        typer.echo(json.dumps(problem.to_json_dict(), indent=2))
        return
    lines = [f"error: {problem.title} ({problem.status})"]
    if problem.detail:
        lines.append(f"  {problem.detail}")
    for key, value in problem.to_json_dict().items():
        if key not in {"title", "status", "detail", "errors"}:
            lines.append(f"  {key}: {value}")
    for err in problem.errors or []:
        lines.append(f"  - {'.'.join(map(str, err.loc))}: {err.msg}")
    typer.echo("\n".join(lines), err=True)


def render_submission(submission: Submission, hint: bool = True) -> None:
    console = console_for_tables()
    via = f" via {submission.requested}" if submission.requested != submission.backend else ""
    console.print(
        f"submitted to [bold]{submission.backend}[/] ({submission.vendor}){via}: "
        f"{len(submission.jobs)} job(s)",
        soft_wrap=True,
    )
    if submission.replayed:
        console.print(
            f"(already submitted with idempotency key {submission.idempotency_key!r}: "
            "these are the jobs it started)",
            soft_wrap=True,
        )
    table = Table(title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("status", "vendor status", "name"):
        table.add_column(column, overflow="fold")
    for job in submission.jobs:
        table.add_row(job.id, styled_status(job.status), job.vendor_status or "", job.name or "")
    console.print(table)
    if hint:
        console.print(f"follow it: eval-gateway jobs watch {submission.jobs[0].id}", soft_wrap=True)


class LiveJob:
    """A live status line for one job (rich); each change is also printed above it."""

    def __init__(self, job_id: str) -> None:
        self.console = console_for_tables()
        self.job_id = job_id
        self.job: Job | None = None
        self.began = time.monotonic()
        self.live = Live(
            console=self.console,
            get_renderable=self._render,
            refresh_per_second=8,
            transient=True,
        )

    def __enter__(self) -> LiveJob:
        self.live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.live.stop()

    def update(self, job: Job) -> None:
        before, self.job = self.job, job
        if before is None:
            version = f" {job.api_version}" if job.api_version else ""
            self.console.print(
                f"watching [bold]{job.id}[/] on {job.backend} ({job.vendor}{version})",
                soft_wrap=True,
            )
        if before is None or (before.status, before.vendor_status) != (
            job.status,
            job.vendor_status,
        ):
            vendor = f" ({job.vendor_status})" if job.vendor_status else ""
            self.console.print(f"{self._elapsed():>7}  {styled_status(job.status)}{vendor}")
        self.live.refresh()

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.began:.1f}s"

    def _render(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1))
        job = self.job
        if job is None:
            grid.add_row(Spinner("dots"), f"connecting to {self.job_id}...")
            return grid
        meter: RenderableType = Spinner("dots")
        if job.progress is not None:
            meter = ProgressBar(total=1.0, completed=job.progress, width=30)
        percent = f"{job.progress:.0%}" if job.progress is not None else ""
        grid.add_row(meter, styled_status(job.status), percent, job.message or "", self._elapsed())
        return grid


def render_headline(job: Job, result: Result | None) -> None:
    """How a watched job ended: its status, error, and the result's headline metrics."""
    console = console_for_tables()
    took = ""
    if job.started_at and job.finished_at:
        took = f" in {(job.finished_at - job.started_at).total_seconds():.1f}s"
    console.print(f"{job.id}: {styled_status(job.status)}{took}", soft_wrap=True)
    if job.error is not None:
        console.print(f"  {job.error.title}: {job.error.detail or ''}", soft_wrap=True)
    metrics = result.metrics if result is not None else job.metrics
    if metrics:
        table = Table(title="headline metrics", title_justify="left")
        for column in ("metric", "value", "group"):
            table.add_column(column, overflow="fold")
        for metric in metrics[:HEADLINE_METRICS]:
            table.add_row(metric.name, _value(metric), metric.group or "")
        console.print(table)
        if len(metrics) > HEADLINE_METRICS:
            console.print(f"... {len(metrics) - HEADLINE_METRICS} more metric(s)")
    if result is not None:
        rows = f"{_rows_line(len(result.rows))}; " if result.rows else ""
        console.print(f"{rows}the whole result: eval-gateway jobs result {job.id}", soft_wrap=True)


def _rows_line(count: int) -> str:
    """Per-example rows, said in words (never "0 row(s)")."""
    if count == 0:
        return "no per-example rows"
    return f"{count} per-example row{'s' if count != 1 else ''}"
