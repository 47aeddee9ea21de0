"""`eval-gateway jobs submit` and `eval-gateway jobs watch`: start an evaluation, follow it live.

Against a running service (`--url`) a watch reads the job's server-sent events and resumes
with `Last-Event-ID` if the connection drops; in-process (`--config`) it follows the library's
watch. People get a live status line (rich) and, at the end, the result's headline metrics;
`--json` prints one JSON object per line for scripts.

Exit codes: 0 the job(s) succeeded (fully or partially), 3 a job ended otherwise (failed,
cancelled, expired), 1 a problem (including a `--timeout`), 2 a bad config file.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError

from gateway.cli.follow import Failing, changes
from gateway.cli.options import (
    EXIT_JOB_UNSUCCESSFUL,
    ApiKeyOpt,
    ConfigOpt,
    JsonOpt,
    TimeoutOpt,
    UrlOpt,
)
from gateway.cli.render import LiveJob, render_headline, render_submission
from gateway.cli.session import JobsSource, Session
from gateway.errors import InvalidRequest, field_errors
from gateway.schemas import RESULT_READY_STATUSES, Job, Result, SubmitRequest

# Nameless: app.py merges these commands into `eval-gateway jobs`.
jobs_watch_app = typer.Typer()


def follow(source: JobsSource, job_id: str, as_json: bool, timeout: float | None) -> Job | None:
    """Follow one job to its end; print it live (or as JSON lines) with its headline metrics."""
    last: Job | None = None
    if as_json:
        for seen in changes(source, job_id, timeout):
            if isinstance(seen, Failing):  # the vendor is failing; the watch goes on
                problem = seen.problem.problem()
                typer.echo(
                    _line({"event": "problem", "retry_in": seen.retry_in, "problem": problem})
                )
                continue
            last = seen.job
            typer.echo(_line({"event": "status", "id": seen.id, "job": seen.job}))
    else:
        with LiveJob(job_id) as view:
            for seen in changes(source, job_id, timeout):
                if isinstance(seen, Failing):
                    view.console.print(_failing_line(seen), soft_wrap=True, markup=False)
                    continue
                last = seen.job
                view.update(seen.job)
    if last is None:
        return None
    result = _result(source, last)
    if as_json:
        if result is not None:
            typer.echo(_line({"event": "result", "result": result}))
    else:
        render_headline(last, result)
    return last


def _failing_line(failing: Failing) -> str:
    exc = failing.problem
    return (
        f"vendor failing: {exc.problem_type.slug}: {exc.detail}; "
        f"still watching, next try in {failing.retry_in:g}s"
    )


def _result(source: JobsSource, job: Job) -> Result | None:
    if job.status not in RESULT_READY_STATUSES:
        return None
    return source.get_result(job.id, False, 1, None)  # the headline needs metrics, not rows


def _line(data: dict[str, Any]) -> str:
    plain = {
        k: v.model_dump(mode="json") if isinstance(v, BaseModel) else v for k, v in data.items()
    }
    return json.dumps(plain, separators=(",", ":"))


def _exit_for(jobs: list[Job | None]) -> None:
    if any(j is None or j.status not in RESULT_READY_STATUSES for j in jobs):
        raise typer.Exit(EXIT_JOB_UNSUCCESSFUL)


# -- the commands ----------------------------------------------------------------------------


@jobs_watch_app.command("watch")
def watch_job(
    job_id: str,
    url: UrlOpt = None,
    api_key: ApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Follow a job live until it ends, then show its result's headline metrics.

    --json prints one line per change ({"event": "status", "id", "job"}) and, when the job
    succeeded, a last line {"event": "result", "result"}. Exit 0 when it succeeded, 3 when it
    ended otherwise. While the vendor fails (timeouts, 5xx, rate limits) the watch goes on
    with backoff until --timeout, saying so ({"event": "problem", "retry_in", "problem"});
    a problem that will not pass (job-not-found, unauthorized) ends it at once (exit 1).
    """
    with Session(url, config, as_json, api_key) as source:
        final = follow(source, job_id, as_json, timeout)
    _exit_for([final])


