"""OpenAPI of submitting and of waiting on jobs (see gateway.server.openapi)."""

from __future__ import annotations

from typing import Any

from ..schemas import ProblemType
from ..submission import MAX_KEY_LENGTH
from .models import MAX_EVENT_ID_CHARS, EventsQuery
from .openapi_parts import ok_content, operation, problem_response, query_params, ref
from .watching import SSE_MEDIA_TYPE

ALL_PROBLEMS = tuple(ProblemType)
TOO_LARGE = {"413": problem_response([ProblemType.INVALID_REQUEST], 413)}
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
    " after the terminal event; a problem met while streaming is sent as `event: problem`"
    " (problem details as data) before the stream ends. Problems before the stream starts are"
    " ordinary problem answers. Any number of clients watching one job share one poller."
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
        ALL_PROBLEMS,
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
        extra_responses=TOO_LARGE,
        security=security,
        tags=["jobs"],
        ok_status=202,
    )


def events_operation(
    job_id: dict[str, Any], schemas: dict[str, Any], security: list[dict[str, list[str]]]
) -> Any:
    return operation(
        "watchJob",
        "Watch a job (server-sent events)",
        EVENTS_DOC,
        ok_content(SSE_MEDIA_TYPE, {"type": "string"}, description="The event stream"),
        ALL_PROBLEMS,
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
