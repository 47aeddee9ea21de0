"""Write-ahead submissions: an acknowledged job is always recorded; keys survive a restart."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.ledger import IdempotencyKeyTaken, Ledger
from gateway.schemas import Problem
from gateway.schemas.status import JobStatus
from tests.ledger.conftest import OpenLedger, make_job

TIMEOUT = Problem(type="/problems/upstream-timeout", title="Upstream timeout", status=504)
REFUSED = Problem(
    type="/problems/invalid-request", title="Invalid request", status=400, vendor_status_code=422
)


async def _begin(ledger: Ledger, key: str | None = "key-1", **changes: Any) -> str:
    fields: dict[str, Any] = {
        "backend": "ls-sim",
        "vendor": "llama-stack",
        "api_version": None,
        "caller": "ci",
        "idempotency_key": key,
        "request_hash": "h1",
        "submission": {"benchmark": "mmlu", "model": "m"},
    }
    fields.update(changes)
    return await ledger.begin_submission(**fields)


async def test_a_settled_submission_records_its_jobs_with_who_submitted_them(
    ledger: Ledger,
) -> None:
    intent = await _begin(ledger)
    pending = await ledger.find_submission("ci", "key-1")
    assert pending is not None and (pending.state, pending.job_ids) == ("pending", [])
    await ledger.settle_submission(intent, [make_job(1, JobStatus.QUEUED)])
    settled = await ledger.find_submission("ci", "key-1")
    assert settled is not None
    assert (settled.state, settled.request_hash, settled.job_ids) == (
        "settled",
        "h1",
        ["ls-sim~bench~1"],
    )
    record = await ledger.get("ls-sim~bench~1")
    assert record is not None
    assert (record.caller, record.idempotency_key, record.submission) == (
        "ci",
        "key-1",
        {"benchmark": "mmlu", "model": "m"},
    )
    assert [c.observed_by for c in await ledger.history("ls-sim~bench~1")] == ["submit"]
    ledger.observe(make_job(1, JobStatus.QUEUED), "read")  # what submit saw: nothing new
    await ledger.flush()
    assert len(await ledger.history("ls-sim~bench~1")) == 1


async def test_refused_and_unknown_outcomes_are_kept_apart(ledger: Ledger) -> None:
    refused = await _begin(ledger, "k-refused")
    await ledger.abandon_submission(refused, REFUSED)
    unknown = await _begin(ledger, "k-unknown")
    await ledger.submission_unknown(unknown, TIMEOUT)
    found = await ledger.find_submission("ci", "k-refused")
    assert found is not None and found.state == "refused" and found.problem == REFUSED
    found = await ledger.find_submission("ci", "k-unknown")
    assert found is not None and found.state == "unknown" and found.problem == TIMEOUT
    assert found.job_ids == []


async def test_a_refused_key_is_free_for_a_retry_but_a_settled_one_is_not(ledger: Ledger) -> None:
    refused = await _begin(ledger, "k-again")
    await ledger.abandon_submission(refused, REFUSED)
    retry = await _begin(ledger, "k-again")  # the vendor created nothing: the key is free
    assert retry != refused
    await ledger.settle_submission(retry, [make_job(7)])
    found = await ledger.find_submission("ci", "k-again")
    assert found is not None and (found.id, found.state) == (retry, "settled")
    with pytest.raises(IdempotencyKeyTaken):
        await _begin(ledger, "k-again")


async def test_a_crash_between_intent_and_settle_leaves_an_unsettled_intent(
    ledger: Ledger, open_ledger: OpenLedger
) -> None:
    crashed = await _begin(ledger, None)  # the process died before the vendor answered
    timed_out = await _begin(ledger, "k2")
    await ledger.submission_unknown(timed_out, TIMEOUT)
    done = await _begin(ledger, "k3")
    await ledger.settle_submission(done, [make_job(3)])
    replica = await open_ledger()
    open_ones = await replica.unsettled_submissions(older_than_seconds=0)
    assert [(s.id, s.state) for s in open_ones] == [(crashed, "pending"), (timed_out, "unknown")]
    assert open_ones[0].submission == {"benchmark": "mmlu", "model": "m"}
    assert await replica.unsettled_submissions(older_than_seconds=3600) == []
    # The refresher found the job at the vendor: the unknown outcome settles after all.
    await replica.settle_submission(timed_out, [make_job(2)])
    assert [s.id for s in await replica.unsettled_submissions(0)] == [crashed]
    assert await replica.get("ls-sim~bench~2") is not None


async def test_an_idempotency_key_survives_a_restart(open_ledger: OpenLedger) -> None:
    first = await open_ledger()
    intent = await _begin(first)
    await first.settle_submission(intent, [make_job(1)])
    await first.aclose()
    again = await open_ledger()
    found = await again.find_submission("ci", "key-1")
    assert found is not None and found.job_ids == ["ls-sim~bench~1"]
    assert await again.find_submission("other-caller", "key-1") is None  # keys are per tenant


async def test_a_key_already_recorded_cannot_be_claimed_twice(ledger: Ledger) -> None:
    await _begin(ledger)
    with pytest.raises(IdempotencyKeyTaken):
        await _begin(ledger, request_hash="h2")
    await _begin(ledger, caller="someone-else")  # another tenant may use the same key
    await _begin(ledger, None)
    await _begin(ledger, None)  # any number of submissions without a key


async def test_a_caller_without_a_key_name_is_one_tenant(ledger: Ledger) -> None:
    await _begin(ledger, caller=None)
    found = await ledger.find_submission(None, "key-1")
    assert found is not None and found.caller is None
