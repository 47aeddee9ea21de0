"""`eval-gateway`: serve the proxy, check a config, run a simulator, look at jobs.

eval-gateway serve [--config FILE]       # no --config: the embedded simulator defaults
eval-gateway check-config FILE
eval-gateway simulate overmind --port 9001
eval-gateway jobs get ID [--url URL | --config FILE] [--json]
eval-gateway jobs submit --backend evals --evaluation mmlu --model M [--wait] [--json]
eval-gateway jobs watch ID [--url URL | --config FILE] [--json]
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli import ledger, watch  # noqa: F401  (register `jobs ls|history|submit|watch`)
from gateway.cli.export import export_app
from gateway.cli.jobs import jobs_app
from gateway.cli.ledger_ops import ledger_app
from gateway.config import DEFAULT_CONFIG_PATH, GatewayConfig, load_config
from gateway.errors import ConfigError

app = typer.Typer(
    name="eval-gateway",
    help="One canonical job/result API in front of five LLM-evaluation vendors.",
    no_args_is_help=True,
    add_completion=False,
    # click's plain help: rich's tables cut long option names ("--evaluation,--benc…") at
    # 80 columns; plain help wraps the descriptions instead.
    rich_markup_mode=None,
)
app.add_typer(jobs_app, name="jobs")
app.add_typer(ledger_app, name="ledger")  # ledger sync|export|upgrade|purge
app.add_typer(export_app, name="export")  # export mlflow JOB_ID...

EXIT_CONFIG = 2
LOG_LEVELS = ("debug", "info", "warning", "error")


def print_config_error(exc: ConfigError) -> None:
    typer.echo(f"invalid config: {exc.source}", err=True)
    for path, message in exc.issues:
        typer.echo(f"  {path or '<root>'}: {message}", err=True)


def _load(path: Path | None) -> GatewayConfig:
    try:
        return load_config(path or DEFAULT_CONFIG_PATH)
    except ConfigError as exc:
        print_config_error(exc)
        raise typer.Exit(EXIT_CONFIG) from None


@app.command()
def serve(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="EVAL_GATEWAY_CONFIG",
            help="Config file (default: the embedded simulators)",
        ),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Default: server.host")] = None,
    port: Annotated[int | None, typer.Option(help="Default: server.port")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Default: server.workers")] = None,
    log_level: Annotated[str, typer.Option(help="debug | info | warning | error")] = "info",
) -> None:
    """Run the HTTP service under uvicorn (SIGTERM/Ctrl-C finish in-flight requests first).

    The config is reloaded without a restart on SIGHUP and when the file changes.
    """
    import uvicorn

    from gateway.server.app import CONFIG_ENV
    from gateway.server.logs import log_config

    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(f"one of {', '.join(LOG_LEVELS)}", param_hint="--log-level")

    loaded = _load(config)  # fail here, with every problem listed, before binding a port
    server = loaded.server
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())  # read by each worker's app factory
    else:
        os.environ.pop(CONFIG_ENV, None)
    from gateway.ui import board_url

    shown_port = server.port if port is None else port
    typer.echo(f"status board: {board_url(host or server.host, shown_port)}", err=True)
    uvicorn.run(
        "gateway.server.app:app_from_env",
        factory=True,
        host=host or server.host,
        port=server.port if port is None else port,
        workers=workers or server.workers,
        log_config=log_config(log_level),
        access_log=False,  # the gateway writes its own, structured
        timeout_graceful_shutdown=server.shutdown_seconds,
        proxy_headers=False,
        server_header=False,
        # Our URL/header limits, and problem+json for what the HTTP parser refuses.
        http="gateway.server.http_limits:GatewayHttpToolsProtocol",
    )


@app.command("check-config")
def check_config(file: Annotated[Path, typer.Argument(help="The YAML config to validate")]) -> None:
    """Validate a config file; print each problem with its key path (exit 2 if any)."""
    loaded = _load(file)
    auth = "on" if loaded.auth.enabled else "OFF"
    typer.echo(
        f"{file}: ok: {len(loaded.backends)} backend(s), {len(loaded.aliases)} alias(es), "
        f"caller auth {auth}"
    )


@app.command()
def simulate(
    vendor: Annotated[str, typer.Argument(help="llama-stack | nemo-evaluator | overmind | ...")],
    host: str = "127.0.0.1",
    port: int = 8000,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="EVAL_GATEWAY_SIM_API_KEY", help="Require this vendor credential"),
    ] = None,
    quirks: Annotated[
        bool,
        typer.Option(
            help="Reproduce the real server's own faults (Llama Stack's keep-alive reset)"
        ),
    ] = True,
) -> None:
    """Serve one vendor's simulator standalone (control API under /_sim/)."""
    import uvicorn

    from gateway.simulators import create_app, vendor_sim

    try:
        vendor_sim(vendor)
    except KeyError as exc:
        typer.echo(str(exc.args[0]), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    if not _is_loopback(host):
        typer.echo(f"warning: the simulator listens on {host}, beyond this machine", err=True)
    typer.echo(f"simulating {vendor} on http://{host}:{port} (control API: /_sim/)", err=True)
    app = create_app(vendor, api_key=api_key, quirks=quirks)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main() -> None:
    app(prog_name="eval-gateway")


if __name__ == "__main__":
    main()
