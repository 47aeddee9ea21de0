"""Every error is application/problem+json with the request id, on a real server."""

from __future__ import annotations

import httpx
import pytest

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, object] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_unknown_route(api: httpx.Client) -> None:
    body = assert_problem(api.get("/v2/jobs/x"), 404, "not-found")
    assert "/v2/jobs/x" in str(body["detail"])


def test_wrong_method_says_what_is_allowed(api: httpx.Client) -> None:
    response = api.delete("/v1/jobs/do-sim~abc")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


def test_malformed_json_body(api: httpx.Client) -> None:
    response = api.post(
        "/v1/jobs/nemo-v1-sim~eval-x/cancel",
        content=b'{"reason": ',
        headers={"content-type": "application/json"},
    )
    body = assert_problem(response, 400, "invalid-request")
    assert "not valid JSON" in str(body["detail"])


def test_unexpected_body_fields_are_listed(api: httpx.Client) -> None:
    response = api.post("/v1/jobs/nemo-v1-sim~eval-x/cancel", json={"force": True})
    body = assert_problem(response, 400, "invalid-request")
    assert body["errors"] == [
        {
            "loc": ["body", "force"],
            "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]


def test_oversized_body(api: httpx.Client) -> None:
    response = api.post("/v1/jobs/nemo-v1-sim~eval-x/cancel", content=b" " * 70_000)
    body = assert_problem(response, 413, "payload-too-large")
    assert "65536" in str(body["detail"])


def test_oversized_streamed_body(api: httpx.Client) -> None:
    chunks = iter([b" " * 40_000, b" " * 40_000])  # chunked: no Content-Length to go by
    response = api.post("/v1/jobs/nemo-v1-sim~eval-x/cancel", content=chunks)
    assert_problem(response, 413, "payload-too-large")


def test_bad_query_parameters_are_each_listed(api: httpx.Client) -> None:
    response = api.get(
        "/v1/backends/do-sim/jobs", params={"page_size": "lots", "status": "done", "pagesize": 3}
    )
    body = assert_problem(response, 400, "invalid-request")
    errors = {tuple(e["loc"]): e for e in body["errors"]}  # type: ignore[attr-defined]
    assert set(errors) == {("query", "page_size"), ("query", "status"), ("query", "pagesize")}
    assert "allowed: include, page_size, page_token, status" in errors[("query", "pagesize")]["msg"]


def test_unknown_backend(api: httpx.Client) -> None:
    body = assert_problem(api.get("/v1/backends/nemo-prod/jobs"), 404, "unknown-backend")
    assert body["backend"] == "nemo-prod"
    assert_problem(api.get("/v1/jobs/nemo-prod~eval-1"), 404, "unknown-backend")


@pytest.mark.parametrize(
    "job_id",
    [
        "no-separator",  # no backend part
        "do-sim~has space",  # outside the id alphabet
        "ls-sim~only-one-part",  # llama-stack ids have two parts
        "do-sim~bad!ZZescape",
    ],
)
def test_bad_job_id(api: httpx.Client, job_id: str) -> None:
    assert_problem(api.get(f"/v1/jobs/{job_id}"), 400, "invalid-request")


def test_job_not_found(api: httpx.Client) -> None:
    body = assert_problem(
        api.get("/v1/jobs/overmind-sim~00000000-0000-4000-8000-0000000000ff"), 404, "job-not-found"
    )
    assert body["backend"] == "overmind-sim" and body["vendor"] == "overmind"
    assert body["job_id"] == "overmind-sim~00000000-0000-4000-8000-0000000000ff"


def test_problem_type_uris_resolve_to_a_human_page(api: httpx.Client) -> None:
    type_uri = api.get("/v1/jobs/overmind-sim~00000000-0000-4000-8000-0000000000ff").json()["type"]
    page = api.get(type_uri)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Job not found" in page.text
    assert_problem(api.get("/problems/no-such-problem"), 404, "not-found")


def test_a_callers_request_id_is_echoed_in_header_and_problem(api: httpx.Client) -> None:
    response = api.get(
        "/v1/jobs/overmind-sim~00000000-0000-4000-8000-0000000000ff",
        headers={"X-Request-ID": "trace-42.a"},
    )
    assert response.headers["x-request-id"] == "trace-42.a"
    assert response.json()["request_id"] == "trace-42.a"
    ok = api.get("/healthz", headers={"X-Request-ID": "trace-43"})
    assert ok.headers["x-request-id"] == "trace-43"


def test_a_junk_request_id_is_replaced(api: httpx.Client) -> None:
    response = api.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32
    fresh = api.get("/healthz").headers["x-request-id"]
    assert fresh != response.headers["x-request-id"]
