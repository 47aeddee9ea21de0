"""A caller's mistake on submit is a 400 invalid-request naming the field (issue 12, item 3),
from each vendor's error table per operation, and every refusal says what to send (issue 11,
item 10)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gateway.adapters.base import Adapter, BackendContext, says_what_to_send
from gateway.contract import Operation
from gateway.errors import InvalidRequest, JobNotFound, UpstreamError
from gateway.schemas import SubmitRequest
from gateway.vendors.datarobot_genai.adapter import DataRobotAdapter
from gateway.vendors.digitalocean_genai.adapter import DigitalOceanAdapter
from gateway.vendors.llama_stack.adapter import LlamaStackAdapter
from gateway.vendors.nemo_evaluator.v1 import NemoV1Adapter, NemoV2Adapter
from gateway.vendors.overmind.adapter import OvermindAdapter

DO_404 = {"id": "not_found", "message": "The resource you requested could not be found."}
LS_MODEL = {
    "error": {
        "message": "Model 'no-such-model' not found. Use 'client.models.list()' to list"
        " available Models."
    }
}
LS_BENCHMARK = {"error": {"message": "Benchmark 'nope' not found"}}


def adapter(cls: type[Adapter], vendor: str) -> Adapter:
    ctx = BackendContext(backend="b", vendor=vendor, base_url="http://vendor.test")
    return cls(ctx, httpx.AsyncClient(base_url=ctx.base_url))


# adapter, vendor, status, body, the canonical fields named
CREATE_ERRORS: list[tuple[type[Adapter], str, int, Any, list[list[str]]]] = [
    (LlamaStackAdapter, "llama-stack", 404, LS_MODEL, [["body", "targets", "0", "model"]]),
    (LlamaStackAdapter, "llama-stack", 400, LS_BENCHMARK, [["body", "evaluation"]]),
    (LlamaStackAdapter, "llama-stack", 404, LS_BENCHMARK, [["body", "evaluation"]]),
    (NemoV1Adapter, "nemo-evaluator", 404, {"detail": "Not found"}, [["body", "evaluation"]]),
    (NemoV2Adapter, "nemo-evaluator", 404, {"detail": "Not found"}, [["body", "evaluation"]]),
    (
        DigitalOceanAdapter,
        "digitalocean-genai",
        404,
        DO_404,
        [["body", "evaluation"], ["body", "targets"]],
    ),
    (
        DataRobotAdapter,
        "datarobot-genai",
        404,
        {"detail": "Not found"},
        [["body", "evaluation"], ["body", "targets"]],
    ),
]


@pytest.mark.parametrize(("cls", "vendor", "status", "body", "fields"), CREATE_ERRORS)
def test_a_create_refused_for_what_the_caller_sent_is_invalid_request(
    cls: type[Adapter], vendor: str, status: int, body: Any, fields: list[list[str]]
) -> None:
    problem = adapter(cls, vendor).to_problem(
        Operation.SUBMIT, status, {}, json.dumps(body).encode()
    )
    assert isinstance(problem, InvalidRequest)  # a 400, not a 502
    assert problem.vendor_status_code == status
    assert problem.errors is not None
    assert [e.loc for e in problem.errors] == fields
    assert all(says_what_to_send(e.msg) for e in problem.errors)
    assert "send as 'evaluation'" in problem.detail or "send as 'targets" in problem.detail


@pytest.mark.parametrize(("cls", "vendor", "status", "body", "fields"), CREATE_ERRORS)
def test_the_same_answer_to_a_job_read_is_not_the_callers_submission(
    cls: type[Adapter], vendor: str, status: int, body: Any, fields: list[list[str]]
) -> None:
    # Per operation: a 404 on a job read is that job missing (or, for Llama Stack's
    # ResourceNotFoundError texts, no rule of the submit table applies).
    problem = adapter(cls, vendor).to_problem(
        Operation.GET_JOB, status, {}, json.dumps(body).encode()
    )
    assert not (isinstance(problem, InvalidRequest) and problem.errors)
    assert isinstance(problem, JobNotFound | InvalidRequest | UpstreamError)


def test_overmind_field_errors_are_named_in_canonical_terms() -> None:
    body = {"agent": ['Invalid pk "x" - object does not exist.']}
    problem = adapter(OvermindAdapter, "overmind").to_problem(
        Operation.SUBMIT, 400, {}, json.dumps(body).encode()
    )
    assert isinstance(problem, InvalidRequest) and problem.errors


# A bad submission per vendor: every refused field is named and its message says what to send.
BAD_SUBMISSIONS: list[tuple[type[Adapter], str, dict[str, Any]]] = [
    (
        LlamaStackAdapter,
        "llama-stack",
        {
            "evaluation": "mmlu",
            "targets": [{"type": "agent", "agent": "a"}],
            "name": "x",
            "top_p": 0.5,
        },
    ),
    (
        NemoV1Adapter,
        "nemo-evaluator",
        {
            "evaluation": "mmlu",
            "targets": [{"type": "agent", "agent": "a"}],
            "name": "x",
            "temperature": 0.1,
        },
    ),
    (
        NemoV2Adapter,
        "nemo-evaluator",
        {
            "evaluation": "mmlu",
            "targets": [{"model": "m"}],
            "max_tokens": 5,
            "vendor_options": {"nope": 1},
        },
    ),
    (
        OvermindAdapter,
        "overmind",
        {
            "evaluation": "Prompt Tuning",
            "targets": [{"type": "agent", "agent": "not-a-uuid"}],
            "num_samples": 3,
        },
    ),
    (
        DigitalOceanAdapter,
        "digitalocean-genai",
        {
            "evaluation": "tc",
            "targets": [{"model": "gpt"}],
            "temperature": 0.2,
            "vendor_options": {"seed": 1},
        },
    ),
    (
        DataRobotAdapter,
        "datarobot-genai",
        {"evaluation": "cfg", "targets": [{"type": "agent", "agent": "a"}]},
    ),
]


@pytest.mark.parametrize(("cls", "vendor", "body"), BAD_SUBMISSIONS)
async def test_every_refusal_says_what_to_send(
    cls: type[Adapter], vendor: str, body: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await adapter(cls, vendor).submit(SubmitRequest.model_validate(body))
    assert caught.value.errors
    for error in caught.value.errors:
        assert says_what_to_send(error.msg), error.msg
