"""Assemble a vendor simulator: vendor routes + fault injection + the `/_sim/` control API."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.simulators.control_body import (
    CLOCK_FIELDS,
    FAULT_FIELDS,
    JOB_FIELDS,
    STAGE_FIELDS,
    control_json,
    unknown_fields,
)
from gateway.simulators.engine import FAULT_KINDS, Fault, SimJob, SimState, Stage

CONTROL_PREFIX = "/_sim"


class SimulatedDisconnect(Exception):
    """Raised inside the app to break the connection (see transport.SimTransport)."""


class SimulatedReset(httpx.ReadError):
    """A connection reset by the peer (reset_after_error).

    In-process it reaches the client as the httpx.ReadError a real reset gives; served
    standalone, raising it after the answer started makes the server drop the connection.
    """


@dataclass(frozen=True)
class VendorSim:
    """What a vendor module supplies to build its simulator."""

    vendor: str
    routes: list[BaseRoute]
    seed: Callable[[SimState], None]
    # A vendor-shaped error answer for (status, message).
    error: Callable[[int, str], Response]
    # The vendor's 429 answer (headers included) for an armed rate_limit fault.
    rate_limited: Callable[[SimState, Fault], Response]
    # None if the request's credential is acceptable, else the vendor's 401 answer.
    check_auth: Callable[[Request, SimState], Response | None]
    # Create a job from the control API: (state, lifecycle, data) -> job.
    new_job: Callable[[SimState, list[Stage], dict[str, Any]], SimJob]
    # The vendor identifiers of a job, in the adapter's `id_parts` order (for gateway ids).
    id_parts: Callable[[SimJob], tuple[str, ...]] = lambda job: (job.id,)
    # Faults the real server shows on its own (armed with quirks=True, e.g. standalone).
    quirks: Callable[[], list[Fault]] = list


def build_app(
    sim: VendorSim, state: SimState | None = None, *, seed: bool = True, quirks: bool = False
) -> Starlette:
    state = state or SimState()
    if seed:
        sim.seed(state)
    if quirks:
        for fault in sim.quirks():
            state.arm(fault)
    control = Mount(CONTROL_PREFIX, routes=_control_routes(sim, state))
    app = Starlette(routes=[control, *sim.routes])
    app.state.sim = state
    app.state.vendor_sim = sim
    app.add_middleware(_FaultMiddleware, sim=sim, state=state)
    return app


class _FaultMiddleware:
    """Pure ASGI middleware: auth check, request counting and armed faults."""

    def __init__(self, app: ASGIApp, sim: VendorSim, state: SimState) -> None:
        self.app = app
        self.sim = sim
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        self.state.requests[f"{scope['method']} {path}"] += 1
        connection = _connection_id(scope)
        stall = self.state.take_broken_connection(connection)
        if stall is not None:
            await _reset(stall, send)
            return
        if self.state.resets_armed():
            send = _watching_errors(send, lambda: self.state.note_error_answer(connection, path))
        denied = self.sim.check_auth(Request(scope), self.state)
        if denied is not None:
            await denied(scope, receive, send)
            return
        fault = self.state.take_fault(path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        await self._inject(fault, scope, receive, send)

    async def _inject(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.kind == "rate_limit":
            await self.sim.rate_limited(self.state, fault)(scope, receive, send)
        elif fault.kind == "server_error":
            await self.sim.error(fault.status, "Simulated server error")(scope, receive, send)
        elif fault.kind == "delay":
            await anyio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif fault.kind == "drop_connection":
            # Start an answer, then break: a real server closes the socket mid-response.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            raise SimulatedDisconnect("simulated dropped connection")
        elif fault.kind == "malformed_body":
            await Response(
                b"<html><body>502 Bad Gateway</body>", 200, media_type="application/json"
            )(scope, receive, send)
        elif fault.kind == "truncated_body":
            await self.app(scope, receive, _truncating(send))


def _connection_id(scope: Scope) -> str:
    """The client's address: one per TCP connection (in-process: one for the transport)."""
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "in-process"


