"""What the remote client sends and how it reads the answers, without doing any I/O: the
requests of each operation, the retry policy (tenacity), answer decoding. The async and the
blocking client both run these, so they cannot disagree."""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, retry_if_exception, stop_after_attempt

from gateway.client.errors import (
    GatewayTimedOut,
    GatewayUnreachable,
    InvalidGatewayResponse,
    error_from_response,
    unreadable,
)
from gateway.core.backends import BackendInfo
from gateway.errors import GatewayError, InvalidRequest
from gateway.schemas import JobStatus, Problem, SubmitRequest

log = logging.getLogger("gateway.client")
M = TypeVar("M", bound=BaseModel)
# How a call may be repeated: any failure ("idempotent": reads, keyed submissions); only when
# the request surely never left or the gateway refused it with 429/503 ("unsent": cancel);
# never (a submission without an idempotency key).
Safety = Literal["idempotent", "unsent", "never"]
RETRY_STATUSES = frozenset({429, 503})
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
IDEMPOTENCY_HEADER = "Idempotency-Key"
StatusArg = JobStatus | str | None


@dataclass(frozen=True)
class RetryPolicy:
    """The client's own retries, on top of the gateway's retries of vendor calls."""

    attempts: int = 3  # tries per call, the first included
    backoff: float = 0.25  # first pause without a Retry-After (doubles, +-50% jitter)
    max_backoff: float = 5.0
    max_retry_after: float = 30.0  # a longer Retry-After is not slept through: it is raised


@dataclass(frozen=True)
class Call:
    """One HTTP request to the gateway and how it may be retried."""

    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    safety: Safety = "idempotent"
    timeout: httpx.Timeout | None = None

    def request(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        headers = dict(self.headers)
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        extensions = {"timeout": self.timeout.as_dict()} if self.timeout is not None else None
        return client.build_request(
            self.method,
            self.path,
            params=tuple(self.params),
            headers=headers,
            content=self.body,
            extensions=extensions,
        )


class BackendListAnswer(BaseModel):
    backends: list[BackendInfo]
    aliases: dict[str, str] = {}


# -- the operations ------------------------------------------------------------------------------


def job_path(job_id: str, tail: str = "") -> str:
    return f"/v1/jobs/{quote(job_id, safe='')}{tail}"


def _read_headers(fresh: bool) -> dict[str, str]:
    return {"Cache-Control": "no-cache"} if fresh else {}


def _raw(include_raw: bool) -> list[tuple[str, str]]:
    return [("include", "raw")] if include_raw else []


def get_job(job_id: str, include_raw: bool, fresh: bool) -> Call:
    return Call("GET", job_path(job_id), _raw(include_raw), _read_headers(fresh))


def long_poll(job_id: str, hold: float) -> Call:
    timeout = DEFAULT_TIMEOUT if hold <= 0 else httpx.Timeout(30.0 + hold, connect=5.0)
    return Call("GET", job_path(job_id), [("wait", f"{max(0.0, hold):g}")], timeout=timeout)


def get_result(
    job_id: str, include_raw: bool, fresh: bool, page_size: int, page_token: str | None
) -> Call:
    params = [("page_size", str(page_size)), *_raw(include_raw)]
    if page_token is not None:
        params.append(("page_token", page_token))
    return Call("GET", job_path(job_id, "/result"), params, _read_headers(fresh))


def cancel_job(job_id: str) -> Call:
    return Call("POST", job_path(job_id, "/cancel"), safety="unsent")


def history(job_id: str) -> Call:
    return Call("GET", job_path(job_id, "/history"))


def backends() -> Call:
    return Call("GET", "/v1/backends")


def list_jobs(
    backend: str, status: StatusArg, page_size: int, page_token: str | None, raw: bool, fresh: bool
) -> Call:
    params = [("page_size", str(page_size)), *_raw(raw)]
    if status is not None:
        params.append(("status", _status_text(status)))
    if page_token is not None:
        params.append(("page_token", page_token))
    return Call("GET", f"/v1/backends/{quote(backend, safe='')}/jobs", params, _read_headers(fresh))


def submit(
    backend: str, request: SubmitRequest | Mapping[str, Any], idempotency_key: str | None
) -> Call:
    if isinstance(request, SubmitRequest):
        data: Any = request.model_dump(mode="json", exclude_none=True)
    else:
        data = dict(request)
    try:
        body = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"the submission is not JSON: {exc}") from None
    headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key is not None else {}
    safety: Safety = "idempotent" if idempotency_key is not None else "never"
    path = f"/v1/backends/{quote(backend, safe='')}/jobs"
    return Call("POST", path, headers=headers, body=body, safety=safety)


