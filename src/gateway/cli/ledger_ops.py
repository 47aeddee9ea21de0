"""`eval-gateway ledger ...`: operator commands on the job ledger of a config, in-process.

eval-gateway ledger sync [BACKEND] [--config FILE]   # import vendor listings (jobs from elsewhere)
eval-gateway ledger export --format jsonl|csv [--output FILE]
eval-gateway ledger upgrade [--config FILE]          # migrate the schema to this gateway's
eval-gateway ledger purge [--days N]                 # drop records older than retention_days
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer

from gateway.cli.options import (
    EXIT_CONFIG,
    EXIT_PROBLEM,
    ConfigOpt,
    JsonOpt,
    load_config_or_exit,
)
from gateway.config import GatewayConfig
from gateway.core.async_gateway import AsyncGateway
from gateway.errors import GatewayError
from gateway.ledger_jobs.importer import sync_all
from gateway.ledger_jobs.records import build_query
from gateway.ledger_jobs.refresher import resolve_orphans

T = TypeVar("T")
ledger_app = typer.Typer(
    help="The job ledger of a config (default: the embedded defaults' ledger file): sync,"
    " export, upgrade, purge. Runs in-process, on the ledger's database directly.",
    no_args_is_help=True,
)


def _config(path: Path | None) -> GatewayConfig:
    loaded = load_config_or_exit(path)
    if not loaded.ledger.enabled:
        typer.echo("this config keeps no ledger (ledger.enabled is false)", err=True)
        raise typer.Exit(EXIT_CONFIG)
    return loaded


def _run(work: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_awaited(work))
    except GatewayError as exc:
        typer.echo(f"error: {exc.problem_type.slug}: {exc.detail}", err=True)
        raise typer.Exit(EXIT_PROBLEM) from None


async def _awaited(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


@ledger_app.command("sync")
def sync(
    backend: Annotated[
        str | None, typer.Argument(help="Backend or alias (default: every backend)")
    ] = None,
    max_pages: Annotated[
        int | None, typer.Option(min=1, help="Pages per backend (default: ledger.sync.max_pages)")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import the vendors' job listings into the ledger (jobs started outside the gateway),
    through the same cache and retries as any read; settles submissions a dead process left."""
    loaded = _config(config)

    async def work() -> list[dict[str, object]]:
        async with AsyncGateway(loaded) as gw:
            reports = await sync_all(gw, [backend] if backend else None, max_pages=max_pages)
            ledger = await gw.open_ledger()
            await ledger.flush()
            await resolve_orphans(gw, ledger)
            return [r.summary() for r in reports]

    summaries = _run(work)
    if as_json:
        typer.echo(json.dumps(summaries, indent=2))
        return
    for s in summaries:
        state = "complete" if s["complete"] else f"stopped: {s['problem'] or 'max pages'}"
        typer.echo(f"{s['backend']}: {s['jobs']} job(s) in {s['pages']} page(s), {state}")


@ledger_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl | csv")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout)")
    ] = None,
    status: Annotated[list[str] | None, typer.Option("--status", "-s")] = None,
    backend: Annotated[list[str] | None, typer.Option("--backend", "-b")] = None,
    config: ConfigOpt = None,
) -> None:
    """Every ledger record (optionally filtered), one JSON object a line or CSV."""
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("jsonl or csv", param_hint="--format")
    chosen: Literal["jsonl", "csv"] = "jsonl" if fmt == "jsonl" else "csv"
    from gateway.ledger import Ledger  # lazy: SQLAlchemy loads only for a ledger command

    loaded = _config(config)

    async def work() -> int:
        query = build_query(loaded, status=status, backend=backend, page_size=500)
        ledger = await Ledger.open(loaded.ledger)
        written = 0
        try:
            sink = output.open("wb") if output is not None else sys.stdout.buffer
            try:
                async for chunk in ledger.export(query, chosen):
                    sink.write(chunk)
                    written += len(chunk)
            finally:
                if output is not None:
                    sink.close()
                else:
                    sink.flush()
        finally:
            await ledger.aclose()
        return written

    written = _run(work)
    if output is not None:
        typer.echo(f"{output}: {written} bytes", err=True)


@ledger_app.command("upgrade")
def upgrade(config: ConfigOpt = None) -> None:
    """Migrate the ledger's schema to this gateway's version (creating it if new)."""
    from gateway.ledger import upgrade as upgrade_schema  # lazy: SQLAlchemy, Alembic

    loaded = _config(config)
    revision = _run(lambda: upgrade_schema(loaded.ledger))
    typer.echo(f"ledger schema at revision {revision}")


@ledger_app.command("purge")
def purge(
    days: Annotated[int | None, typer.Option(min=1, help="Default: ledger.retention_days")] = None,
    config: ConfigOpt = None,
) -> None:
    """Delete records whose last change is older than the retention (and their history)."""
    from gateway.ledger import Ledger  # lazy: SQLAlchemy loads only for a ledger command

    loaded = _config(config)
    keep = days or loaded.ledger.retention_days
    if keep is None:
        typer.echo("give --days, or set ledger.retention_days in the config", err=True)
        raise typer.Exit(EXIT_CONFIG)

    async def work() -> int:
        ledger = await Ledger.open(loaded.ledger)
        try:
            return await ledger.purge(keep)
        finally:
            await ledger.aclose()

    typer.echo(f"purged {_run(work)} record(s) older than {keep} day(s)")
