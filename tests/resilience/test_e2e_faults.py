"""Every simulator fault, on every vendor, through the whole gateway: the outcome, the attempt
count, the deadline, the status. The fault matrix runs twice: over the in-process `sim://`
simulators (the httpx engine) and over real loopback sockets with the aiohttp engine real
vendors get (gateway.transport), so both engines are held to the same expectations.

For each case a user relies on four things: the call ends in a retried success or the right
typed problem (never an internal error); `attempts` says how many vendor calls it cost (and
the simulator counted exactly that many); no call outlives its deadline; and a job is never
reported with a status other than the simulator's own (`/_sim/jobs`) mapped through the
adapter's status table.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from gateway import AsyncGateway
from gateway.errors import (
    GatewayError,
    UpstreamError,
    UpstreamInvalidResponse,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from gateway.resilience import CacheStatus
from gateway.schemas import Job, JobStatus
from gateway.simulators import UNDOCUMENTED_STATUS, Fault, SimState, Stage, create_app, vendor_sim
from tests.support.servers import serve_in_thread

DEADLINE = 1.0  # retry.deadline of every backend here (roomy: CI machines are busy)
SLACK = 0.5  # scheduling slack when checking that a call ended by its deadline
UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"  # a job id no simulator holds
STALL = 0.1  # how long a connection reset after an error answer stalls (Llama Stack: 4.4 s)
RETRY = {"deadline": DEADLINE, "backoff_initial": 0.01, "backoff_max": 0.05}

# backend name -> (vendor, api_version, a vendor status word of a running job, new-job data)
BACKENDS: dict[str, tuple[str, str | None, str, dict[str, Any]]] = {
    "ls": ("llama-stack", None, "in_progress", {}),
    "nemo-v1": ("nemo-evaluator", "v1", "running", {}),
    "nemo-v2": ("nemo-evaluator", "v2", "active", {"api": "v2"}),
    "overmind": ("overmind", None, "running", {}),
    "do": ("digitalocean-genai", None, "EVALUATION_RUN_RUNNING_DATASET", {}),
    "datarobot": ("datarobot-genai", None, "RUNNING", {}),
}


def backend_config(name: str, base_url: str | None = None, **sections: Any) -> dict[str, Any]:
    vendor, api_version, _, _ = BACKENDS[name]
    config: dict[str, Any] = {"vendor": vendor, "base_url": base_url or f"sim://{vendor}"}
    if api_version:
        config["api_version"] = api_version
    config["retry"] = {**RETRY, **sections.pop("retry", {})}
    return {**config, **sections}


class Lab:
    """One backend on its in-process simulator, seen from the outside: jobs, faults, counts."""

    def __init__(self, gw: AsyncGateway, name: str, state: SimState | None = None) -> None:
        self.gw = gw
        self.name = name
        self.vendor, _, self.running_word, self.job_data = BACKENDS[name]
        self.state = state or gw.simulator(name)
        self.adapter = gw.backend(name).adapter

    def new_job(self, word: str | None = None) -> tuple[str, str]:
        """(gateway id, vendor id) of a new job that stays `word` (default: running)."""
        sim = vendor_sim(self.vendor)
        job = sim.new_job(self.state, [Stage(word or self.running_word)], dict(self.job_data))
        return self.gw.job_id(self.name, *sim.id_parts(job)), job.id

    @staticmethod
    def unknown_job(job_id: str) -> str:
        """A well-formed id of a job the vendor does not have."""
        return "~".join([*job_id.split("~")[:-1], UNKNOWN_UUID])

    def arm(self, kind: str, **fields: Any) -> None:
        self.state.arm(Fault(kind, **fields))

    def vendor_calls(self) -> int:
        return sum(self.state.requests.values())

    async def sim_status(self, vendor_id: str) -> str:
        """The simulator's own word for the job, from its control API."""
        answer = await self.gw.backend(self.name).http.request("GET", "/_sim/jobs")
        listed = json.loads(answer.content)["jobs"]
        (job,) = [j for j in listed if j["id"] == vendor_id]
        word: str = job["vendor_status"]
        return word

    async def check_status(self, job: Job, vendor_id: str) -> None:
        """The job's status is the simulator's word through the adapter's table."""
        table = self.adapter.status_table
        word = await self.sim_status(vendor_id)
        assert job.status is table.lookup(job.vendor_status)
        if job.vendor_status == UNDOCUMENTED_STATUS:  # an undocumented word is never guessed
            assert job.status is JobStatus.UNKNOWN
        else:
            assert job.vendor_status == word
            assert job.status is table.lookup(word)


