"""A hostile Socket.IO server of our own on loopback: it relays a real game stream (a
``rugsd sim``'s events, taken by a Socket.IO client) to whoever connects, and puts any
raw frame we like in between — garbage the python-socketio server would never produce.

It speaks just enough of Engine.IO v4 / Socket.IO v5 over a websocket for a client to
connect (open packet, namespace connect, pings); polling is refused, so a client falls
back to websocket. Frames go out one at a time to every connected client, so a client
sees real and injected frames in the order they were sent. While no client is connected
(a reconnect after a frame that dropped the connection) the relayed real events are
kept and delivered on the next connect: the real stream reaches the client whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import deque
from typing import Any

import socketio
from aiohttp import WSMsgType, web

from bench._reliability.garbage import Garbage

PING_INTERVAL_MS = 25_000
PING_TIMEOUT_MS = 20_000
BACKLOG = 20_000  # relayed events kept while no client is connected


class HostileServer:
    """Relay ``upstream``'s events and inject garbage; runs on the caller's event loop."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.clients: set[web.WebSocketResponse] = set()
        self.connects = 0  # Socket.IO namespace connects of downstream clients
        self.relayed = 0  # real events sent
        self.updates: list[dict[str, Any]] = []  # every real gameStateUpdate sent, in order
        self.last: dict[str, Any] | None = None  # the last of them
        self.injected: list[Garbage] = []
        self.port = 0
        self._backlog: deque[str] = deque(maxlen=BACKLOG)
        self._runner: web.AppRunner | None = None
        self._sio: socketio.AsyncClient | None = None
        self._lock = asyncio.Lock()

    # -- life cycle --------------------------------------------------------------------

    async def start(self) -> int:
        """Serve on a free loopback port and start relaying; return the port."""
        app = web.Application()
        app.router.add_get("/socket.io/", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._sio = socketio.AsyncClient(reconnection=True, logger=False,
                                         engineio_logger=False)
        self._sio.on("*", self._relay)
        await self._sio.connect(self.upstream, transports=["websocket"], wait_timeout=10)
        return self.port

    async def stop(self) -> None:
        """Stop relaying, close every client, stop serving."""
        if self._sio is not None:
            with contextlib.suppress(Exception):
                await self._sio.disconnect()
        for ws in list(self.clients):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The URL a feed client connects to."""
        return f"http://127.0.0.1:{self.port}"

    # -- downstream ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("transport") != "websocket":
            return web.Response(status=400, text="websocket only")
        ws = web.WebSocketResponse(max_msg_size=0, compress=False)
        await ws.prepare(request)
        await ws.send_str("0" + json.dumps({
            "sid": secrets.token_hex(8), "upgrades": [], "pingInterval": PING_INTERVAL_MS,
            "pingTimeout": PING_TIMEOUT_MS, "maxPayload": 1_000_000}))
        pinger = asyncio.create_task(self._ping(ws))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT and msg.data.startswith("40"):
                    async with self._lock:  # namespace connect: accept, then the stream
                        await ws.send_str("40" + json.dumps({"sid": secrets.token_hex(8)}))
                        while self._backlog:
                            await ws.send_str(self._backlog.popleft())
                        self.clients.add(ws)
                        self.connects += 1
        finally:
            pinger.cancel()
            self.clients.discard(ws)
        return ws

    async def _ping(self, ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(Exception):
            while not ws.closed:
                await asyncio.sleep(PING_INTERVAL_MS / 1000)
                await ws.send_str("2")

    async def _send(self, frame: str | bytes) -> int:
        """One raw websocket frame to every connected client (lock held); how many."""
        sent = 0
        for ws in list(self.clients):
            try:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
                sent += 1
            except (ConnectionError, RuntimeError):
                self.clients.discard(ws)
        return sent

    async def inject(self, make: Any) -> Garbage | None:
        """Send the garbage ``make(last_update)`` builds, right after the last real update
        (None before any, or with no client connected to see it)."""
        async with self._lock:
            if self.last is None or not self.clients:
                return None
            garbage = make(self.last)
            for frame in garbage.frames:
                await self._send(frame)
            self.injected.append(garbage)
            return garbage

    async def wait_client(self, timeout: float) -> bool:
        """Until a client is connected (its namespace too); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.clients:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # -- upstream -----------------------------------------------------------------------

    async def _relay(self, name: str, *args: Any) -> None:
        frame = "42" + json.dumps([name, *args], separators=(",", ":"))
        async with self._lock:
            if name == "gameStateUpdate" and args and isinstance(args[-1], dict):
                self.updates.append(args[-1])
                self.last = args[-1]
            self.relayed += 1
            if self.clients:
                await self._send(frame)
            elif self.connects:  # a client is reconnecting: keep the stream for it
                self._backlog.append(frame)
