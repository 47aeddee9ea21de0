"""What both remote clients share: the settings they were built with (never showing the
key), and the `WaitTimedOut` they raise."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from gateway.client.wire import RetryPolicy, new_idempotency_key
from gateway.schemas import Job
from gateway.watch import WaitTimedOut

MAX_LONG_POLL = 60.0  # the gateway's longest `?wait=`
USER_AGENT = "eval-gateway-client"


@dataclass(frozen=True)
class ClientSettings:
    url: str
    api_key: str | None
    retry: RetryPolicy
    auto_idempotency_keys: bool

    @classmethod
    def build(
        cls, url: str, api_key: str | None, retry: RetryPolicy | None, auto_keys: bool
    ) -> ClientSettings:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"the gateway URL must be http(s)://host[:port], got {url!r}")
        if parsed.userinfo:
            raise ValueError("put the API key in api_key=, not in the URL")
        return cls(str(parsed).rstrip("/"), api_key or None, retry or RetryPolicy(), auto_keys)

    def headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(extra or {})}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def key_for(self, idempotency_key: str | None) -> str | None:
        if idempotency_key is None and self.auto_idempotency_keys:
            return new_idempotency_key()
        return idempotency_key

    def describe(self) -> str:
        key = ", api_key=***" if self.api_key else ""
        return f"{self.url!r}{key}"

    def __repr__(self) -> str:  # the dataclass repr would show the key
        return f"ClientSettings({self.describe()})"


def timed_out(job_id: str, last: Job | None, timeout: float | None) -> WaitTimedOut:
    """What `wait()`/`watch()` raise at their timeout, as the library's watcher does."""
    status = last.status.value if last is not None else None
    it_is = f"; it is {status}" if status else ""
    return WaitTimedOut(
        f"the job did not finish within {timeout or 0:g}s{it_is}",
        job_id=job_id,
        backend=last.backend if last is not None else None,
        vendor=last.vendor if last is not None else None,
        job_status=status,
        retryable=True,
    )