@jobs_watch_app.command("submit")
def submit(
    backend: Annotated[str, typer.Option("--backend", "-b", help="Backend or alias name")],
    evaluation: Annotated[
        str,
        typer.Option(
            "--evaluation",
            "--benchmark",
            "-e",
            help="What to evaluate, in the vendor's terms (benchmark id, NeMo config "
            "'namespace/name', DigitalOcean test case uuid, Overmind job type...)",
        ),
    ],
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="A model to evaluate (repeatable)")
    ] = None,
    agent: Annotated[
        list[str] | None, typer.Option("--agent", "-a", help="An agent to evaluate (repeatable)")
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option(help="URL the vendor calls to reach the model/agent")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name for the job")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature")] = None,
    top_p: Annotated[float | None, typer.Option("--top-p", help="Nucleus sampling")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens")] = None,
    num_samples: Annotated[
        int | None, typer.Option("--num-samples", help="How many examples to evaluate")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="KEY=VALUE passed to the vendor as is (VALUE is JSON if it parses)",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Makes a retry safe: one key, one submission"),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the job(s) to the end")] = False,
    timeout: TimeoutOpt = None,
    url: UrlOpt = None,
    api_key: ApiKeyOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start an evaluation on a backend or alias; with --wait, follow it to its result.

    --json prints the submission; with --wait, one object at the end:
    {"submission", "jobs" (as they ended), "results" (null where there is none)}.
    """
    with Session(url, config, as_json, api_key) as source:
        request = _request(
            evaluation, model, agent, endpoint, name, temperature, top_p, max_tokens,
            num_samples, option,
        )  # fmt: skip
        submission = source.submit(backend, request, idempotency_key)
        if not wait:
            if as_json:
                typer.echo(submission.model_dump_json(indent=2))
            else:
                render_submission(submission)
            return
        if not as_json:
            render_submission(submission, hint=False)
            finals = [follow(source, job.id, False, timeout) for job in submission.jobs]
        else:
            finals = [_last(source, job.id, timeout) for job in submission.jobs]
            results = [_result(source, j) if j is not None else None for j in finals]
            typer.echo(
                json.dumps(
                    {
                        "submission": submission.model_dump(mode="json"),
                        "jobs": [j.model_dump(mode="json") if j else None for j in finals],
                        "results": [r.model_dump(mode="json") if r else None for r in results],
                    },
                    indent=2,
                )
            )
    _exit_for(finals)


def _last(source: JobsSource, job_id: str, timeout: float | None) -> Job | None:
    last = None
    for seen in changes(source, job_id, timeout):
        if not isinstance(seen, Failing):
            last = seen.job
    return last


def _request(
    evaluation: str,
    models: list[str] | None,
    agents: list[str] | None,
    endpoint: str | None,
    name: str | None,
    temperature: float | None,
    top_p: float | None,
    max_tokens: int | None,
    num_samples: int | None,
    options: list[str] | None,
) -> dict[str, Any]:
    """The canonical SubmitRequest as JSON (checked here, so mistakes show before any call)."""
    targets: list[dict[str, Any]] = [
        *({"type": "model", "model": m} for m in models or []),
        *({"type": "agent", "agent": a} for a in agents or []),
    ]
    if not targets:
        raise typer.BadParameter("name what to evaluate: --model or --agent", param_hint="target")
    if endpoint:
        targets = [{**t, "endpoint": endpoint} for t in targets]
    body: dict[str, Any] = {
        "evaluation": evaluation,
        "targets": targets,
        "vendor_options": dict(_option(o) for o in options or []),
    }
    fields = {
        "name": name,
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "num_samples": num_samples,
    }
    body.update({k: v for k, v in fields.items() if v is not None})
    try:
        SubmitRequest.model_validate(body)
    except ValidationError as exc:
        errors = field_errors(exc, "body")
        raise InvalidRequest("the submission is not valid", errors=errors) from None
    return body


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--option")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value
