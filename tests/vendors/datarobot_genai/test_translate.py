"""DataRobot job status pure translation: official/constructed bodies -> canonical objects."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.adapters import BackendContext
from gateway.contract import Operation
from gateway.errors import (
    GatewayError,
    InvalidRequest,
    JobNotFound,
    JobNotReady,
    UpstreamAuthFailed,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
)
from gateway.ids import JobRef
from gateway.schemas import FieldError, JobStatus, Link
from gateway.vendors.datarobot_genai.adapter import (
    STATUS_TABLE,
    DataRobotAdapter,
    completed_job,
    field_errors,
    job_result,
    parse_ref,
    status_path,
    to_job,
    to_listed,
    to_result,
)

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "dr-secret-api-key-123"
CTX = BackendContext(
    backend="dr-prod",
    vendor="datarobot-genai",
    base_url="https://app.datarobot.com",
    secrets=(KEY,),
)
GENAI_ID = "6f1c2a9e-3b7d-4e25-9a61-2c8f0d4b7e13"
CLASSIC_ID = "5f2b9a0c8e1d4a0012345678"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def genai_ref(status_id: str = GENAI_ID) -> JobRef:
    return JobRef("dr-prod", ("genai", status_id))


def classic_ref(status_id: str = CLASSIC_ID) -> JobRef:
    return JobRef("dr-prod", ("classic", status_id))


# -- status words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        ("INITIALIZED", JobStatus.QUEUED),
        ("RUNNING", JobStatus.RUNNING),
        ("COMPLETED", JobStatus.SUCCEEDED),
        ("ERROR", JobStatus.FAILED),
        ("ABORTED", JobStatus.CANCELLED),
        ("EXPIRED", JobStatus.EXPIRED),
        (" completed ", JobStatus.SUCCEEDED),
        ("NEW", JobStatus.UNKNOWN),  # an entity executionStatus, not a job status
        ("CANCELLING", JobStatus.UNKNOWN),
        (None, JobStatus.UNKNOWN),
    ],
)
def test_every_vendor_status_word_maps_exactly(word: str | None, canonical: JobStatus) -> None:
    assert STATUS_TABLE.lookup(word) is canonical
    job = to_job(CTX, {**fixture("genai_status.running.constructed.json"), "status": word})
    assert job.status is canonical
    assert job.vendor_status == word


# -- GenAI status objects -------------------------------------------------------------------------


def test_docs_example_becomes_a_queued_job() -> None:
    body = fixture("genai_status.docs-example.json")
    job = to_job(CTX, body)
    assert job.id == "dr-prod~genai~e900225c-0629-4e96-be6e-86a17a309645"
    assert job.vendor_job_id == "e900225c-0629-4e96-be6e-86a17a309645"
    assert (job.status, job.vendor_status, job.terminal) == (JobStatus.QUEUED, "INITIALIZED", False)
    assert job.created_at == datetime(2019, 8, 24, 14, 15, 22, tzinfo=UTC)
    assert job.name is None and job.message is None and job.error is None
    assert job.links == [
        Link(
            rel="self",
            href="https://app.datarobot.com/api/v2/genai/status/e900225c-0629-4e96-be6e-86a17a309645/",
            media_type="application/json",
        )
    ]
    assert job.raw == body


def test_error_status_carries_the_vendor_message_and_body() -> None:
    body = fixture("genai_status.error.constructed.json")
    job = to_job(CTX, body, genai_ref())
    assert (job.status, job.vendor_status, job.terminal) == (JobStatus.FAILED, "ERROR", True)
    assert job.message == "An unknown error occurred while computing the metric aggregation."
    assert job.error is not None
    assert job.error.slug == "upstream-error"
    assert job.error.detail == job.message
    assert job.error.vendor_error == body
    assert job.created_at == datetime(2026, 8, 1, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("genai_status.aborted.constructed.json", JobStatus.CANCELLED, "Job was aborted."),
        (
            "genai_status.expired.constructed.json",
            JobStatus.EXPIRED,
            "Job expired before it could be executed.",
        ),
    ],
)
def test_code_1_end_states_keep_their_reason_as_the_error(
    name: str, status: JobStatus, message: str
) -> None:
    job = to_job(CTX, fixture(name))
    assert job.status is status
    assert job.error is not None and job.error.detail == message


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("genai_status.running.constructed.json", JobStatus.RUNNING),
        ("genai_status.completed.constructed.json", JobStatus.SUCCEEDED),
    ],
)
def test_code_0_statuses_have_no_error(name: str, status: JobStatus) -> None:
    job = to_job(CTX, fixture(name))
    assert job.status is status
    assert job.error is None and job.message is None


def test_code_1_alone_reports_a_failure_even_on_a_running_job() -> None:
    body = {**fixture("genai_status.running.constructed.json"), "code": 1, "message": "boom"}
    job = to_job(CTX, body)
    assert job.status is JobStatus.RUNNING
    assert job.error is not None and job.error.detail == "boom"


def test_secret_in_a_failure_body_is_scrubbed() -> None:
    body = {**fixture("genai_status.error.constructed.json"), "message": f"bad key {KEY}"}
    job = to_job(CTX, body)
    assert job.error is not None
    assert KEY not in json.dumps(job.error.model_dump())


def test_payload_status_id_wins_and_hint_fills_in_when_missing() -> None:
    body = fixture("genai_status.completed.constructed.json")
    del body["statusId"]
    job = to_job(CTX, body, genai_ref("11111111-2222-4333-8444-555555555555"))
    assert job.vendor_job_id == "11111111-2222-4333-8444-555555555555"
    with pytest.raises(UpstreamInvalidResponse):
        to_job(CTX, body)


def test_description_is_the_job_name() -> None:
    job = to_job(CTX, {**fixture("classic_status.running.constructed.json"), "description": "x"})
    assert job.name == "x"


# -- classic status objects -----------------------------------------------------------------------


def test_classic_status_keeps_its_kind_in_the_job_id() -> None:
    body = fixture("classic_status.error.constructed.json")
    job = to_job(CTX, body, classic_ref())
    assert job.id == f"dr-prod~classic~{CLASSIC_ID}"
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.detail == "Dataset could not be processed: file is empty."
    assert job.links[0].href == f"https://app.datarobot.com/api/v2/status/{CLASSIC_ID}/"
    assert to_job(CTX, body, kind="classic").id == job.id


def test_classic_nonzero_code_other_than_1_is_an_error() -> None:
    body = {**fixture("classic_status.running.constructed.json"), "code": 7, "message": "odd"}
    assert to_job(CTX, body, classic_ref()).error is not None


# -- the bare-string 200 body (`anyOf [StatusResponse, string]`) ----------------------------------


def test_bare_string_status_word_is_read_as_the_status() -> None:
    job = to_job(CTX, "COMPLETED", genai_ref())
    assert (job.status, job.vendor_status, job.message) == (
        JobStatus.SUCCEEDED,
        "COMPLETED",
        None,
    )
    assert job.id == f"dr-prod~genai~{GENAI_ID}"


def test_bare_string_text_is_kept_as_the_message_of_an_unknown_job() -> None:
    job = to_job(CTX, "job is being processed", genai_ref())
    assert (job.status, job.vendor_status) == (JobStatus.UNKNOWN, None)
    assert job.message == "job is being processed"


def test_bare_string_without_a_hint_cannot_name_a_job() -> None:
    with pytest.raises(UpstreamInvalidResponse):
        to_job(CTX, "RUNNING")


@pytest.mark.parametrize("payload", [None, 3, [], ["RUNNING"], True])
def test_payloads_that_are_not_status_objects_are_invalid_responses(payload: Any) -> None:
    with pytest.raises(UpstreamInvalidResponse):
        to_job(CTX, payload, genai_ref())


# -- ids ------------------------------------------------------------------------------------------


def test_unknown_kind_is_an_invalid_request_naming_the_kinds() -> None:
    with pytest.raises(InvalidRequest, match=r"genai, classic"):
        parse_ref(JobRef("dr-prod", ("llm", GENAI_ID)))
    with pytest.raises(InvalidRequest):
        to_job(CTX, fixture("genai_status.docs-example.json"), kind="llm")


@pytest.mark.parametrize("status_id", [".", ".."])
def test_dot_segments_are_not_status_ids(status_id: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_ref(genai_ref(status_id))


def test_status_paths_escape_ids_and_honour_an_api_v2_base_url() -> None:
    assert status_path(CTX, "classic", "a/b c") == "/api/v2/status/a%2Fb%20c/"
    v2 = BackendContext(backend="b", vendor="datarobot-genai", base_url="https://h/api/v2/")
    assert status_path(v2, "genai", GENAI_ID) == f"/genai/status/{GENAI_ID}/"
    assert to_job(v2, fixture("genai_status.completed.constructed.json")).links[0].href == (
        f"https://h/api/v2/genai/status/{GENAI_ID}/"
    )


# -- 303 See Other and results --------------------------------------------------------------------


def test_303_is_a_succeeded_job_without_an_invented_status_word() -> None:
    job = completed_job(CTX, classic_ref(), "https://app.datarobot.com/api/v2/projects/p1/")
    assert (job.status, job.vendor_status, job.terminal) == (JobStatus.SUCCEEDED, None, True)
    assert Link(rel="result", href="https://app.datarobot.com/api/v2/projects/p1/") in job.links


@pytest.mark.parametrize(
    ("location", "href"),
    [
        ("/api/v2/projects/p1/", "https://app.datarobot.com/api/v2/projects/p1/"),
        ("../../projects/p1/", "https://app.datarobot.com/api/v2/projects/p1/"),
        (None, None),
        ("", None),
        ("javascript:alert(1)", None),
    ],
)
def test_303_locations_resolve_against_the_status_url(location: str | None, href: str) -> None:
    job = completed_job(CTX, classic_ref(), location)
    results = [link.href for link in job.links if link.rel == "result"]
    assert results == ([href] if href else [])


def test_result_of_a_303_job_is_its_finished_resource() -> None:
    job = completed_job(CTX, genai_ref(), "https://app.datarobot.com/api/v2/genai/chatPrompts/c/")
    result = job_result(CTX, job)
    assert result.status is JobStatus.SUCCEEDED
    assert result.job_id == f"dr-prod~genai~{GENAI_ID}"
    assert result.metrics == [] and result.rows == []
    assert result.artifacts == [
        Link(rel="result", href="https://app.datarobot.com/api/v2/genai/chatPrompts/c/")
    ]


def test_result_of_a_completed_status_body_has_no_location_to_offer() -> None:
    body = fixture("genai_status.completed.constructed.json")
    result = to_result(CTX, body, genai_ref())
    assert (result.status, result.artifacts, result.raw) == (JobStatus.SUCCEEDED, [], body)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("genai_status.docs-example.json", "queued"),
        ("genai_status.running.constructed.json", "running"),
        ("genai_status.error.constructed.json", "failed"),
        ("genai_status.aborted.constructed.json", "cancelled"),
        ("genai_status.expired.constructed.json", "expired"),
    ],
)
def test_result_before_success_is_not_ready(name: str, status: str) -> None:
    with pytest.raises(JobNotReady) as caught:
        to_result(CTX, fixture(name))
    assert caught.value.job_status == status


# -- the classic list -----------------------------------------------------------------------------


def test_docs_list_example_becomes_classic_jobs_and_a_next_cursor() -> None:
    listed = to_listed(CTX, fixture("status_list.docs-example.json"), offset=10)
    [job] = listed.jobs
    assert job.id == "dr-prod~classic~string"
    assert (job.status, job.vendor_status, job.name) == (JobStatus.CANCELLED, "ABORTED", "string")
    assert listed.next_cursor == {"offset": 11}
    assert listed.total is None  # `count` is this page's size, not a total


def test_last_page_has_no_cursor_and_total_count_is_used() -> None:
    body = {**fixture("status_list.docs-example.json"), "next": None, "totalCount": 12}
    listed = to_listed(CTX, body, offset=0)
    assert (listed.next_cursor, listed.total) == (None, 12)


def test_list_entries_without_an_id_are_skipped_alone() -> None:
    good = fixture("classic_status.running.constructed.json")
    body = {"count": 3, "data": [{"status": "RUNNING"}, good, 5], "next": None}
    assert [j.vendor_job_id for j in to_listed(CTX, body, 0).jobs] == [CLASSIC_ID]


def test_a_list_that_is_not_an_object_is_invalid() -> None:
    with pytest.raises(UpstreamInvalidResponse):
        to_listed(CTX, [fixture("classic_status.running.constructed.json")], 0)


# -- errors ---------------------------------------------------------------------------------------


def adapter() -> DataRobotAdapter:
    return DataRobotAdapter(CTX, httpx.AsyncClient(base_url=CTX.base_url))


def problem(
    status: int, body: Any, op: Operation = Operation.GET_JOB, headers: dict[str, str] | None = None
) -> GatewayError:
    content = json.dumps(body).encode() if body is not None else b""
    return adapter().to_problem(op, status, headers or {}, content)


def test_fastapi_422_becomes_invalid_request_with_field_errors() -> None:
    body = fixture("error_422.fastapi-shape.constructed.json")
    err = problem(422, body)
    assert isinstance(err, InvalidRequest)
    assert err.errors == [
        FieldError(
            loc=["path", "statusId"], msg="value is not a valid uuid", type="type_error.uuid"
        )
    ]
    assert err.vendor_error == body and err.vendor_status_code == 422
    assert err.detail == "datarobot-genai answered 422: path.statusId: value is not a valid uuid"


def test_classic_field_message_becomes_invalid_request_with_field_errors() -> None:
    body = {"message": {"offset": "is required", "limit": "is required"}}
    err = problem(400, body, Operation.LIST)
    assert isinstance(err, InvalidRequest)
    assert err.errors == [
        FieldError(loc=["offset"], msg="is required"),
        FieldError(loc=["limit"], msg="is required"),
    ]


def test_classic_text_message_is_the_detail() -> None:
    err = problem(400, {"message": "Invalid value for offset"}, Operation.LIST)
    assert isinstance(err, InvalidRequest)
    assert err.errors is None
    assert err.detail == "datarobot-genai answered 400: Invalid value for offset"


@pytest.mark.parametrize(
    "name", ["error_404.detail-shape.constructed.json", "error_404.message-shape.constructed.json"]
)
def test_404_of_either_shape_is_job_not_found(name: str) -> None:
    body = fixture(name)
    for op in (Operation.GET_JOB, Operation.GET_RESULT, Operation.CANCEL):
        err = problem(404, body, op)
        assert isinstance(err, JobNotFound)
        assert err.vendor_error == body
    assert type(problem(404, body, Operation.LIST)) is UpstreamError


@pytest.mark.parametrize("status", [413, 429])
def test_413_and_429_are_rate_limits_with_retry_after(status: int) -> None:
    err = problem(status, {"message": "Too Many Requests"}, headers={"Retry-After": "7"})
    assert isinstance(err, UpstreamRateLimited)
    assert (err.retry_after, err.retryable, err.vendor_status_code) == (7.0, True, status)


def test_401_is_upstream_auth_failed_and_never_shows_the_key() -> None:
    err = problem(401, {"message": f"Invalid token {KEY}"})
    assert isinstance(err, UpstreamAuthFailed)
    assert KEY not in err.detail and KEY not in json.dumps(err.vendor_error)


def test_error_name_is_kept_in_vendor_error() -> None:
    body = {"message": "Job already added", "errorName": "JobAlreadyAdded"}
    err = problem(409, body)
    assert type(err) is UpstreamError
    assert err.vendor_error == body


def test_server_error_without_body_is_upstream_error() -> None:
    err = problem(500, None)
    assert type(err) is UpstreamError and err.retryable is True


def test_field_errors_ignore_unusable_entries() -> None:
    body = {"detail": [{"loc": ["query", 1, True, None], "msg": "bad"}, {"loc": ["x"]}, "junk"]}
    assert field_errors(body) == [FieldError(loc=["query", 1], msg="bad")]
    assert field_errors({"message": {"a": {"b": "nested"}}}) == [
        FieldError(loc=["a"], msg='{"b": "nested"}')
    ]
    assert field_errors({"detail": "Not Found"}) == []


# -- auth -----------------------------------------------------------------------------------------


def test_auth_headers_follow_the_configured_scheme() -> None:
    assert DataRobotAdapter.auth_headers("k", "token") == {"Authorization": "Token k"}
    assert DataRobotAdapter.auth_headers("k", "bearer") == {"Authorization": "Bearer k"}
    assert DataRobotAdapter.auth_schemes[0] == "token"  # the official client's default
    with pytest.raises(ValueError, match="token, bearer"):
        DataRobotAdapter.auth_headers("k", "basic")


# -- fuzzing --------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
status_objects = st.fixed_dictionaries(
    {},
    optional={
        "statusId": st.text(max_size=40) | st.integers() | st.none(),
        "status": st.sampled_from(["RUNNING", "ERROR", "weird", ""]) | json_values,
        "code": st.integers() | st.text(max_size=3) | st.none(),
        "created": st.text(max_size=30) | st.none(),
        "message": json_values,
        "description": json_values,
    },
)
hints = st.none() | st.builds(
    lambda kind, sid: JobRef("dr-prod", (kind, sid)),
    st.sampled_from(["genai", "classic"]),
    st.text(min_size=1, max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(payload=json_values | status_objects, hint=hints)
def test_to_job_never_fails_with_anything_but_a_gateway_error(payload: Any, hint: Any) -> None:
    try:
        job = to_job(CTX, payload, hint)
    except GatewayError:
        return
    assert job.backend == "dr-prod" and job.vendor_job_id
    if isinstance(payload, dict):
        assert job.raw == payload


@settings(max_examples=200, deadline=None)
@given(payload=json_values | st.fixed_dictionaries({"data": st.lists(status_objects)}))
# A digit str.isdigit() accepts and int() refuses, once found in a status code (CI run).
@example(payload={"data": [{"statusId": "s1", "code": "¹"}]})
def test_to_listed_and_error_readers_accept_any_json(payload: Any) -> None:
    with contextlib.suppress(GatewayError):
        to_listed(CTX, payload, 0)
    field_errors(payload)
    DataRobotAdapter.error_message(payload)


# -- redirects (adapter I/O over a mock transport) ------------------------------------------------


def mock_adapter(answers: list[httpx.Response], seen: list[httpx.Request]) -> DataRobotAdapter:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[len(seen) - 1]

    transport = httpx.MockTransport(handler)
    return DataRobotAdapter(CTX, httpx.AsyncClient(transport=transport, base_url=CTX.base_url))


async def test_307_to_another_host_is_not_followed_with_our_credential() -> None:
    seen: list[httpx.Request] = []
    moved = httpx.Response(307, headers={"Location": "https://elsewhere.example/api/v2/status/x/"})
    adapter = mock_adapter([moved], seen)
    with pytest.raises(UpstreamInvalidResponse, match="not followed"):
        await adapter.get_job(genai_ref())
    assert len(seen) == 1


async def test_307_relative_location_is_followed_once_then_303_resolves() -> None:
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(307, headers={"Location": f"/api/v2/status/{CLASSIC_ID}/"}),
        httpx.Response(303, headers={"Location": "../../projects/p1/"}),
    ]
    job = await mock_adapter(answers, seen).get_job(genai_ref())
    assert [str(r.url) for r in seen] == [
        f"https://app.datarobot.com/api/v2/genai/status/{GENAI_ID}/",
        f"https://app.datarobot.com/api/v2/status/{CLASSIC_ID}/",
    ]
    assert job.status is JobStatus.SUCCEEDED
    assert Link(rel="result", href="https://app.datarobot.com/api/v2/projects/p1/") in job.links


async def test_a_second_307_is_not_followed() -> None:
    seen: list[httpx.Request] = []
    moved = httpx.Response(307, headers={"Location": f"/api/v2/status/{CLASSIC_ID}/"})
    with pytest.raises(UpstreamError):
        await mock_adapter([moved, moved], seen).get_job(genai_ref())
    assert len(seen) == 2


async def test_303_with_a_non_json_body_is_still_done() -> None:
    answer = httpx.Response(
        303, headers={"Location": "/api/v2/projects/p1/"}, content=b"<p>Redirecting...</p>"
    )
    job = await mock_adapter([answer], []).get_job(classic_ref())
    assert job.status is JobStatus.SUCCEEDED


async def test_200_with_a_non_json_body_is_an_invalid_response() -> None:
    answer = httpx.Response(200, content=b"<html>502 Bad Gateway</html>")
    with pytest.raises(UpstreamInvalidResponse):
        await mock_adapter([answer], []).get_job(classic_ref())
