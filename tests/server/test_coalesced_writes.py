"""One socket write per answer: writes made in one turn of the event loop reach the real
transport together, in order; closing writes what is pending, aborting drops it; a stream's
events sent in separate turns still go out one by one. And over a real socket, through
`eval-gateway serve`'s protocol, an answer is one write."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn import Config
from uvicorn.server import ServerState

from gateway.server import create_app
from gateway.server.coalesced_writes import CoalescingTransport
from gateway.server.http_limits import GatewayHttpToolsProtocol


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default


async def _next_turn() -> None:
    await asyncio.sleep(0)


async def test_writes_of_one_turn_go_out_as_one_in_order() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"")
    transport.write(b'{"id": 1}')
    assert real.writes == []  # nothing before the turn ends
    await _next_turn()
    assert real.writes == [b'HTTP/1.1 200 OK\r\n\r\n{"id": 1}']
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1234)  # the rest is the real one


async def test_a_stream_sent_turn_by_turn_goes_out_event_by_event() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    for n in range(3):
        transport.write(f"data: {n}\n\n".encode())
        await _next_turn()
    assert real.writes == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]


async def test_close_writes_what_is_pending_first_and_abort_drops_it() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"last answer")
    transport.close()
    assert (real.writes, real.events) == ([b"last answer"], ["close"])

    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"never sent")
    transport.abort()
    await _next_turn()
    assert (real.writes, real.events) == ([], ["abort"])


async def test_nothing_is_written_to_a_transport_already_closing() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"too late")
    real.closing = True  # the peer went away within the turn
    await _next_turn()
    assert real.writes == []


async def test_the_served_protocol_writes_an_answer_in_one_piece() -> None:
    """uvicorn's real send path behind `eval-gateway serve`'s protocol: head and body of each
    answer on a keep-alive connection reach the socket as one write."""
    config = Config(create_app(), log_config=None, lifespan="off")
    protocol = GatewayHttpToolsProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    real = RecordingTransport()
    protocol.connection_made(real)
    for n in range(2):
        protocol.data_received(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
        for _ in range(1000):  # the answer's task runs on this loop (up to 5 s)
            if len(real.writes) > n:
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)  # time for a second write, were there one
        assert len(real.writes) == n + 1
        head, _, body = real.writes[n].partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b'"ok"' in body
    protocol.connection_lost(None)
