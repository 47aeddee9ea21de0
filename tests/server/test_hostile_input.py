"""Input a hostile or careless caller sends, on a real uvicorn server: always a typed problem
(application/problem+json), never a 500 or the HTTP server's own text/plain answer."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.server.proc import Proc
from tests.server.test_problems import PROBLEM, assert_problem

DO_DONE = "do-sim~9758a232-b351-11ef-bf8f-4e013e2ddde4"
CANCEL = "/v1/jobs/nemo-v1-sim~eval-x/cancel"
SUBMIT = "/v1/backends/ls-sim/jobs"
GOOD_BODY = {"evaluation": "mmlu", "targets": [{"model": "m"}], "max_tokens": 512}


def nested(depth: int) -> bytes:
    """A submission whose vendor_options nest `depth` levels deep (about 6 bytes a level)."""
    inner = b'{"a":' * depth + b"1" + b"}" * depth
    return (
        b'{"evaluation":"mmlu","targets":[{"model":"m"}],"max_tokens":512,"vendor_options":'
        + inner
        + b"}"
    )


@pytest.mark.parametrize("path", [SUBMIT, CANCEL])
def test_a_deeply_nested_body_is_an_invalid_request(api: httpx.Client, path: str) -> None:
    body = nested(5000)
    assert 25_000 < len(body) < 65_536  # under the body limit: only the nesting is wrong
    response = api.post(path, content=body, headers={"content-type": "application/json"})
    problem = assert_problem(response, 400, "invalid-request")
    assert "nested more than 64 levels" in str(problem["detail"])


def test_nesting_within_the_bound_is_read(api: httpx.Client) -> None:
    response = api.post(SUBMIT, content=nested(40), headers={"content-type": "application/json"})
    # Read and judged on its merits: llama-stack has no vendor option "a", and says so.
    problem = assert_problem(response, 400, "invalid-request")
    assert "vendor_options.a" in str(problem["detail"])


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_sent_as_json_is_unsupported(
    api: httpx.Client, content_type: str
) -> None:
    response = api.post(
        SUBMIT, content=b'{"evaluation": "mmlu"}', headers={"content-type": content_type}
    )
    problem = assert_problem(response, 415, "unsupported-media-type")
    assert content_type in str(problem["detail"])


def test_a_json_body_without_content_type_is_read_as_json(api: httpx.Client) -> None:
    # Documented leniency: JSON is all these routes take, and minimal clients omit the header.
    request = api.build_request("POST", CANCEL, content=b"{}")
    assert "content-type" not in request.headers
    response = api.send(request)
    assert response.headers["content-type"] in (PROBLEM, "application/json")
    assert response.status_code != 415


def test_json_media_types_with_parameters_and_suffixes_are_json(api: httpx.Client) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = api.post(SUBMIT, json=GOOD_BODY, headers={"content-type": content_type})
        assert response.status_code == 202, (content_type, response.text)


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_tokens", True), ("num_samples", False), ("temperature", True), ("max_tokens", "5")],
)
def test_a_bool_or_string_is_not_a_number(api: httpx.Client, field: str, value: object) -> None:
    problem = assert_problem(
        api.post(SUBMIT, json={**GOOD_BODY, field: value}), 400, "invalid-request"
    )
    assert problem["errors"][0]["loc"] == ["body", field]  # type: ignore[index]


def test_an_empty_target_is_refused_as_the_schema_says(api: httpx.Client) -> None:
    problem = assert_problem(
        api.post(SUBMIT, json={**GOOD_BODY, "targets": [{}]}), 400, "invalid-request"
    )
    assert "a model target needs 'model'" in str(problem["detail"])


def test_backends_refuses_unknown_query_parameters(api: httpx.Client) -> None:
    problem = assert_problem(api.get("/v1/backends", params={"foo": "bar"}), 400, "invalid-request")
    assert problem["errors"][0]["loc"] == ["query", "foo"]  # type: ignore[index]
    assert api.get("/v1/backends").status_code == 200


def test_a_long_url_is_a_uri_too_long_problem(api: httpx.Client) -> None:
    assert_problem(api.get(f"/v1/jobs/{DO_DONE}", params={"x": "a" * 9000}), 414, "uri-too-long")


def test_large_headers_are_a_headers_too_large_problem(api: httpx.Client) -> None:
    headers = {f"x-filler-{i}": "a" * 4000 for i in range(10)}
    assert_problem(api.get("/healthz", headers=headers), 431, "headers-too-large")


def raw_exchange(proc: Proc, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes (what httpx would refuse to build); return status, headers, body."""
    url = urlsplit(proc.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_a_100_kb_url_is_a_problem_not_the_servers_text(default_gateway: Proc) -> None:
    # Past what uvicorn's parser reads at all: without our protocol, a text/plain 400.
    status, headers, body = raw_exchange(
        default_gateway, b"GET /v1/backends?x=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert (status, headers["content-type"]) == (414, PROBLEM)
    assert b"/problems/uri-too-long" in body and headers["x-request-id"]


def test_100_kb_of_headers_is_a_problem(default_gateway: Proc) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    status, headers, body = raw_exchange(default_gateway, request)
    assert (status, headers["content-type"]) == (431, PROBLEM)
    assert b"/problems/headers-too-large" in body


def test_a_malformed_request_is_a_problem(default_gateway: Proc) -> None:
    status, headers, body = raw_exchange(default_gateway, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")
    assert (status, headers["content-type"]) == (400, PROBLEM)
    assert b"/problems/invalid-request" in body


@pytest.mark.parametrize(
    ("slug", "status"),
    [
        ("not-found", 404),
        ("method-not-allowed", 405),
        ("payload-too-large", 413),
        ("uri-too-long", 414),
        ("unsupported-media-type", 415),
        ("headers-too-large", 431),
    ],
)
def test_each_http_level_problem_page_says_its_own_status(
    api: httpx.Client, slug: str, status: int
) -> None:
    page = api.get(f"/problems/{slug}")
    assert page.status_code == 200
    assert f"HTTP status {status}" in page.text
