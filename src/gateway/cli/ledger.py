"""`eval-gateway jobs ls` and `jobs history ID`: the job ledger, on a running service (--url)
or in-process from a config (the same ledger file the service on that config uses)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gateway.cli.options import API_KEY_ENV, ConfigOpt, JsonOpt, UrlOpt, show
from gateway.cli.render import console_for_tables, styled_status
from gateway.cli.session import JobsSource, RemoteJobs, Session
from gateway.schemas.ledger import JobHistory, JobRecord, LedgerPage

LEDGER_TABLE_WIDTH = 180  # more columns than a backend's job table

# Nameless: app.py merges these commands into `eval-gateway jobs`.
jobs_ledger_app = typer.Typer()


def _console() -> Console:
    return console_for_tables(LEDGER_TABLE_WIDTH)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""


def _flags(record: JobRecord) -> str:
    flags = []
    if not record.at_vendor:
        flags.append("[red]gone from vendor[/]")
    if record.outcome_unknown:
        flags.append("[yellow]outcome unknown[/]")
    return ", ".join(flags)


def render_ledger_page(page: LedgerPage) -> None:
    table = Table(title="jobs (ledger, every backend)", title_justify="left")
    table.add_column("id", no_wrap=True)
    for column in ("name", "status (vendor's word)", "progress", "created", "updated", "caller"):
        table.add_column(column)
    table.add_column("note")
    for record in page.items:
        progress = f"{record.progress:.0%}" if record.progress is not None else ""
        word = f" [dim]({record.vendor_status})[/]" if record.vendor_status else ""
        table.add_row(
            record.id,
            record.name or "",
            styled_status(record.status) + word,
            progress,
            _when(record.created_at or record.first_seen_at),
            _when(record.updated_at),
            record.caller or "",
            _flags(record),
        )
    console = _console()
    console.print(table)
    counts = ", ".join(f"{status} {count}" for status, count in sorted(page.counts.items()))
    console.print(f"by status: {counts or 'none'}")
    if page.next_page_token:
        console.print(f"more: --page-token {page.next_page_token}")


def render_history(history: JobHistory) -> None:
    table = Table(title=f"history of {history.job_id}", title_justify="left")
    for column in ("observed at", "status", "vendor status", "progress", "observed by"):
        table.add_column(column)
    for change in history.changes:
        progress = f"{change.progress:.0%}" if change.progress is not None else ""
        table.add_row(
            _when(change.observed_at),
            styled_status(change.status),
            change.vendor_status or "",
            progress,
            change.observed_by,
        )
    _console().print(table)


def _page(source: JobsSource, filters: dict[str, Any]) -> LedgerPage:
    if isinstance(source, RemoteJobs):
        return source.client.jobs(**filters)
    return source.gw.jobs(**filters)


def _history(source: JobsSource, job_id: str) -> JobHistory:
    if isinstance(source, RemoteJobs):
        return source.client.history(job_id)
    return source.gw.history(job_id)


# Not the shared ApiKeyOpt: no envvar (Session reads it), so the help names it itself.
LedgerApiKeyOpt = Annotated[
    str | None, typer.Option("--api-key", help=f"Caller key (default: ${API_KEY_ENV})")
]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option("--status", "-s", help="Only this canonical status (repeat for several)"),
]
BackendOpt = Annotated[
    list[str] | None,
    typer.Option("--backend", "-b", help="Only this backend or alias (repeat for several)"),
]


@jobs_ledger_app.command("ls")
def ls(
    status: StatusOpt = None,
    backend: BackendOpt = None,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor")] = None,
    caller: Annotated[str | None, typer.Option(help="Only jobs this API key submitted")] = None,
    name: Annotated[str | None, typer.Option(help="Name contains")] = None,
    created_after: Annotated[
        datetime | None, typer.Option(help="UTC unless a zone is given")
    ] = None,
    created_before: Annotated[datetime | None, typer.Option()] = None,
    updated_after: Annotated[datetime | None, typer.Option()] = None,
    updated_before: Annotated[datetime | None, typer.Option()] = None,
    sort: Annotated[str, typer.Option(help="created | -created | updated | -updated")] = "-created",
    page_size: Annotated[int, typer.Option(min=1, max=500)] = 50,
    page_token: Annotated[str | None, typer.Option(help="next_page_token of a page")] = None,
    url: UrlOpt = None,
    api_key: LedgerApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every job the gateway has submitted or seen, across all backends (the job ledger)."""
    filters: dict[str, Any] = {
        "status": status or None,
        "backend": backend or None,
        "vendor": vendor,
        "caller": caller,
        "name_contains": name,
        "created_after": _utc(created_after),
        "created_before": _utc(created_before),
        "updated_after": _utc(updated_after),
        "updated_before": _utc(updated_before),
        "sort": sort,
        "page_size": page_size,
        "page_token": page_token,
    }
    with Session(url, config, as_json, api_key) as source:
        show(as_json, _page(source, filters), render_ledger_page)


@jobs_ledger_app.command("history")
def history(
    job_id: str,
    url: UrlOpt = None,
    api_key: LedgerApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A job's status timeline, oldest first (the job ledger)."""
    with Session(url, config, as_json, api_key) as source:
        show(as_json, _history(source, job_id), render_history)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