async def _reset(stall: float, send: Send) -> None:
    """Stall, then break the connection like a peer reset."""
    await anyio.sleep(stall)
    # Starting the answer first makes a standalone server close the socket (not answer 500).
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )
    raise SimulatedReset("[Errno 104] Connection reset by peer")


def _watching_errors(send: Send, on_error: Callable[[], None]) -> Send:
    """Call `on_error` when the answer going out is an error (status >= 400)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and int(message["status"]) >= 400:
            on_error()
        await send(message)

    return wrapped


def _truncating(send: Send) -> Send:
    """Collect the app's answer and send only the first half of its body."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        cut = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": cut})

    return wrapped


def _control_routes(sim: VendorSim, state: SimState) -> list[BaseRoute]:
    def describe(job: SimJob) -> dict[str, Any]:
        return {
            "id": job.id,
            "id_parts": list(sim.id_parts(job)),
            "vendor_status": job.status_at(state.clock.now()),
            "lifecycle": [{"status": s.status, "seconds": s.seconds} for s in job.lifecycle],
            "data": job.data,
        }

    async def list_jobs(request: Request) -> Response:
        return JSONResponse(
            {"vendor": sim.vendor, "jobs": [describe(j) for j in state.jobs.values()]}
        )

    async def create_job(request: Request) -> Response:
        body = await control_json(request, JOB_FIELDS)
        if isinstance(body, Response):
            return body
        stages = body.get("lifecycle")
        for stage in stages if isinstance(stages, list) else ():
            unknown = unknown_fields(stage, STAGE_FIELDS, "lifecycle stage")
            if unknown is not None:
                return unknown
        try:
            lifecycle = [Stage(str(s["status"]), s.get("seconds")) for s in body["lifecycle"]]
            job = sim.new_job(state, lifecycle, dict(body.get("data") or {}))
        except (KeyError, TypeError, ValueError) as exc:
            return _bad(f"body must be {{'lifecycle': [{{'status', 'seconds'}}], 'data'?}}: {exc}")
        return JSONResponse(describe(job), status_code=201)

    async def arm_fault(request: Request) -> Response:
        body = await control_json(request, FAULT_FIELDS)
        if isinstance(body, Response):
            return body
        try:
            fault = Fault(
                kind=str(body["kind"]),
                remaining=int(body.get("count", 1)),
                path=re.compile(body["path"]) if body.get("path") else None,
                status=int(body.get("status", 500)),
                seconds=float(body.get("seconds", 0.0)),
                retry_after=body.get("retry_after", 1.0),
            )
            state.arm(fault)
        except (KeyError, TypeError, ValueError, re.error) as exc:
            return _bad(f"fault must have 'kind' (one of {', '.join(FAULT_KINDS)}): {exc}")
        return JSONResponse({"armed": fault.kind, "count": fault.remaining}, status_code=201)

    async def clear_faults(request: Request) -> Response:
        state.clear_faults()
        return Response(status_code=204)

    async def clock(request: Request) -> Response:
        body = await control_json(request, CLOCK_FIELDS)
        if isinstance(body, Response):
            return body
        if body.get("freeze") is True:
            state.clock.freeze()
        elif body.get("freeze") is False:
            state.clock.unfreeze()
        if "advance" in body:
            try:
                state.clock.advance(float(body["advance"]))
            except (TypeError, ValueError):
                return _bad("'advance' must be a number of seconds")
        return JSONResponse({"now": state.clock.now(), "frozen": state.clock.frozen})

    async def requests(request: Request) -> Response:
        return JSONResponse({"requests": dict(state.requests)})

    async def reset(request: Request) -> Response:
        state.jobs.clear()
        state.clear_faults()
        state.requests.clear()
        sim.seed(state)
        return Response(status_code=204)

    return [
        Route("/jobs", list_jobs, methods=["GET"]),
        Route("/jobs", create_job, methods=["POST"]),
        Route("/faults", arm_fault, methods=["POST"]),
        Route("/faults", clear_faults, methods=["DELETE"]),
        Route("/clock", clock, methods=["POST"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
    ]


def _bad(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=400)
