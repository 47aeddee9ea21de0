"""`eval-gateway`: serve the proxy, check a config, run a simulator, look at jobs.

eval-gateway serve [--config FILE]       # no --config: the embedded simulator defaults
eval-gateway check-config FILE
eval-gateway simulate overmind --port 9001
eval-gateway jobs get ID [--url URL | --config FILE] [--json]
eval-gateway jobs submit --backend evals --evaluation mmlu --model M [--wait] [--json]
eval-gateway jobs watch ID [--url URL | --config FILE] [--json]

This module only assembles the command modules' typer apps (each defines its own; what they
share is in gateway.cli.options and gateway.cli.session, below them).
"""

from __future__ import annotations

import typer

from gateway.cli.export import export_app
from gateway.cli.jobs import jobs_reads_app
from gateway.cli.ledger import jobs_ledger_app
from gateway.cli.ledger_ops import ledger_app
from gateway.cli.options import API_KEY_ENV, URL_ENV
from gateway.cli.service import service_app
from gateway.cli.watch import jobs_watch_app

app = typer.Typer(
    name="eval-gateway",
    help="One canonical job/result API in front of five LLM-evaluation vendors.",
    no_args_is_help=True,
    add_completion=False,
    # click's plain help: rich's tables cut long option names ("--evaluation,--benc…") at
    # 80 columns; plain help wraps the descriptions instead.
    rich_markup_mode=None,
)
jobs_app = typer.Typer(
    help=f"Look at jobs: on a running service (--url or ${URL_ENV}; key from ${API_KEY_ENV}),"
    " or in-process from a config (--config; default: the embedded simulators).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
# A typer added without a name merges its commands into the parent, in this order (--help's).
jobs_app.add_typer(jobs_reads_app)  # jobs get|result|cancel|list
jobs_app.add_typer(jobs_ledger_app)  # jobs ls|history
jobs_app.add_typer(jobs_watch_app)  # jobs watch|submit

app.add_typer(service_app)  # serve|check-config|simulate
app.add_typer(jobs_app, name="jobs")
app.add_typer(ledger_app, name="ledger")  # ledger sync|export|upgrade|purge
app.add_typer(export_app, name="export")  # export mlflow JOB_ID...


def main() -> None:
    app(prog_name="eval-gateway")


if __name__ == "__main__":
    main()
