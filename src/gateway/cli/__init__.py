"""The `eval-gateway` command: serve, simulate, jobs, ledger and export sub-commands.

Importing a module of this package does not build the whole typer app: `main` imports it
when the command runs (the `eval-gateway = gateway.cli:main` entry point)."""


def main() -> None:
    """Run `eval-gateway` (its typer app is gateway.cli.app.app)."""
    # Lazy: importing gateway.cli.render (say) must not register every command.
    from gateway.cli.app import main as run

    run()


__all__ = ["main"]