def new_idempotency_key() -> str:
    """A fresh key per submit call: the client's own retries then replay, never resubmit."""
    return f"client-{uuid.uuid4()}"


Many = str | Iterable[str] | None
Statuses = JobStatus | str | Iterable[JobStatus | str] | None


def ledger_jobs(
    *,
    status: Statuses,
    backend: Many,
    vendor: Many,
    caller: Many,
    alias: Many,
    created_after: datetime | None,
    created_before: datetime | None,
    updated_after: datetime | None,
    updated_before: datetime | None,
    name_contains: str | None,
    sort: str,
    page_size: int,
    page_token: str | None,
) -> Call:
    params: list[tuple[str, str]] = []
    statuses = [status] if isinstance(status, JobStatus | str) else list(status or ())
    params += [("status", _status_text(s)) for s in statuses]
    named = (("backend", backend), ("vendor", vendor), ("caller", caller), ("alias", alias))
    for name, value in named:
        params += [(name, v) for v in ([value] if isinstance(value, str) else value or ())]
    moments = {
        "created_after": created_after,
        "created_before": created_before,
        "updated_after": updated_after,
        "updated_before": updated_before,
    }
    params += [(k, v.isoformat()) for k, v in moments.items() if v is not None]
    if name_contains is not None:
        params.append(("name", name_contains))
    params += [("sort", sort), ("page_size", str(page_size))]
    if page_token is not None:
        params.append(("page_token", page_token))
    return Call("GET", "/v1/jobs", params)


def _status_text(status: JobStatus | str) -> str:
    return status.value if isinstance(status, JobStatus) else str(status)


# -- answers -----------------------------------------------------------------------------------


def decode(response: httpx.Response, model: type[M]) -> M:
    """The answer as `model`, or the typed error it carries."""
    if response.status_code >= 400:
        raise error_from_response(response)
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise unreadable(response, model.__name__) from None


def transport_error(exc: httpx.TransportError, base_url: str, what: str) -> GatewayError:
    """A failed exchange as a typed error that names the gateway but never a credential."""
    reason = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {exc}"
    failure: GatewayTimedOut | GatewayUnreachable
    if isinstance(exc, httpx.TimeoutException):
        failure = GatewayTimedOut(f"{what}: no answer from {base_url} ({reason})")
    else:
        failure = GatewayUnreachable(f"cannot reach {base_url}: {reason}")
    failure.request_sent = not isinstance(exc, NEVER_SENT)
    return failure


# -- retries -----------------------------------------------------------------------------------


def http_status(exc: GatewayError) -> int | None:
    """The HTTP status the gateway answered with (None: no answer came)."""
    if isinstance(exc, InvalidGatewayResponse):
        return exc.http_status
    found = getattr(exc, "problem_details", None)
    return found.status if isinstance(found, Problem) else None


def may_retry(exc: BaseException, safety: Safety, policy: RetryPolicy) -> bool:
    if safety == "never" or not isinstance(exc, GatewayError):
        return False
    if isinstance(exc, GatewayUnreachable | GatewayTimedOut):
        return safety == "idempotent" or not exc.request_sent
    if http_status(exc) not in RETRY_STATUSES:
        return False
    return exc.retry_after is None or exc.retry_after <= policy.max_retry_after


def retry_delay(exc: BaseException | None, attempt: int, policy: RetryPolicy) -> float:
    """The gateway's Retry-After when it gave one, else jittered exponential backoff."""
    if isinstance(exc, GatewayError) and exc.retry_after is not None:
        return min(float(exc.retry_after), policy.max_retry_after)
    pause = min(policy.backoff * 2.0 ** max(0, attempt - 1), policy.max_backoff)
    return pause * random.uniform(0.5, 1.5)


def retrying(policy: RetryPolicy, call: Call) -> dict[str, Any]:
    """Keyword arguments for tenacity's Retrying/AsyncRetrying around one call."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return float(retry_delay(exc, state.attempt_number, policy))

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        kind = exc.problem_type.slug if isinstance(exc, GatewayError) else type(exc).__name__
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        log.info(
            "retrying %s %s in %.2fs (attempt %d of %d failed: %s)",
            call.method, call.path, pause, state.attempt_number, policy.attempts, kind,
        )  # fmt: skip

    predicate: Callable[[BaseException], bool] = lambda e: may_retry(e, call.safety, policy)  # noqa: E731
    return {
        "stop": stop_after_attempt(max(1, policy.attempts)),
        "wait": wait,
        "retry": retry_if_exception(predicate),
        "before_sleep": before_sleep,
        "reraise": True,
    }