Served = tuple[str, SimState]  # a simulator on loopback: its base URL and its state


@asynccontextmanager
async def lab(name: str, served: Served | None = None, **sections: Any) -> AsyncIterator[Lab]:
    """The backend on its in-process simulator, or (`served`) on one listening on loopback,
    reached through the aiohttp engine."""
    if served is None:
        async with AsyncGateway({"backends": {name: backend_config(name, **sections)}}) as gw:
            yield Lab(gw, name)
        return
    url, state = served
    state.clear_faults()
    config = backend_config(name, url, http_client="aiohttp", **sections)
    async with AsyncGateway({"backends": {name: config}}) as gw:
        yield Lab(gw, name, state)


@pytest.fixture(scope="module")
def loopback() -> Iterator[dict[str, Served]]:
    """One simulator per vendor listening on 127.0.0.1 (started once: it takes a moment)."""
    with ExitStack() as stack:
        served: dict[str, Served] = {}
        for name, (vendor, *_) in BACKENDS.items():
            app = create_app(vendor)
            served[name] = (stack.enter_context(serve_in_thread(app)), app.state.sim)
        yield served


@dataclass(frozen=True)
class Expect:
    attempts: int
    problem: type[GatewayError] | None = None  # None: the job is answered
    retry_after: tuple[float, float] | None = None  # bounds of the problem's retry_after
    min_seconds: float = 0.0  # it had to wait (a stall, a slow answer, a deadline)
    unknown: bool = False  # the vendor said a word nobody documented


def by_vendor(default: Expect, **special: Expect) -> Callable[[str], Expect]:
    return lambda name: special.get(name.replace("-", "_"), default)


RESET_SAME_CONNECTION = Expect(2, min_seconds=STALL)  # stalled, reset, retried
# name -> (fault, expected outcome per backend)
CASES: dict[str, tuple[dict[str, Any], Callable[[str], Expect]]] = {
    "503 once": ({"kind": "server_error", "status": 503}, by_vendor(Expect(2))),
    "502 once": ({"kind": "server_error", "status": 502}, by_vendor(Expect(2))),
    "504 once": ({"kind": "server_error", "status": 504}, by_vendor(Expect(2))),
    "408 once": ({"kind": "server_error", "status": 408}, by_vendor(Expect(2))),
    "500 is not retried": (
        {"kind": "server_error", "status": 500},
        by_vendor(Expect(1, UpstreamError)),
    ),
    "503 throughout": (
        {"kind": "server_error", "status": 503, "remaining": 10},
        by_vendor(Expect(3, UpstreamUnavailable)),
    ),
    "connection dropped once": ({"kind": "drop_connection"}, by_vendor(Expect(2))),
    "connection dropped throughout": (
        {"kind": "drop_connection", "remaining": 10},
        by_vendor(Expect(3, UpstreamUnavailable)),
    ),
    "malformed body once": ({"kind": "malformed_body"}, by_vendor(Expect(2))),
    "malformed body throughout": (
        {"kind": "malformed_body", "remaining": 10},
        by_vendor(Expect(3, UpstreamInvalidResponse)),
    ),
    "truncated body once": ({"kind": "truncated_body"}, by_vendor(Expect(2))),
    "slow within the deadline": (
        {"kind": "delay", "seconds": 0.15},
        by_vendor(Expect(1, min_seconds=0.15)),
    ),
    "slower than the deadline": (
        {"kind": "delay", "seconds": 5.0},
        by_vendor(Expect(1, UpstreamTimeout, min_seconds=DEADLINE - 0.05)),
    ),
    # Without a hint the gateway backs off and retries; DigitalOcean's 429 always says when
    # its hourly quota resets (ratelimit-reset, here about an hour away): passed on at once.
    "rate limited without a hint": (
        {"kind": "rate_limit", "retry_after": None},
        by_vendor(Expect(2), do=Expect(1, UpstreamRateLimited, retry_after=(3000, 3600))),
    ),
    # A 1 s Retry-After cannot fit in the call's deadline: the caller gets the 429 and the hint at
    # once. Llama Stack sends no hint at all (its quota middleware has none): backoff.
    "rate limited for longer than the deadline allows": (
        {"kind": "rate_limit", "retry_after": 1.0},
        by_vendor(Expect(1, UpstreamRateLimited, retry_after=(1, 1)), ls=Expect(2)),
    ),
    "undocumented status word": (
        {"kind": "undocumented_status"},
        by_vendor(Expect(1, unknown=True)),
    ),
    # Llama Stack's keep-alive quirk: the gateway drops the connection after an error answer,
    # so it never meets the stall; elsewhere the reset is retried on a fresh connection.
    "reset after an error answer": (
        {"kind": "reset_after_error", "seconds": STALL},
        by_vendor(RESET_SAME_CONNECTION, ls=Expect(1)),
    ),
    "reset after an error answer, stalling past the deadline": (
        {"kind": "reset_after_error", "seconds": 5.0},
        by_vendor(Expect(1, UpstreamTimeout, min_seconds=DEADLINE - 0.05), ls=Expect(1)),
    ),
}


