"""`eval-gateway jobs ...`: against a running service (--url) or in-process (--config)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Protocol, TypeVar

import typer
from pydantic import BaseModel

from gateway.cli.render import print_problem, render_job, render_page, render_result
from gateway.client.errors import GatewayUnreachable, InvalidGatewayResponse, problem_details
from gateway.errors import ConfigError, GatewayError
from gateway.schemas import Job, Page, Problem, Result, Submission

API_KEY_ENV = "EVAL_GATEWAY_API_KEY"
URL_ENV = "EVAL_GATEWAY_URL"
EXIT_PROBLEM = 1
EXIT_CONFIG = 2
M = TypeVar("M", bound=BaseModel)

jobs_app = typer.Typer(
    help=f"Look at jobs: on a running service (--url or ${URL_ENV}; key from ${API_KEY_ENV}),"
    " or in-process from a config (--config; default: the embedded simulators).",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: rich's tables cut long option names at 80 columns
)

UrlOpt = Annotated[
    str | None, typer.Option("--url", envvar=URL_ENV, help="Base URL of a running gateway")
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar=API_KEY_ENV,
        help="Caller key for --url (prefer the env var: options show in `ps`)",
    ),
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Use this config in-process (no --url)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts)")]
RawOpt = Annotated[bool, typer.Option("--raw", help="Include the vendor's own payload")]


class ProblemAnswer(Exception):
    """The service answered with problem details."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem


class Unreachable(Exception):
    """No usable answer from the service (connection failed, or not the gateway's JSON)."""


class JobsSource(Protocol):
    def get_job(self, job_id: str, include_raw: bool) -> Job: ...
    def get_result(
        self, job_id: str, include_raw: bool, page_size: int, page_token: str | None
    ) -> Result: ...
    def cancel_job(self, job_id: str) -> Job: ...
    def list_jobs(
        self, backend: str, status: str | None, page_size: int, page_token: str | None, raw: bool
    ) -> Page: ...
    def submit(self, backend: str, request: dict[str, Any], key: str | None) -> Submission: ...
    def close(self) -> None: ...


class RemoteJobs:
    """The gateway's HTTP API, through the remote client (gateway.client): typed problems,
    retries on the gateway's 429/503 and connection errors, an idempotency key per submit."""

    def __init__(self, url: str, api_key: str | None) -> None:
        from gateway.client import GatewayClient

        try:
            self.client = GatewayClient(url, api_key=api_key, timeout=90.0)
        except ValueError as exc:
            raise Unreachable(str(exc)) from None

    def get_job(self, job_id: str, include_raw: bool) -> Job:
        return self.client.get_job(job_id, include_raw=include_raw)

    def get_result(
        self, job_id: str, include_raw: bool, page_size: int, page_token: str | None
    ) -> Result:
        return self.client.get_result(
            job_id, include_raw=include_raw, page_size=page_size, page_token=page_token
        )

    def cancel_job(self, job_id: str) -> Job:
        return self.client.cancel_job(job_id)

    def list_jobs(
        self, backend: str, status: str | None, page_size: int, page_token: str | None, raw: bool
    ) -> Page:
        return self.client.list_jobs(
            backend, status=status, page_size=page_size, page_token=page_token, include_raw=raw
        )

    def submit(self, backend: str, request: dict[str, Any], key: str | None) -> Submission:
        return self.client.submit(backend, request, idempotency_key=key)

    def close(self) -> None:
        self.client.close()


class LocalJobs:
    """The library, in this process (simulated backends work with no service running)."""

    def __init__(self, config: Path | None) -> None:
        from gateway.core.sync_gateway import Gateway

        self.gw = Gateway(config)

    def get_job(self, job_id: str, include_raw: bool) -> Job:
        return self.gw.get_job(job_id, include_raw=include_raw)

    def get_result(
        self, job_id: str, include_raw: bool, page_size: int, page_token: str | None
    ) -> Result:
        return self.gw.get_result(
            job_id, include_raw=include_raw, page_size=page_size, page_token=page_token
        )

    def cancel_job(self, job_id: str) -> Job:
        return self.gw.cancel_job(job_id)

    def list_jobs(
        self, backend: str, status: str | None, page_size: int, page_token: str | None, raw: bool
    ) -> Page:
        return self.gw.list_jobs(
            backend, status=status, page_size=page_size, page_token=page_token, include_raw=raw
        )

    def submit(self, backend: str, request: dict[str, Any], key: str | None) -> Submission:
        return self.gw.submit(backend, request, idempotency_key=key)

    def close(self) -> None:
        self.gw.close()


class Session:
    """Open the source, run one call, print the answer or the problem, exit accordingly."""

    def __init__(
        self, url: str | None, config: Path | None, as_json: bool, api_key: str | None = None
    ) -> None:
        self.url, self.config, self.as_json = url, config, as_json
        self.api_key = api_key
        self.source: JobsSource | None = None

    def __enter__(self) -> JobsSource:
        import os

        try:
            if self.url:
                key = self.api_key or os.environ.get(API_KEY_ENV) or None
                self.source = RemoteJobs(self.url, key)
            else:
                self.source = LocalJobs(self.config)
        except ConfigError as exc:
            from gateway.cli.app import print_config_error

            print_config_error(exc)
            raise typer.Exit(EXIT_CONFIG) from None
        return self.source

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.source is not None:
            self.source.close()
        if isinstance(exc, GatewayUnreachable | InvalidGatewayResponse):
            exc = Unreachable(exc.detail)  # no gateway answer to show: say what failed
        elif isinstance(exc, GatewayError):
            exc = ProblemAnswer(problem_details(exc))  # as the gateway sent it, if it did
        if isinstance(exc, ProblemAnswer):
            print_problem(exc.problem, self.as_json)
            if exc.problem.status == 401:
                typer.echo(
                    f"hint: the gateway wants a caller key: set {API_KEY_ENV} or pass --api-key",
                    err=True,
                )
            raise typer.Exit(EXIT_PROBLEM) from None
        if isinstance(exc, Unreachable):
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_PROBLEM) from None


def _show(as_json: bool, model: M, render: Callable[[M], None]) -> None:
    if as_json:
        typer.echo(model.model_dump_json(indent=2))
    else:
        render(model)


@jobs_app.command("get")
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
        _show(as_json, source.get_job(job_id, raw), render_job)


@jobs_app.command("result")
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
        _show(as_json, source.get_result(job_id, raw, page_size, page_token), render_result)


@jobs_app.command("cancel")
def cancel(
    job_id: str,
    url: UrlOpt = None,
    api_key: ApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the vendor to cancel a job; show the job after the request."""
    with Session(url, config, as_json, api_key) as source:
        _show(as_json, source.cancel_job(job_id), render_job)


@jobs_app.command("list")
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
        _show(as_json, source.list_jobs(backend, status, page_size, page_token, raw), render_page)
