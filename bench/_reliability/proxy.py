"""A TCP proxy on loopback between the daemon and the simulator, so a probe can drop the
feed mid-game (the network fails, the venue keeps running) on either transport:
``cut(down_s)`` aborts every connection in flight and refuses new ones for ``down_s`` —
an outage, not a blip: a polling client's HTTP layer retries a request whose keep-alive
connection died, so an instant cut alone never reaches its Socket.IO session."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forward ``127.0.0.1:port`` to ``127.0.0.1:upstream_port``; run on one event loop."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.cuts = 0
        self._refuse_until = 0.0
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()

    async def start(self) -> int:
        """Listen on a free port; return it."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def url(self) -> str:
        """The URL a feed client connects to."""
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if asyncio.get_running_loop().time() < self._refuse_until:
            writer.transport.abort()  # the network is down
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            self._pairs.discard(pair)
            for w in pair:
                w.transport.abort()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.transport.abort()

    async def cut(self, down_s: float = 0.0) -> int:
        """Abort every open connection (both sides) and refuse new ones for ``down_s``;
        how many were cut."""
        self._refuse_until = asyncio.get_running_loop().time() + down_s
        pairs = list(self._pairs)
        for pair in pairs:
            for w in pair:
                w.transport.abort()
        self.cuts += 1
        return len(pairs)

    async def stop(self) -> None:
        """Stop listening and cut everything."""
        if self._server is not None:
            self._server.close()
        await self.cut()
