"""Readers for Overmind's bodies: job ids, paths and links, summary scores, iterations as
result rows, failure text, DRF error bodies and page links. Pure and lenient, like
`adapters.wire`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qs, quote, urlsplit

from gateway.adapters.base import BackendContext
from gateway.adapters.identity import asked_id
from gateway.adapters.wire import dig, integer, number, obj, text
from gateway.errors import UpstreamInvalidResponse
from gateway.ids import JobRef
from gateway.schemas import FieldError, Metric, Problem, ResultRow

VENDOR: Final = "overmind"
JSON: Final = "application/json"
UUID_RE = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", re.IGNORECASE)
# Summary scores on a job (and on list items), all `number | null` (O1).
SUMMARY_METRICS: Final = ("best_score", "baseline_score", "improvement")
MAX_MESSAGE_CHARS: Final = 1000


def job_path(job_id: str) -> str:
    return f"/api/jobs/{quote(job_id, safe='')}/"


def iterations_url(ctx: BackendContext, job_id: str) -> str:
    return ctx.url(f"/api/job-iterations/?job={quote(job_id, safe='')}")


def job_body(ctx: BackendContext, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise UpstreamInvalidResponse(
            f"{VENDOR} answered with a job that is not a JSON object",
            backend=ctx.backend,
            vendor=VENDOR,
        )
    return payload


def vendor_id(ctx: BackendContext, body: Mapping[str, Any], hint: JobRef | None) -> str:
    """The job's UUID: the one the caller asked for, else the body's (a create, a list)."""
    asked = hint.parts[0] if hint is not None and hint.parts else None
    job_id = asked_id(ctx, text(body.get("id")), asked)
    if not job_id:
        raise UpstreamInvalidResponse(
            f"{VENDOR} answered with a job without an id", backend=ctx.backend, vendor=VENDOR
        )
    return job_id


def summary_metrics(body: Mapping[str, Any]) -> list[Metric]:
    metrics = []
    for name in SUMMARY_METRICS:
        value = number(body.get(name))
        if value is not None:
            metrics.append(Metric(name=name, value=value, value_type="number"))
    return metrics


def error_text(value: Any) -> str | None:
    """The `error` field (O3, 2026-06-18: a string); read an object form leniently too."""
    found = text(value) if not isinstance(value, dict) else text(dig(value, "message"))
    if found is None and isinstance(value, dict):
        found = text(dig(value, "detail"))
    return found[:MAX_MESSAGE_CHARS] if found else None


def failure(ctx: BackendContext, body: Mapping[str, Any], message: str | None) -> Problem:
    """`Job.error` of a failed job: the `error` text, else the run report."""
    if message is not None:
        return ctx.failure(message, {"error": body.get("error")})
    # Backends without the `error` field leave the reason in the run report (see
    # examples/job.failed.constructed.json: "Run failed: dataset has no eval rows").
    report = text(body.get("report_markdown"))
    if report is not None:
        return ctx.failure(report.strip()[:MAX_MESSAGE_CHARS], {"report_markdown": report})
    return ctx.failure(None)


def drf_field_errors(body: Any, loc: tuple[str | int, ...] = ()) -> list[FieldError]:
    """DRF validation bodies as field errors: `{"<field>": ["msg", ...]}`, nested serializers
    as nested objects/lists, `non_field_errors` (and bare lists) at the body level."""
    if isinstance(body, str):
        return [FieldError(loc=list(loc), msg=body)] if body.strip() else []
    errors: list[FieldError] = []
    if isinstance(body, list):
        for i, entry in enumerate(body):
            # A list of strings belongs to the field itself; a list of objects is per item.
            errors.extend(drf_field_errors(entry, loc if isinstance(entry, str) else (*loc, i)))
    elif isinstance(body, dict):
        for key, value in body.items():
            here = loc if key in ("non_field_errors", "detail") else (*loc, str(key))
            errors.extend(drf_field_errors(value, here))
    return errors


def drf_error_text(body: Any) -> str | None:
    """A DRF error body as one line, `field: reason; ...` (the vendor's CLI prints that)."""
    errors = drf_field_errors(body)
    parts = [
        (f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" if e.loc else e.msg) for e in errors[:20]
    ]
    return "; ".join(parts) or None


def iteration_row(index: int, payload: Any) -> ResultRow:
    """One JobIteration: its scores, and its name/verdict/description as data."""
    iteration = obj(payload)
    scores = []
    avg = number(iteration.get("avg_score"))
    if avg is not None:
        scores.append(Metric(name="avg_score", value=avg, value_type="number"))
    dimensions = iteration.get("dimension_scores")
    unread: dict[str, Any] = {}
    for name, value in obj(dimensions).items():
        metric = _dimension_metric(name, value)
        if metric is None:
            unread[name] = value
        else:
            scores.append(metric)
    data: dict[str, Any] = {
        key: iteration[key]
        for key in ("iteration_name", "status", "description", "order", "created_at", "updated_at")
        if iteration.get(key) is not None
    }
    # dimension_scores is free-form JSON: keep whatever is not a plain score.
    if unread:
        data["dimension_scores"] = unread
    elif dimensions is not None and not isinstance(dimensions, dict):
        data["dimension_scores"] = dimensions
    return ResultRow(
        index=index,
        id=text(iteration.get("id")),
        # An iteration's agent code is the candidate it produced.
        output=text(iteration.get("agent_code")),
        scores=scores,
        data=data,
    )


def _dimension_metric(name: str, value: Any) -> Metric | None:
    group = "dimension_scores"
    if isinstance(value, bool):
        return Metric(name=name, value=value, value_type="boolean", group=group)
    if isinstance(value, str):
        return Metric(name=name, value=value, value_type="string", group=group)
    score = number(value)
    if score is not None:
        return Metric(name=name, value=score, value_type="number", group=group)
    return None


def page_of(next_url: Any, fallback: int) -> int:
    """The `page` of DRF's absolute `next` URL (fallback: the following page)."""
    if isinstance(next_url, str):
        values = parse_qs(urlsplit(next_url).query).get("page", [])
        page = integer(values[0]) if values else None
        if page is not None and page >= 1:
            return page
    return fallback
