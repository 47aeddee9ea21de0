"""Helpers for the end-to-end resilience tests: configs, vendor-call counts, polling bursts.

The e2e tests run real processes (`eval-gateway serve`, `eval-gateway simulate`, a real
redis-server) and count what reached the vendor with the simulator's own `/_sim/requests`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from gateway.adapters import adapter_class

LS_BACKEND = "ls"
REQUEST_TIMEOUT = 30.0  # seconds: a request still unanswered by then counts as failed


def gateway_config(
    backends: dict[str, dict[str, Any]],
    redis_url: str | None = None,
    **redis: Any,
) -> dict[str, Any]:
    """A proxy config for tests: no access log (load tests), no file watch, optional Redis."""
    config: dict[str, Any] = {
        "backends": backends,
        "server": {"access_log": False, "reload": {"watch": False}},
    }
    if redis_url is not None:
        config["redis"] = {
            "url": redis_url,
            "key_prefix": f"e2e-{uuid.uuid4().hex[:8]}:",  # a fresh keyspace per test
            **redis,
        }
    return config


def llama_backend(sim_url: str, **sections: Any) -> dict[str, Any]:
    return {"vendor": "llama-stack", "base_url": sim_url, **sections}


def create_running_job(sim_url: str, status: str = "in_progress") -> str:
    """A llama-stack job that stays `status` forever; returns its gateway id on `ls`."""
    made = httpx.post(f"{sim_url}/_sim/jobs", json={"lifecycle": [{"status": status}]}, timeout=5.0)
    assert made.status_code == 201, made.text
    return "~".join([LS_BACKEND, *made.json()["id_parts"]])


def vendor_calls(sim_url: str, path_suffix: str) -> int:
    """Requests the simulator served on paths ending with `path_suffix`."""
    counts: dict[str, int] = httpx.get(f"{sim_url}/_sim/requests", timeout=5.0).json()["requests"]
    return sum(n for key, n in counts.items() if key.endswith(path_suffix))


def job_path_suffix(job_id: str) -> str:
    return "/jobs/" + job_id.rsplit("~", 1)[1]


def sim_status(sim_url: str, job_id: str) -> str:
    """The canonical status the simulator's own word for the job maps to (what every answer
    about it must say)."""
    jobs = httpx.get(f"{sim_url}/_sim/jobs", timeout=5.0).json()["jobs"]
    (job,) = [j for j in jobs if j["id"] == job_id.rsplit("~", 1)[1]]
    return adapter_class("llama-stack").status_table.lookup(job["vendor_status"]).value


@dataclass(frozen=True)
class Answer:
    replica: int
    status: int
    cache: str
    job_status: str | None
    stale: bool
    seconds: float
    problem: str | None = None


def cache_kind(cache_status: str) -> str:
    """hit | collapsed | fetched (this request called the vendor) | stale | other."""
    if "; hit" in cache_status:
        return "hit"
    if "collapsed" in cache_status:
        return "collapsed"
    if "fwd=stale" in cache_status:
        return "stale"
    if "fwd=uri-miss" in cache_status or "fwd=request" in cache_status:
        return "fetched"
    return "other"


class RawConnection:
    """A minimal HTTP/1.1 client on one keep-alive connection.

    The load tests use it instead of httpx: with a thousand requests queued on one httpx pool
    the client itself becomes the bottleneck (its pool bookkeeping grows with the queue), and
    the test would measure the client, not the gateway.
    """

    def __init__(self, url: str, keep_alive: bool = True) -> None:
        parsed = urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.keep_alive = keep_alive
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            if self._streams is None:
                self._streams = await asyncio.open_connection(self.host, self.port)
            reader, writer = self._streams
            connection = "keep-alive" if self.keep_alive else "close"
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Connection: {connection}\r\n\r\n".encode()
            )
            await writer.drain()
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(head[0].split(" ", 2)[1])
            headers = {}
            for line in head[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        if not self.keep_alive or headers.get("connection", "").lower() == "close":
            await self.aclose()
        return status, headers, body

    async def aclose(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()


def _answer(
    replica: int, status: int, headers: dict[str, str], body: bytes, seconds: float
) -> Answer:
    data: Any = json.loads(body) if body else None
    ok = status == 200 and isinstance(data, dict)
    return Answer(
        replica=replica,
        status=status,
        cache=cache_kind(headers.get("cache-status", "")),
        job_status=data.get("status") if ok else None,
        stale=bool(data.get("stale")) if ok else False,
        seconds=seconds,
        problem=None if ok or not isinstance(data, dict) else str(data.get("type")),
    )


class Poller:
    """Polls spread round-robin over the replicas, on raw loopback HTTP/1.1 connections."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls

    async def poll(self, n: int, path: str, connection: RawConnection | None = None) -> Answer:
        """One poll of replica n % len(urls) (on `connection`, else a connection of its own)."""
        replica = n % len(self.urls)
        conn = connection or RawConnection(self.urls[replica], keep_alive=False)
        began = time.perf_counter()
        try:
            status, headers, body = await conn.get(path)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            await conn.aclose()  # a failed request, counted as such by callers
            return Answer(replica, 0, "other", None, False, time.perf_counter() - began, repr(exc))
        return _answer(replica, status, headers, body, time.perf_counter() - began)

    async def burst(self, path: str, count: int) -> tuple[list[Answer], float]:
        """`count` identical polls released at once, each on its own connection;
        (answers, seconds the burst took)."""
        gate = asyncio.Event()

        async def one(i: int) -> Answer:
            await gate.wait()
            return await self.poll(i, path)

        tasks = [asyncio.create_task(one(i)) for i in range(count)]
        await asyncio.sleep(0)  # every task is now waiting at the gate
        began = time.perf_counter()
        gate.set()
        answers = await asyncio.gather(*tasks)
        return list(answers), time.perf_counter() - began

    async def sustained(self, path: str, workers: int, seconds: float) -> list[Answer]:
        """`workers` pollers, each polling back to back for `seconds` on a keep-alive
        connection to every replica in turn."""
        stop_at = time.perf_counter() + seconds

        async def worker(i: int) -> list[Answer]:
            connections = [RawConnection(url) for url in self.urls]
            got: list[Answer] = []
            n = i
            try:
                while time.perf_counter() < stop_at:
                    got.append(await self.poll(n, path, connections[n % len(connections)]))
                    n += 1
            finally:
                for conn in connections:
                    await conn.aclose()
            return got

        results = await asyncio.gather(*(worker(i) for i in range(workers)))
        return [answer for batch in results for answer in batch]


def summary(answers: list[Answer]) -> dict[str, Any]:
    """Counts worth printing in a failure message."""
    return {
        "statuses": dict(Counter(a.status for a in answers)),
        "cache": dict(Counter(a.cache for a in answers)),
        "job_status": dict(Counter(a.job_status for a in answers)),
        "problems": dict(Counter(a.problem for a in answers if a.problem)),
        "slowest": round(max((a.seconds for a in answers), default=0.0), 3),
    }


def readyz(url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{url}/readyz", timeout=5.0).json()
    return body


def metric(url: str, line_prefix: str) -> float | None:
    """The value of the first /metrics sample whose line starts with `line_prefix`."""
    response = httpx.get(f"{url}/metrics", timeout=5.0)
    assert response.status_code == 200, f"/metrics answered {response.status_code}"
    for line in response.text.splitlines():
        if line.startswith(line_prefix):
            return float(line.rsplit(" ", 1)[1])
    return None
