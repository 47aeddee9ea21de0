"""`Adapter.call` turns each transport error into the typed upstream problem callers rely on.

The problem's type decides whether the resilience layer retries it and what the caller sees
(upstream-timeout, -invalid-response, -unavailable: 504 / 502 / 503), so each member of the
family must land on its own, with the message users and tests know, and nothing from the
library's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from gateway.adapters import Adapter, BackendContext, StatusTable
from gateway.contract import Operation
from gateway.errors import (
    GatewayError,
    UpstreamInvalidResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.transport import (
    ConnectFailed,
    ConnectionDropped,
    InvalidResponse,
    Timeout,
    TransportError,
    UpstreamAnswer,
)


class FailingUpstream:
    """An engine whose every call fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def request(self, method: str, url: str, **kwargs: Any) -> UpstreamAnswer:
        raise self.error

    async def aclose(self) -> None:
        return None


class TinyAdapter(Adapter):
    vendor = "llama-stack"
    id_parts = ("job_id",)
    status_table = StatusTable.of(running=["in_progress"])


def adapter(error: Exception) -> TinyAdapter:
    return TinyAdapter(BackendContext("tiny", "llama-stack"), FailingUpstream(error))


EXPECTED: Mapping[type[TransportError], tuple[type[GatewayError], str]] = {
    Timeout: (UpstreamTimeout, "llama-stack did not answer in time"),
    InvalidResponse: (
        UpstreamInvalidResponse,
        "llama-stack answered with a response httpx cannot read",
    ),
    ConnectFailed: (
        UpstreamUnavailable,
        "could not reach llama-stack (connection failed or was dropped)",
    ),
    ConnectionDropped: (
        UpstreamUnavailable,
        "could not reach llama-stack (connection failed or was dropped)",
    ),
    TransportError: (
        UpstreamUnavailable,
        "could not reach llama-stack (connection failed or was dropped)",
    ),
}


@pytest.mark.parametrize("error", EXPECTED, ids=lambda e: e.__name__)
async def test_each_transport_error_is_its_typed_problem(error: type[TransportError]) -> None:
    problem, detail = EXPECTED[error]
    with pytest.raises(GatewayError) as raised:
        await adapter(error("ReadError")).call(Operation.GET_JOB, "GET", "/jobs/1")
    assert type(raised.value) is problem
    assert raised.value.detail == detail
    assert (raised.value.backend, raised.value.vendor) == ("tiny", "llama-stack")
    assert raised.value.__cause__ is None  # the library's exception is not chained on


async def test_anything_else_from_an_engine_is_a_bug_and_not_hidden() -> None:
    with pytest.raises(KeyError):
        await adapter(KeyError("a bug")).call(Operation.GET_JOB, "GET", "/jobs/1")
