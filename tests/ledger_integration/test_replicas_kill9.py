"""Two real gateway processes on one ledger (a SQLite file, or PostgreSQL for replicas),
in front of one real Overmind simulator process. Both list the same jobs; one is killed with
SIGKILL between its write-ahead record and the vendor's answer: the intent is in the ledger,
it is resolved as outcome unknown, and a retry with the same key never makes a second job."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import LedgerConfig
from gateway.ledger import Ledger, SubmissionRecord
from tests.ledger_integration.conftest import OM_REQUEST
from tests.server.proc import Proc, gateway, simulator, write_config

CREATE = "POST /api/jobs/"


@pytest.fixture
def vendor(tmp_path: Path) -> Iterator[Proc]:
    with simulator(tmp_path, "overmind") as proc:
        yield proc


def creates(vendor: Proc) -> int:
    counts: dict[str, int] = httpx.get(f"{vendor.url}/_sim/requests").json()["requests"]
    return counts.get(CREATE, 0)


def find(url: str, key: str) -> SubmissionRecord | None:
    async def look() -> SubmissionRecord | None:
        ledger = await Ledger.open(LedgerConfig(url=url))
        try:
            return await ledger.find_submission("", key)
        finally:
            await ledger.aclose()

    return asyncio.run(look())


def submit(proc: Proc, key: str, timeout: float = 30.0) -> httpx.Response:
    return httpx.post(
        f"{proc.url}/v1/backends/om/jobs",
        json=OM_REQUEST,
        headers={"Idempotency-Key": key},
        timeout=timeout,
    )


def job_ids(proc: Proc) -> list[str]:
    page = httpx.get(f"{proc.url}/v1/jobs", params={"page_size": 500}, timeout=10).json()
    return [r["id"] for r in page["items"]]


def test_replicas_share_the_ledger_and_a_kill_mid_submit_loses_nothing(
    tmp_path: Path, vendor: Proc, ledger_url: str
) -> None:
    config: dict[str, Any] = {
        # A 1 s deadline: an intent older than that (+5 s) has lost its gateway.
        "backends": {
            "om": {"vendor": "overmind", "base_url": vendor.url, "timeouts": {"total": 1}}
        },
        "server": {"reload": {"watch": False}},
        "ledger": {"url": ledger_url, "refresher": {"enabled": True, "interval_seconds": 0.5}},
    }
    path = write_config(tmp_path / "gateway.yaml", config)
    with gateway(tmp_path, path) as a, gateway(tmp_path, path) as b:
        first = submit(a, "k-1")
        assert first.status_code == 202, first.text
        made = first.json()["jobs"][0]["id"]
        assert made in job_ids(b) and sorted(job_ids(a)) == sorted(job_ids(b))
        replayed = submit(b, "k-1")  # the other replica knows the key: the same job
        assert replayed.json()["jobs"][0]["id"] == made and replayed.json()["replayed"]

        fault = {"kind": "delay", "seconds": 30, "path": "^/api/jobs/$", "count": 1}
        assert httpx.post(f"{vendor.url}/_sim/faults", json=fault).status_code == 201
        before = creates(vendor)
        hung = threading.Thread(target=lambda: _ignore(lambda: submit(a, "k-9", 60)))
        hung.start()
        deadline = time.monotonic() + 15
        while (intent := find(ledger_url, "k-9")) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert intent is not None and intent.state == "pending"  # written ahead
        while creates(vendor) == before and time.monotonic() < deadline:
            time.sleep(0.05)  # the vendor call is under way
        a.process.kill()  # SIGKILL: no settle, no cleanup
        a.process.wait(10)
        hung.join(30)
        httpx.delete(f"{vendor.url}/_sim/faults")

        again = submit(b, "k-9")
        assert again.status_code == 504, again.text
        assert "will not submit again" in again.json()["detail"]
        assert creates(vendor) == before + 1  # never a second vendor job
        resolved = find(ledger_url, "k-9")
        assert resolved is not None and resolved.state == "unknown"
        assert made in job_ids(b)  # the acknowledged job is there


def _ignore(call: Any) -> None:
    with contextlib.suppress(httpx.HTTPError):  # its gateway was killed under it
        call()
