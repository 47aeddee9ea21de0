"""`eval-gateway jobs get|result|cancel|list`: one job, its result, a cancel, a backend's
page of jobs; against a running service (--url) or in-process (--config)."""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.cli.options import ApiKeyOpt, ConfigOpt, JsonOpt, RawOpt, UrlOpt, show
from gateway.cli.render import render_job, render_page, render_result
from gateway.cli.session import Session

# Nameless: app.py merges these commands into `eval-gateway jobs`.
jobs_reads_app = typer.Typer()


@jobs_reads_app.command("get")
def get(
    job_id: str,
    url: UrlOpt = None,
    api_key: ApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    raw: RawOpt = False,
) -> None:
    """Show one job."""
    with Session(url, config, as_json, api_key) as source:
        show(as_json, source.get_job(job_id, raw), render_job)


@jobs_reads_app.command("result")
def result(
    job_id: str,
    url: UrlOpt = None,
    api_key: ApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    raw: RawOpt = False,
    page_size: Annotated[int, typer.Option(min=1, max=200, help="Rows per page")] = 50,
    page_token: Annotated[str | None, typer.Option(help="next_page_token of a page")] = None,
) -> None:
    """Show a finished job's result, one page of rows at a time (a problem with the current
    status while it runs)."""
    with Session(url, config, as_json, api_key) as source:
        show(as_json, source.get_result(job_id, raw, page_size, page_token), render_result)


@jobs_reads_app.command("cancel")
def cancel(
    job_id: str,
    url: UrlOpt = None,
    api_key: ApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the vendor to cancel a job; show the job after the request."""
    with Session(url, config, as_json, api_key) as source:
        show(as_json, source.cancel_job(job_id), render_job)


@jobs_reads_app.command("list")
def list_(
    backend: Annotated[str, typer.Argument(help="Backend or alias name")],
    status: Annotated[str | None, typer.Option(help="Only this canonical status")] = None,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 50,
    page_token: Annotated[str | None, typer.Option(help="next_page_token of a page")] = None,
    url: UrlOpt = None,
    api_key: ApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    raw: RawOpt = False,
) -> None:
    """List a backend's jobs, one page at a time."""
    with Session(url, config, as_json, api_key) as source:
        show(as_json, source.list_jobs(backend, status, page_size, page_token, raw), render_page)
