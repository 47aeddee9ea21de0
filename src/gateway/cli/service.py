"""`eval-gateway serve`, `check-config` and `simulate`: run the HTTP service, validate a
config, serve one vendor's simulator standalone."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.options import EXIT_CONFIG, load_config_or_exit

LOG_LEVELS = ("debug", "info", "warning", "error")

# Nameless: app.py merges these commands into `eval-gateway` itself.
service_app = typer.Typer()


@service_app.command()
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
    # Lazy: uvicorn, the server and the status board load only to serve (startup stays quick).
    import uvicorn

    from gateway.server.app import CONFIG_ENV
    from gateway.server.logs import log_config
    from gateway.ui import board_url

    if log_level.lower() not in LOG_LEVELS:
        raise typer.BadParameter(f"one of {', '.join(LOG_LEVELS)}", param_hint="--log-level")

    # Fail here, with every problem listed, before binding a port.
    loaded = load_config_or_exit(config)
    server = loaded.server
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())  # read by each worker's app factory
    else:
        os.environ.pop(CONFIG_ENV, None)
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


@service_app.command("check-config")
def check_config(file: Annotated[Path, typer.Argument(help="The YAML config to validate")]) -> None:
    """Validate a config file; print each problem with its key path (exit 2 if any)."""
    loaded = load_config_or_exit(file)
    auth = "on" if loaded.auth.enabled else "OFF"
    typer.echo(
        f"{file}: ok: {len(loaded.backends)} backend(s), {len(loaded.aliases)} alias(es), "
        f"caller auth {auth}"
    )


@service_app.command()
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
    # Lazy: uvicorn and the simulators load only to simulate (startup stays quick).
    import uvicorn

    from gateway.simulators import create_app, vendor_sim
    from gateway.vendors.registry import VendorPluginError

    try:
        vendor_sim(vendor)
    except (KeyError, VendorPluginError) as exc:  # unknown, or a plug-in that does not load
        typer.echo(str(exc.args[0]), err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    if not _is_loopback(host):
        typer.echo(f"warning: the simulator listens on {host}, beyond this machine", err=True)
    typer.echo(f"simulating {vendor} on http://{host}:{port} (control API: /_sim/)", err=True)
    sim_app = create_app(vendor, api_key=api_key, quirks=quirks)
    uvicorn.run(sim_app, host=host, port=port, log_level="warning")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
