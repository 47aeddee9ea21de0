"""Where a CLI command reads jobs: a running service (`--url`, through the remote client) or
the library in this process (`--config`), and the `Session` that opens one for a command,
prints the answer or the problem and exits accordingly."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

import typer

from gateway.cli.options import API_KEY_ENV, EXIT_CONFIG, EXIT_PROBLEM, print_config_error
from gateway.cli.render import print_problem
from gateway.client import GatewayClient
from gateway.client.errors import GatewayUnreachable, InvalidGatewayResponse, problem_details
from gateway.core.sync_gateway import Gateway
from gateway.errors import ConfigError, GatewayError
from gateway.schemas import Job, Page, Problem, Result, Submission


class ProblemAnswer(Exception):
    """The service answered with problem details."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem


class Unreachable(Exception):
    """No usable answer from the service (connection failed, or not the gateway's JSON)."""


class _Calls:
    """The calls a command makes, on `api`: the remote client and the library have the same
    methods, arguments, return types and exceptions."""

    api: GatewayClient | Gateway

    def get_job(self, job_id: str, include_raw: bool) -> Job:
        return self.api.get_job(job_id, include_raw=include_raw)

    def get_result(
        self, job_id: str, include_raw: bool, page_size: int, page_token: str | None
    ) -> Result:
        return self.api.get_result(
            job_id, include_raw=include_raw, page_size=page_size, page_token=page_token
        )

    def cancel_job(self, job_id: str) -> Job:
        return self.api.cancel_job(job_id)

    def list_jobs(
        self, backend: str, status: str | None, page_size: int, page_token: str | None, raw: bool
    ) -> Page:
        return self.api.list_jobs(
            backend, status=status, page_size=page_size, page_token=page_token, include_raw=raw
        )

    def submit(self, backend: str, request: dict[str, Any], key: str | None) -> Submission:
        return self.api.submit(backend, request, idempotency_key=key)

    def close(self) -> None:
        self.api.close()


class RemoteJobs(_Calls):
    """The gateway's HTTP API, through the remote client (gateway.client): typed problems,
    retries on the gateway's 429/503 and connection errors, an idempotency key per submit."""

    def __init__(self, url: str, api_key: str | None) -> None:
        try:
            self.client = self.api = GatewayClient(url, api_key=api_key, timeout=90.0)
        except ValueError as exc:
            raise Unreachable(str(exc)) from None


class LocalJobs(_Calls):
    """The library, in this process (simulated backends work with no service running)."""

    def __init__(self, config: Path | None) -> None:
        self.gw = self.api = Gateway(config)


# What a command reads jobs from (the ledger commands also use `client` / `gw` directly).
JobsSource = RemoteJobs | LocalJobs


class Session:
    """Open the source, run one call, print the answer or the problem, exit accordingly."""

    def __init__(
        self, url: str | None, config: Path | None, as_json: bool, api_key: str | None = None
    ) -> None:
        self.url, self.config, self.as_json = url, config, as_json
        self.api_key = api_key
        self.source: JobsSource | None = None

    def __enter__(self) -> JobsSource:
        try:
            if self.url:
                key = self.api_key or os.environ.get(API_KEY_ENV) or None
                self.source = RemoteJobs(self.url, key)
            else:
                self.source = LocalJobs(self.config)
        except ConfigError as exc:
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
