"""What every `eval-gateway` command shares: the option types, the exit codes, the config
loading that prints each problem, and printing an answer as JSON or for people.

It sits below the command modules (they import it; it imports none of them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel

from gateway.config import DEFAULT_CONFIG_PATH, GatewayConfig, load_config
from gateway.errors import ConfigError

API_KEY_ENV = "EVAL_GATEWAY_API_KEY"
URL_ENV = "EVAL_GATEWAY_URL"

EXIT_PROBLEM = 1  # a problem (the gateway's or the vendor's), or a --timeout
EXIT_CONFIG = 2  # a bad config file or setting
EXIT_JOB_UNSUCCESSFUL = 3  # a followed job ended otherwise than succeeded

M = TypeVar("M", bound=BaseModel)

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
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", min=0, help="Give up after this many seconds (exit 1)"),
]


def print_config_error(exc: ConfigError) -> None:
    """Every problem of a config file, each with its key path (on stderr)."""
    typer.echo(f"invalid config: {exc.source}", err=True)
    for path, message in exc.issues:
        typer.echo(f"  {path or '<root>'}: {message}", err=True)


def load_config_or_exit(path: Path | None) -> GatewayConfig:
    """The config at `path` (None: the embedded defaults); a bad one is printed, exit 2."""
    try:
        return load_config(path or DEFAULT_CONFIG_PATH)
    except ConfigError as exc:
        print_config_error(exc)
        raise typer.Exit(EXIT_CONFIG) from None


def show(as_json: bool, model: M, render: Callable[[M], None]) -> None:
    """The answer as indented JSON (--json), else rendered for people."""
    if as_json:
        typer.echo(model.model_dump_json(indent=2))
    else:
        render(model)
