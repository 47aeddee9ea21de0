"""Deeply nested JSON from a caller, a vendor or a page token: a typed problem, never a crash
(json.loads raises RecursionError, not ValueError, a few thousand levels down)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from gateway import (
    AsyncGateway,
    InvalidRequest,
    JobNotFound,
    UpstreamInvalidResponse,
    config_from_dict,
)
from gateway.jsonbound import MAX_JSON_DEPTH, JSONTooDeep, loads, nested_deeper_than
from gateway.paging import decode_page_token


def deep(levels: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * levels + "1" + close * levels).encode()


def test_the_bound_is_exact() -> None:
    assert not nested_deeper_than(deep(MAX_JSON_DEPTH))
    assert nested_deeper_than(deep(MAX_JSON_DEPTH + 1))
    assert nested_deeper_than(b'{"a":' * 65 + b"1" + b"}" * 65)
    assert loads(deep(MAX_JSON_DEPTH)) is not None


def test_brackets_inside_strings_are_text() -> None:
    text = json.dumps({"s": "[" * 500 + '\\"{' * 300, "t": ["]]]"]}).encode()
    assert loads(text)["t"] == ["]]]"]


@pytest.mark.parametrize(
    "raw", [deep(5000), deep(5000, "{", "}").replace(b"{", b'{"a":'), b"[" * 5000 + b"}"]
)
def test_too_deep_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(JSONTooDeep) as caught:
        loads(raw)
    assert isinstance(caught.value, ValueError)  # what every caller already turns into a problem


def test_ordinary_documents_decode_as_json_does() -> None:
    doc = {"jobs": [{"id": i, "tags": [[1, 2], {"x": None}]} for i in range(500)]}
    assert loads(json.dumps(doc)) == doc
    assert loads(json.dumps(doc).encode()) == doc


def test_a_deep_page_token_is_an_invalid_request() -> None:
    payload = b'{"b":"ls","c":' + deep(3000) + b"}"
    token = base64.urlsafe_b64encode(payload).decode().rstrip("=")[:4096]
    with pytest.raises(InvalidRequest):
        decode_page_token("ls", token)


CONFIG = {"backends": {"ls": {"vendor": "llama-stack", "base_url": "https://ls.example"}}}


def vendor_answering(status: int, body: bytes) -> httpx.MockTransport:
    return httpx.MockTransport(
        lambda request: httpx.Response(
            status, content=body, headers={"content-type": "application/json"}
        )
    )


async def test_a_deeply_nested_vendor_answer_is_an_invalid_response() -> None:
    config = config_from_dict(CONFIG)
    async with AsyncGateway(config, transports={"ls": vendor_answering(200, deep(5000))}) as gw:
        with pytest.raises(UpstreamInvalidResponse) as caught:
            await gw.get_job("ls~mmlu~job-1")
    assert caught.value.problem().status == 502


async def test_a_deeply_nested_vendor_error_is_still_its_typed_problem() -> None:
    body = b'{"detail":' + deep(5000) + b"}"
    config = config_from_dict(CONFIG)
    async with AsyncGateway(config, transports={"ls": vendor_answering(404, body)}) as gw:
        with pytest.raises(JobNotFound):
            await gw.get_job("ls~mmlu~job-1")
