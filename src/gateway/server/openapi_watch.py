"""OpenAPI of submitting and of waiting on jobs (see gateway.server.openapi)."""

from __future__ import annotations

from typing import Any

from gateway.core.submission import MAX_KEY_LENGTH
from gateway.server.models import MAX_EVENT_ID_CHARS, EventsQuery
from gateway.server.openapi_parts import (
    API_PROBLEMS,
    BODY_API_PROBLEMS,
    ok_content,
    operation,
    query_params,
    ref,
)
from gateway.server.watch_routes import SSE_MEDIA_TYPE

RESPONSE_HEADERS: dict[str, Any] = {
    "Location": {
        "description": "The (first) job the submission started: /v1/jobs/{job_id}",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when the answer is an earlier submission with this key",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
EVENTS_DOC = (
    "Server-sent events (`text/event-stream`) until the job is terminal. Each change is one"
    " event: `id:` (pass it back as `Last-Event-ID` to resume), `event: status`, and `data:`"
    " the canonical Job as JSON. The first event is the job as it stands. While nothing"
    " changes, a `: heartbeat` comment line is sent every `heartbeat` seconds. The stream ends"
    " after the terminal event. While the vendor fails (a retryable problem: upstream-timeout,"
    " -unavailable, -error, -rate-limited, an open circuit) each failed read is sent as"
    " `event: problem` with `retryable: true` and the stream goes on (reads again with"
    " backoff; the stream may start with one); a lasting problem (job-not-found, a revoked"
    " key) is the last event. Lasting problems before the stream starts are ordinary problem"
    " answers. Any number of clients watching one job share one poller."
    " Resuming after the terminal event answers 204 (an EventSource then stops reconnecting)."
)


def submit_operation(backend: dict[str, Any], security: list[dict[str, list[str]]]) -> Any:
    return operation(
        "submitJob",
        "Start an evaluation",
        "One canonical request, whatever vendor the backend (or alias) points at today; the"
        " answer says which backend ran it (`backend`) and which name was used (`requested`)."
        " A vendor that cannot express a field answers `invalid-request` naming it. With"
        " `Idempotency-Key`, the same key and body answer the same job(s) and never start a"
        " second vendor job (same key, different body: `invalid-request`). Without a key a"
        " submission is never retried once it may have reached the vendor.",
        ok_content(
            "application/json",
            ref("Submission"),
            description="Accepted: the job(s) started (or, replayed, started earlier)",
            extra_headers=("Location", "Idempotent-Replayed"),
        ),
        BODY_API_PROBLEMS,
        parameters=[
            backend,
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Makes retries safe: one key, one submission (kept 24 h)",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            },
        ],
        request_body={
            "required": True,
            "content": {"application/json": {"schema": ref("SubmitRequest")}},
        },
        security=security,
        tags=["jobs"],
        ok_status=202,
    )


# The events of the stream: each is the fields of one event block; `data` is JSON text of
# the schema in `contentSchema`.
SSE_EVENT_SCHEMAS: dict[str, Any] = {
    "JobStatusEvent": {
        "type": "object",
        "description": "`event: status`: the job changed (the first one is the job as it stands)",
        "properties": {
            "id": {"type": "string", "description": "Pass back as Last-Event-ID to resume"},
            "event": {"const": "status"},
            "retry": {"type": "integer", "description": "Reconnect delay (ms), first event"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": ref("Job"),
            },
        },
        "required": ["id", "event", "data"],
    },
    "JobProblemEvent": {
        "type": "object",
        "description": "`event: problem`: reading the job failed; the stream goes on after"
        " a retryable one (`retryable: true`) and ends after any other",
        "properties": {
            "event": {"const": "problem"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": ref("Problem"),
            },
        },
        "required": ["event", "data"],
    },
}


def events_operation(
    job_id: dict[str, Any], schemas: dict[str, Any], security: list[dict[str, list[str]]]
) -> Any:
    return operation(
        "watchJob",
        "Watch a job (server-sent events)",
        EVENTS_DOC,
        events_content(),
        API_PROBLEMS,
        parameters=[
            job_id,
            *query_params(EventsQuery, schemas),
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "Resume after this event id (sent by EventSource on reconnect)",
                "schema": {"type": "string", "maxLength": MAX_EVENT_ID_CHARS},
            },
        ],
        extra_responses={
            "204": {
                "description": "The caller's last event was the terminal one: nothing more",
                "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
            }
        },
        security=security,
        tags=["jobs"],
    )


def events_content() -> dict[str, Any]:
    # Before OpenAPI 3.2's `itemSchema`, the schema of a text/event-stream describes each
    # event (the fields of one event block), as schemathesis and other tools read it.
    return ok_content(
        SSE_MEDIA_TYPE,
        {
            "description": "One event of the stream (`: heartbeat` comments come between)",
            "oneOf": [ref("JobStatusEvent"), ref("JobProblemEvent")],
        },
        description="The event stream",
    )
