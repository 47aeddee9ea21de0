"""Making the ledger's database unreachable, and reachable again, from inside a test.

SQLite: another connection holds the write lock (what a stuck writer or a slow disk looks
like). PostgreSQL: the ledger talks through a loopback TCP proxy that is cut (connections
reset, new ones refused) and restored.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from sqlalchemy.engine import make_url

from tests.support.servers import free_port


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for stream in list(self._streams):
            stream.transport.abort()
        self._streams.clear()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._streams |= {writer, up_writer}
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        self._streams -= {writer, up_writer}


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    sink.transport.abort()


class Outage:
    """`await outage.begin()` / `await outage.end()` around the database being unreachable."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self._sqlite_path = parsed.database if parsed.get_backend_name() == "sqlite" else None
        self._lock: sqlite3.Connection | None = None
        self._proxy: TcpProxy | None = None
        if self._sqlite_path is None:
            assert parsed.port is not None
            self._proxy = TcpProxy(parsed.port)
            self.url = parsed.set(port=self._proxy.port).render_as_string(hide_password=False)

    async def prepare(self) -> None:
        if self._proxy is not None:
            await self._proxy.start()

    async def begin(self) -> None:
        if self._proxy is not None:
            await self._proxy.cut()
            return
        assert self._sqlite_path is not None
        self._lock = sqlite3.connect(self._sqlite_path, isolation_level=None)
        self._lock.execute("BEGIN EXCLUSIVE")

    async def end(self) -> None:
        if self._proxy is not None:
            await self._proxy.start()
            return
        assert self._lock is not None
        self._lock.execute("ROLLBACK")
        self._lock.close()
