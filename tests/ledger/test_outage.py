"""The database down or slow: observations queue (bounded, counted), are retried, and are
written once it is back; callers are never held up; awaited writes fail typed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.errors import LedgerUnavailable
from gateway.ledger import Ledger
from tests.ledger.conftest import OpenLedger, make_job
from tests.ledger.outage import Outage

WAIT_SECONDS = 20.0


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_writes_queue_while_the_database_is_down_and_land_when_it_is_back(
    ledger_url: str, open_ledger: OpenLedger
) -> None:
    outage = Outage(ledger_url)
    await outage.prepare()
    ledger: Ledger = await open_ledger(url=outage.url, queue_max=50, busy_timeout_seconds=0.05)
    ledger.observe(make_job(0), "read")
    await ledger.flush()
    assert ledger.health().state == "ok"

    await outage.begin()
    started = time.monotonic()
    for n in range(1, 11):
        ledger.observe(make_job(n), "read")
    assert time.monotonic() - started < 1.0  # the caller is not held up by the database
    await _until(lambda: ledger.health().failed_writes >= 2)  # retried, not given up
    health = ledger.health()
    assert health.state == "degraded"
    assert health.queued == 10 and health.dropped == 0
    assert health.last_error
    with pytest.raises(LedgerUnavailable):
        await ledger.begin_submission(
            backend="ls-sim",
            vendor="llama-stack",
            api_version=None,
            caller=None,
            idempotency_key=None,
            request_hash="h",
            submission={},
        )

    for n in range(11, 111):  # the queue (50) fills up: the rest is dropped and counted
        ledger.observe(make_job(n), "read")
    assert ledger.health().dropped == 50
    assert ledger.health().queued == 60

    await outage.end()
    await asyncio.wait_for(ledger.flush(), WAIT_SECONDS)
    assert ledger.health().state == "ok"
    for n in (1, 10, 11, 60):
        assert await ledger.get(make_job(n).id) is not None
    assert await ledger.get(make_job(61).id) is None  # dropped...
    ledger.observe(make_job(61), "read")  # ...so its next observation is written
    await ledger.flush()
    assert await ledger.get(make_job(61).id) is not None
    assert ledger.health().written == 1 + 60 + 1


async def test_open_fails_typed_when_the_database_is_unreachable(
    ledger_url: str, open_ledger: OpenLedger, tmp_path: Path
) -> None:
    if ledger_url.startswith("sqlite"):
        (tmp_path / "a-file").write_text("")
        unreachable = f"sqlite+aiosqlite:///{tmp_path / 'a-file' / 'ledger.sqlite3'}"
    else:
        outage = Outage(ledger_url)
        await outage.prepare()
        await open_ledger(url=outage.url)  # creates the schema
        await outage.begin()
        unreachable = outage.url
    with pytest.raises(LedgerUnavailable) as raised:
        await open_ledger(url=unreachable)
    assert raised.value.problem().status == 503
    assert raised.value.problem().slug == "ledger-unavailable"


async def _write_held_up(ledger_url: str, open_ledger: OpenLedger) -> tuple[Ledger, Outage]:
    """A ledger whose write of job 1 is queued while its database is unreachable."""
    outage = Outage(ledger_url)
    await outage.prepare()
    ledger: Ledger = await open_ledger(url=outage.url, busy_timeout_seconds=0.05)
    ledger.observe(make_job(0), "read")
    await ledger.flush()
    await outage.begin()
    ledger.observe(make_job(1), "read")
    return ledger, outage


async def test_a_read_waits_for_the_writes_this_process_queued_before_it(
    ledger_url: str, open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read your own writes: a caller that has just seen a job finds it in the ledger, even
    while the write is held up for a moment."""
    monkeypatch.setattr("gateway.ledger.ledger.READ_WAIT_SECONDS", WAIT_SECONDS)  # slow CI
    ledger, outage = await _write_held_up(ledger_url, open_ledger)
    asyncio.get_running_loop().call_later(0.3, lambda: asyncio.ensure_future(outage.end()))
    record = await ledger.get(make_job(1).id)
    assert record is not None and record.vendor_ids == ["job-1"]
    assert [c.observed_by for c in await ledger.history(make_job(1).id)] == ["read"]


async def test_a_read_waits_a_bounded_time_for_a_database_that_stays_down(
    ledger_url: str, open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.ledger.ledger.READ_WAIT_SECONDS", 0.2)
    ledger, outage = await _write_held_up(ledger_url, open_ledger)
    started = time.monotonic()
    try:
        found = await ledger.get(make_job(1).id)
    except LedgerUnavailable:  # PostgreSQL cut: the read itself fails, typed
        found = None
    assert time.monotonic() - started < 2.0
    assert found is None  # not written yet: the read answers what is stored
    await outage.end()
    assert await ledger.get(make_job(1).id) is not None
