"""Idempotent submission: one key, one vendor job — through retries, timeouts and replicas."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from gateway.core.submission import IdempotencyStore, Submitter
from gateway.errors import InvalidRequest, UpstreamError, UpstreamTimeout
from gateway.resilience import RedisLink, RedisSettings
from gateway.schemas import Job, JobStatus, Submission, SubmitRequest
from tests.resilience.conftest import RedisServer
from tests.support.servers import free_port

REQUEST = SubmitRequest(evaluation="mmlu", targets=[{"model": "llama-3"}])  # type: ignore[list-item]
OTHER = SubmitRequest(evaluation="gsm8k", targets=[{"model": "llama-3"}])  # type: ignore[list-item]


class FakeVendor:
    """Creates one job per call, optionally slowly or failing."""

    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.calls = 0
        self.delay = delay
        self.error = error

    async def submit(self) -> Submission:
        self.calls += 1
        number = self.calls
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        job = Job(
            id=f"b~job-{number}",
            backend="b",
            vendor="overmind",
            vendor_job_id=f"job-{number}",
            status=JobStatus.QUEUED,
            vendor_status="pending",
        )
        return Submission(backend="b", requested="evals", vendor="overmind", jobs=[job])


async def submit(
    submitter: Submitter, vendor: FakeVendor, key: str | None, request: SubmitRequest = REQUEST
) -> Submission:
    return await submitter.submit(key, "tenant", "evals", request, vendor.submit, deadline=5.0)


async def test_without_a_key_every_submission_reaches_the_vendor() -> None:
    vendor, submitter = FakeVendor(), Submitter(IdempotencyStore())
    await submit(submitter, vendor, None)
    await submit(submitter, vendor, None)
    assert vendor.calls == 2


async def test_the_same_key_and_body_returns_the_same_jobs() -> None:
    vendor, submitter = FakeVendor(), Submitter(IdempotencyStore())
    first = await submit(submitter, vendor, "k1")
    again = await submit(submitter, vendor, "k1")
    assert vendor.calls == 1
    assert [j.id for j in again.jobs] == [j.id for j in first.jobs]
    assert (first.replayed, again.replayed) == (False, True)
    assert again.idempotency_key == "k1"


async def test_the_same_key_with_another_body_is_refused() -> None:
    vendor, submitter = FakeVendor(), Submitter(IdempotencyStore())
    await submit(submitter, vendor, "k1")
    with pytest.raises(InvalidRequest, match="different request"):
        await submit(submitter, vendor, "k1", OTHER)
    assert vendor.calls == 1


async def test_concurrent_duplicates_create_one_vendor_job() -> None:
    vendor, submitter = FakeVendor(delay=0.05), Submitter(IdempotencyStore())
    results = await asyncio.gather(*(submit(submitter, vendor, "k1") for _ in range(20)))
    assert vendor.calls == 1
    assert len({r.jobs[0].id for r in results}) == 1


async def test_a_caller_timeout_does_not_abandon_the_vendor_call() -> None:
    vendor, submitter = FakeVendor(delay=0.2), Submitter(IdempotencyStore())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await submit(submitter, vendor, "k1")
    retried = await submit(submitter, vendor, "k1")  # the caller retries with the same key
    assert vendor.calls == 1
    assert retried.jobs[0].id == "b~job-1"


async def test_a_vendor_refusal_releases_the_key_for_a_retry() -> None:
    refused = UpstreamError("503", vendor_status_code=503)
    vendor, submitter = FakeVendor(error=refused), Submitter(IdempotencyStore())
    with pytest.raises(UpstreamError):
        await submit(submitter, vendor, "k1")
    vendor.error = None
    assert (await submit(submitter, vendor, "k1")).jobs[0].id == "b~job-2"


async def test_an_unknown_outcome_is_never_submitted_twice() -> None:
    vendor, submitter = (
        FakeVendor(error=UpstreamTimeout("no answer")),
        Submitter(IdempotencyStore()),
    )
    with pytest.raises(UpstreamTimeout):
        await submit(submitter, vendor, "k1")
    vendor.error = None
    with pytest.raises(UpstreamTimeout, match="may or may not have reached"):
        await submit(submitter, vendor, "k1")
    assert vendor.calls == 1


@pytest.fixture
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed here (CI installs the Debian package)")
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(binary, free_port(), workdir)
        server.start()
        try:
            yield server.url
        finally:
            server.kill()


async def test_two_replicas_sharing_redis_create_one_vendor_job(redis_url: str) -> None:
    settings = RedisSettings(url=redis_url)  # type: ignore[arg-type]
    links = [RedisLink(settings), RedisLink(settings)]
    replicas = [Submitter(IdempotencyStore(link)) for link in links]
    vendor = FakeVendor(delay=0.1)
    try:
        results = await asyncio.gather(
            *(submit(replicas[i % 2], vendor, "shared-key") for i in range(10))
        )
    finally:
        for link in links:
            await link.aclose()
    assert vendor.calls == 1
    assert len({r.jobs[0].id for r in results}) == 1