@pytest.mark.parametrize("engine", ["in-process", "aiohttp"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", list(BACKENDS))
async def test_fault(name: str, case: str, engine: str, loopback: dict[str, Served]) -> None:
    fault, expectation = CASES[case]
    expect = expectation(name)
    async with lab(name, loopback[name] if engine == "aiohttp" else None) as lb:
        job_id, vendor_id = lb.new_job()
        fault = dict(fault)
        kind = fault.pop("kind")
        if kind == "reset_after_error":
            lb.arm(kind, **fault)
            with pytest.raises(GatewayError) as refused:  # an error answer on the connection
                await lb.gw.get_job(lb.unknown_job(job_id))
            assert refused.value.vendor_status_code is not None
            assert refused.value.vendor_status_code >= 400
        else:
            lb.arm(kind, **fault)
        calls_before = lb.vendor_calls()
        began = time.perf_counter()
        try:
            outcome = await lb.gw.fetch_job(job_id)
        except GatewayError as exc:
            error: GatewayError | None = exc
        else:
            error = None
        elapsed = time.perf_counter() - began
        calls = lb.vendor_calls() - calls_before

        assert elapsed <= DEADLINE + SLACK, f"took {elapsed:.2f}s"
        assert elapsed >= expect.min_seconds, f"took {elapsed:.2f}s"
        if expect.problem is None:
            assert error is None, f"expected the job, got {error!r} (attempts {error.attempts})"
            assert outcome.attempts == expect.attempts
            assert calls == expect.attempts
            job = outcome.value
            await lb.check_status(job, vendor_id)
            assert job.status is (JobStatus.UNKNOWN if expect.unknown else JobStatus.RUNNING)
            assert not job.stale
        else:
            assert type(error) is expect.problem, f"expected {expect.problem}, got {error!r}"
            assert error.attempts == expect.attempts
            assert calls == expect.attempts
            problem = error.problem()
            assert problem.attempts == expect.attempts
            assert problem.status != 500  # a typed problem, never an internal error
            assert problem.backend == name and problem.job_id == job_id
            assert problem.job_status is None  # a failed read says nothing about the job
            if expect.retry_after is not None:
                low, high = expect.retry_after
                assert error.retry_after is not None and low <= error.retry_after <= high
        # Once the fault has passed, the gateway answers the simulator's truth again.
        lb.state.clear_faults()
        again = await lb.gw.fetch_job(job_id, fresh=True)
        await lb.check_status(again.value, vendor_id)
        assert again.value.status is JobStatus.RUNNING


# -- a job's whole lifecycle under faults ------------------------------------------------------

# backend name -> its vendor's words for queued, running and succeeded
LIFECYCLES: dict[str, tuple[str, str, str]] = {
    "ls": ("scheduled", "in_progress", "completed"),
    "nemo-v1": ("pending", "running", "completed"),
    "nemo-v2": ("pending", "active", "completed"),
    "overmind": ("pending", "running", "completed"),
    "do": ("EVALUATION_RUN_QUEUED", "EVALUATION_RUN_RUNNING_DATASET", "EVALUATION_RUN_SUCCESSFUL"),
    "datarobot": ("INITIALIZED", "RUNNING", "COMPLETED"),
}
TRANSIENT: list[dict[str, Any]] = [
    {"kind": "server_error", "status": 503},
    {"kind": "drop_connection"},
    {"kind": "malformed_body"},
    {"kind": "truncated_body"},
    {"kind": "rate_limit", "retry_after": 0},
    {"kind": "undocumented_status"},
]


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_no_stage_of_a_job_is_ever_mislabelled_under_faults(name: str) -> None:
    queued, running, succeeded = LIFECYCLES[name]
    # Every call meets a fault here: a budget this test cannot spend (the budget is tested
    # below), so each fault is retried and every answer is fresh.
    async with lab(name, retry={"budget_min_retries": 100}) as lb:
        lb.state.clock.freeze()  # the job moves only when the test says so
        sim = vendor_sim(lb.vendor)
        job = sim.new_job(
            lb.state, [Stage(queued, 10), Stage(running, 10), Stage(succeeded)], dict(lb.job_data)
        )
        job_id = lb.gw.job_id(name, *sim.id_parts(job))
        seen = []
        for stage, expected in enumerate(
            (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED)
        ):
            if stage:
                lb.state.clock.advance(10)
            for fault in TRANSIENT:
                if name == "do" and fault["kind"] == "rate_limit":
                    continue  # DigitalOcean's shortest Retry-After is 1 s: tested on its own
                fields = dict(fault)
                lb.arm(str(fields.pop("kind")), **fields)
                outcome = await lb.gw.fetch_job(job_id, fresh=True)
                await lb.check_status(outcome.value, job.id)
                assert not outcome.value.stale
                if outcome.value.vendor_status != UNDOCUMENTED_STATUS:
                    assert outcome.value.status is expected
                seen.append(outcome.value.status)
        # The finished job is immutable: later polls are served from cache, still right.
        await lb.gw.fetch_job(job_id, fresh=True)
        cached = await lb.gw.fetch_job(job_id)
        assert cached.cache is CacheStatus.HIT and cached.value.status is JobStatus.SUCCEEDED
    assert set(seen) == {
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.SUCCEEDED,
        JobStatus.UNKNOWN,
    }


# -- stale-if-error ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_a_failing_vendor_is_answered_with_the_last_known_job_marked_stale(
    name: str,
) -> None:
    async with lab(name) as lb:
        job_id, vendor_id = lb.new_job()
        first = await lb.gw.fetch_job(job_id)
        lb.arm("server_error", status=503, remaining=10)
        began = time.perf_counter()
        stale = await lb.gw.fetch_job(job_id, fresh=True)  # a poll that insists on the vendor
        assert time.perf_counter() - began <= DEADLINE + SLACK
        assert stale.cache is CacheStatus.STALE and stale.value.stale
        assert stale.attempts == 3 and stale.error is not None
        assert stale.value.model_copy(update={"stale": False}) == first.value
        assert stale.headers()["Cache-Status"].startswith("eval-gateway; fwd=stale")
        await lb.check_status(stale.value, vendor_id)


# -- rate limits with their vendors' own headers ----------------------------------------------

LONG_DEADLINE = {"deadline": 3.0, "max_retry_after": 2.0}


@pytest.mark.parametrize("status", [413, 429])
async def test_datarobot_throttle_with_a_short_retry_after_is_waited_out(status: int) -> None:
    async with lab("datarobot", retry=LONG_DEADLINE) as lb:
        job_id, _ = lb.new_job()
        lb.arm("rate_limit", status=status, retry_after=1.0)  # Retry-After: 1
        began = time.perf_counter()
        outcome = await lb.gw.fetch_job(job_id)
        elapsed = time.perf_counter() - began
    assert 0.95 <= elapsed <= 3.0  # it honoured the vendor's second, within the deadline
    assert outcome.attempts == 2
    assert outcome.value.status is JobStatus.RUNNING


@pytest.mark.parametrize("status", [413, 429])
async def test_datarobot_throttle_with_a_long_retry_after_is_passed_on_at_once(
    status: int,
) -> None:
    async with lab("datarobot", retry=LONG_DEADLINE) as lb:
        job_id, _ = lb.new_job()
        lb.arm("rate_limit", status=status, retry_after=30)
        began = time.perf_counter()
        with pytest.raises(UpstreamRateLimited) as caught:
            await lb.gw.fetch_job(job_id)
        elapsed = time.perf_counter() - began
        calls = lb.vendor_calls()
    assert elapsed < 0.5  # no waiting on a wait longer than max_retry_after
    error = caught.value
    assert error.vendor_status_code == status and error.retry_after == 30
    assert error.attempts == 1 and calls == 1
    assert error.problem().retry_after == 30 and error.problem().status == 429


async def test_digitalocean_burst_limit_with_retry_after_is_waited_out() -> None:
    async with lab("do", retry=LONG_DEADLINE) as lb:
        job_id, _ = lb.new_job()
        lb.arm("rate_limit", retry_after=1.0)  # per-minute burst limit: retry-after: 1
        began = time.perf_counter()
        outcome = await lb.gw.fetch_job(job_id)
        elapsed = time.perf_counter() - began
    assert 0.95 <= elapsed <= 3.0
    assert outcome.attempts == 2 and outcome.value.status is JobStatus.RUNNING


async def test_digitalocean_hourly_quota_resetting_soon_is_waited_out() -> None:
    # ratelimit-remaining: 0 and ratelimit-reset (epoch seconds) about a second away: the
    # only hint DigitalOcean gives when its hourly quota is spent.
    async with lab("do", retry=LONG_DEADLINE) as lb:
        job_id, _ = lb.new_job()
        reset_at = math.ceil(time.time() + 0.3)
        offset = (reset_at - 3600) - lb.state.clock.now()
        lb.state.clock.advance(offset)  # the sliding hour began 3600 s before reset_at...
        await lb.gw.fetch_job(job_id)  # ...with this request
        lb.state.clock.advance(-offset)
        lb.arm("rate_limit", retry_after=None)
        began = time.time()
        outcome = await lb.gw.fetch_job(job_id, fresh=True)
        elapsed = time.time() - began
    assert reset_at - began - 0.05 <= elapsed <= 3.0  # waited until the reset, not less
    assert outcome.attempts == 2 and outcome.value.status is JobStatus.RUNNING


async def test_digitalocean_hourly_quota_spent_is_passed_on_with_its_reset() -> None:
    async with lab("do", retry=LONG_DEADLINE) as lb:
        job_id, _ = lb.new_job()
        lb.arm("rate_limit", retry_after=None)
        began = time.perf_counter()
        with pytest.raises(UpstreamRateLimited) as caught:
            await lb.gw.fetch_job(job_id)
    assert time.perf_counter() - began < 0.5
    assert caught.value.attempts == 1
    assert caught.value.retry_after is not None and 3000 < caught.value.retry_after <= 3600


# -- circuit breaker and retry budget ---------------------------------------------------------


async def test_an_open_circuit_answers_at_once_without_calling_the_vendor() -> None:
    breaker = {"consecutive_failures": 2, "open_for": 0.3}
    async with lab("overmind", breaker=breaker, retry={"max_attempts": 2}) as lb:
        job_id, vendor_id = lb.new_job()
        lb.arm("server_error", status=503, remaining=100)
        for _ in range(2):  # two failed calls (two attempts each) open the circuit
            with pytest.raises(UpstreamUnavailable) as failed:
                await lb.gw.fetch_job(job_id)
            assert failed.value.attempts == 2
        assert lb.gw.guard("overmind").breaker_state == "open"
        calls = lb.vendor_calls()

        began = time.perf_counter()
        with pytest.raises(UpstreamUnavailable) as rejected:
            await lb.gw.fetch_job(job_id)
        assert time.perf_counter() - began < 0.1  # at once
        assert lb.vendor_calls() == calls  # the vendor was spared
        assert rejected.value.attempts == 0 and rejected.value.retry_after == 1.0
        assert rejected.value.problem().status == 503

        await asyncio.sleep(0.3)  # open_for passed: one probe may try, and it fails
        with pytest.raises(UpstreamUnavailable) as probed:
            await lb.gw.fetch_job(job_id)
        assert probed.value.attempts == 1  # a probe asks once
        assert lb.gw.guard("overmind").breaker_state == "open"

        lb.state.clear_faults()  # the vendor is back
        await asyncio.sleep(0.3)
        job = await lb.gw.get_job(job_id)
        assert lb.gw.guard("overmind").breaker_state == "closed"
        await lb.check_status(job, vendor_id)


BUDGET_CALLS = 100


async def test_the_retry_budget_bounds_vendor_calls_during_an_outage() -> None:
    # Breaker off, so only the budget stands between an outage and 3x the load.
    retry = {"max_attempts": 3, "budget_ratio": 0.2, "budget_min_retries": 5}
    async with lab("ls", breaker={"enabled": False}, retry=retry) as lb:
        lb.arm("server_error", status=503, remaining=100_000)
        job_ids = [lb.new_job()[0] for _ in range(BUDGET_CALLS)]
        results = await asyncio.gather(*(lb.gw.get_job(j) for j in job_ids), return_exceptions=True)
        calls = lb.vendor_calls()
        stats = lb.gw.guard("ls").stats
    assert all(isinstance(r, UpstreamUnavailable) for r in results)
    attempts = [r.attempts for r in results if isinstance(r, GatewayError)]
    assert sum(a or 0 for a in attempts) == calls  # every vendor call is accounted for
    # Without the budget: 300 calls. With it: one each plus at most 20% retries.
    assert BUDGET_CALLS < calls <= BUDGET_CALLS * 1.2
    assert stats.retries == calls - BUDGET_CALLS and stats.retry_budget_exhausted > 0
