"""The `eval-gateway` command: serve, simulate, jobs, ledger and export sub-commands."""

from gateway.cli.app import main

__all__ = ["main"]
