"""Submitting evaluations: idempotency keys that never create a second vendor job.

A submission with an `Idempotency-Key` claims the key first (Redis `SET NX` when configured, so
replicas agree; in memory otherwise), then calls the vendor once. The vendor call is shielded
from the caller: a caller that times out and retries with the same key waits for, then gets,
the same jobs. What happens to a key after a failure depends on what we know:

- the vendor answered with an error: nothing was created, the key is released for a retry;
- we do not know (timeout, dropped connection, unreadable answer): the key keeps that
  problem, and retries get it back instead of risking a second job.

A key whose owner died mid-call (process killed) is released after `PENDING_TTL` seconds.
While Redis is down, claims fall back to this replica's memory (a replica never fails a
request because Redis failed); two replicas could then both submit the same key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from cachetools import TTLCache

from gateway.errors import GatewayError, InvalidRequest
from gateway.resilience import RedisLink, RedisUnavailable
from gateway.schemas import Problem, Submission, SubmitRequest

KEY_TTL = 24 * 3600.0  # how long a key's submission is remembered
PENDING_TTL = 300.0  # a claim whose owner vanished is released after this
POLL_INTERVAL = 0.05
MAX_KEY_LENGTH = 255
MAX_LOCAL_KEYS = 100_000


@dataclass
class KeyRecord:
    fingerprint: str
    state: Literal["pending", "done", "failed"]
    submission: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None


def fingerprint(requested: str, request: SubmitRequest) -> str:
    """What makes two submissions "the same": the name used and the canonical body."""
    body = json.dumps(
        {"requested": requested, "request": request.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters")
    return key


class IdempotencyStore:
    """Key -> record, shared through Redis when a link is given, else in this process."""

    def __init__(self, link: RedisLink | None = None, ttl: float = KEY_TTL) -> None:
        self.link = link
        self.ttl = ttl
        self._local: TTLCache[str, tuple[KeyRecord, float]] = TTLCache(MAX_LOCAL_KEYS, ttl)

    async def claim(self, key: str, record: KeyRecord) -> KeyRecord | None:
        """Store `record` if the key is free (None: it is ours now), else the record there."""
        if self.link is not None:
            try:
                return await self._claim_shared(self.link, key, record)
            except RedisUnavailable:
                pass
        existing = self._local_get(key)
        if existing is not None:
            return existing
        self._local_set(key, record)
        return None

    async def put(self, key: str, record: KeyRecord) -> None:
        self._local_set(key, record)
        if self.link is not None:
            name = self.link.keys.prefix + "idem:" + key
            raw = json.dumps(asdict(record))
            await self.link.best_effort(lambda r: r.set(name, raw, px=int(self.ttl * 1000)))

    async def get(self, key: str) -> KeyRecord | None:
        if self.link is not None:
            try:
                name = self.link.keys.prefix + "idem:" + key
                raw = await self.link.run(lambda r: r.get(name))
                return _record(raw) if raw is not None else self._local_get(key)
            except RedisUnavailable:
                pass
        return self._local_get(key)

    async def release(self, key: str) -> None:
        self._local.pop(key, None)
        if self.link is not None:
            name = self.link.keys.prefix + "idem:" + key
            await self.link.best_effort(lambda r: r.delete(name))

    async def _claim_shared(self, link: RedisLink, key: str, record: KeyRecord) -> KeyRecord | None:
        name = link.keys.prefix + "idem:" + key
        raw = json.dumps(asdict(record))
        claimed = await link.run(lambda r: r.set(name, raw, nx=True, px=int(PENDING_TTL * 1000)))
        if claimed:
            self._local_set(key, record)
            return None
        existing = await link.run(lambda r: r.get(name))
        return _record(existing) if existing is not None else await self.claim(key, record)

    def _local_get(self, key: str) -> KeyRecord | None:
        found = self._local.get(key)
        if found is None:
            return None
        record, expires = found
        if time.monotonic() > expires:  # a pending claim whose owner vanished
            self._local.pop(key, None)
            return None
        return record

    def _local_set(self, key: str, record: KeyRecord) -> None:
        keep = PENDING_TTL if record.state == "pending" else self.ttl
        self._local[key] = (record, time.monotonic() + keep)


def _record(raw: bytes | str) -> KeyRecord:
    data = json.loads(raw)
    return KeyRecord(**data)


class Submitter:
    """Runs submissions with and without idempotency keys (one per AsyncGateway)."""

    def __init__(self, store: IdempotencyStore) -> None:
        self.store = store
        self._running: set[asyncio.Task[Submission]] = set()

    async def submit(
        self,
        key: str | None,
        scope: str,
        requested: str,
        request: SubmitRequest,
        call: Callable[[], Awaitable[Submission]],
        deadline: float,
    ) -> Submission:
        if key is None:
            return await call()
        store_key = f"{scope}|{check_key(key)}"
        mine = KeyRecord(fingerprint(requested, request), "pending")
        until = time.monotonic() + deadline
        while True:
            existing = await self.store.claim(store_key, mine)
            if existing is None:
                task = asyncio.ensure_future(self._run_owned(store_key, mine, call, key))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
                return await asyncio.shield(task)  # the caller may leave; the call goes on
            if existing.fingerprint != mine.fingerprint:
                raise InvalidRequest(
                    "this Idempotency-Key was already used for a different request; "
                    "use a new key for a new submission"
                )
            if existing.state == "done" and existing.submission is not None:
                replay = Submission.model_validate(existing.submission)
                return replay.model_copy(update={"replayed": True})
            if existing.state == "failed" and existing.problem is not None:
                raise GatewayError.from_problem(Problem.model_validate(existing.problem))
            if time.monotonic() > until:
                raise InvalidRequest(
                    "a submission with this Idempotency-Key is still in progress; "
                    "retry with the same key to get its jobs"
                )
            await asyncio.sleep(POLL_INTERVAL)

    async def in_flight(self, scope: str, key: str) -> bool:
        """A submission with this key is running now (here, or on a replica sharing Redis)."""
        record = await self.store.get(f"{scope}|{key}")
        return record is not None and record.state == "pending"

    async def _run_owned(
        self,
        store_key: str,
        record: KeyRecord,
        call: Callable[[], Awaitable[Submission]],
        key: str,
    ) -> Submission:
        try:
            submission = await call()
        except GatewayError as exc:
            if exc.vendor_status_code is not None:
                await self.store.release(store_key)  # the vendor said no: nothing was created
            else:
                failed = KeyRecord(record.fingerprint, "failed", problem=_unknown_outcome(exc))
                await self.store.put(store_key, failed)
            raise
        except BaseException:
            await self.store.release(store_key)
            raise
        submission = submission.model_copy(update={"idempotency_key": key})
        done = KeyRecord(record.fingerprint, "done", submission=submission.model_dump(mode="json"))
        await self.store.put(store_key, done)
        return submission

    async def aclose(self) -> None:
        for task in list(self._running):
            task.cancel()


def unknown_outcome(exc: GatewayError) -> Problem:
    """The problem a key keeps when its submission's outcome is unknown (also the ledger's)."""
    return Problem.model_validate(_unknown_outcome(exc))


def _unknown_outcome(exc: GatewayError) -> dict[str, Any]:
    problem = exc.problem()
    problem.detail = (
        f"{problem.detail}. The submission may or may not have reached the vendor, so this "
        "key will not submit again; check the backend's jobs, or use a new key to submit anew"
    )
    return problem.model_dump(mode="json")
