"""Engine.IO-level garbage from a raw websocket server on loopback: a text frame that is
not an Engine.IO packet is counted by reason and dropped (the connection goes on), a
frame over the websocket size limit is counted and the client reconnects. Before, the
first ended the connection uncounted, an unknown packet type vanished and the oversized
frame was a silent reconnect (found by the reliability suite's hostile feed)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from aiohttp import WSMsgType, web
from feed_helpers import fast_feed, running, until

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.feed.client import FeedClient
from rugsd.daemon.feed.sio import eio_frame_problem

GID = "20260101-00000000000000e1"


class RawServer:
    """Engine.IO over a websocket by hand: the handshake, then whatever ``send`` is given."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.connects = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("transport") != "websocket":
            return web.Response(status=400)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("0" + json.dumps({"sid": "s", "upgrades": [], "pingInterval": 25000,
                                            "pingTimeout": 20000, "maxPayload": 1000000}))
        async for msg in ws:
            if msg.type is WSMsgType.TEXT and msg.data.startswith("40"):
                await ws.send_str('40{"sid":"n"}')
                self.sockets.append(ws)
                self.connects += 1
        return ws

    async def send(self, frame: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.sockets[-1].send_str(frame)


@contextlib.asynccontextmanager
async def raw_server() -> AsyncIterator[tuple[RawServer, str]]:
    server = RawServer()
    app = web.Application()
    app.router.add_get("/socket.io/", server.handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield server, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _update(tick: int, **extra: str) -> str:
    payload = {"gameId": GID, "active": True, "rugged": False, "tickCount": tick,
               "price": 1.0, "cooldownTimer": 0, "allowPreRoundBuys": False, **extra}
    return "42" + json.dumps(["gameStateUpdate", payload])


def test_engineio_frame_problems_mirror_what_engineio_refuses() -> None:
    assert eio_frame_problem('42["gameStateUpdate",{}]') is None
    assert eio_frame_problem("2") is None and eio_frame_problem("6") is None
    assert eio_frame_problem("bAAEC") is None  # base64 binary message
    assert eio_frame_problem("") == "eio_undecodable"
    assert eio_frame_problem("x42[]") == "eio_undecodable"
    assert eio_frame_problem("b%%%") == "eio_undecodable"
    assert eio_frame_problem("9") == "eio_unknown_packet_type"


async def test_bad_engineio_frames_are_counted_and_dropped_and_oversized_ones_reconnect(
) -> None:
    updates: list[GameUpdate] = []
    async with raw_server() as (server, url):
        client = FeedClient(fast_feed(url), on_event=lambda e: updates.append(e))
        async with running(client):
            await until(lambda: server.connects == 1, 10, "the connect")
            await server.send(_update(1))
            await until(lambda: len(updates) == 1, 5, "a first update")
            # Act: text frames that are no Engine.IO packet, then a real update
            for frame in ("", "xyz", "9", "8{}", "b%%%"):
                await server.send(frame)
            await server.send(_update(2))
            await until(lambda: len(updates) == 2, 5, "the update after the garbage")
            # Assert: counted by reason, the same connection goes on
            assert client.counters.frames_rejected == {"eio_undecodable": 3,
                                                       "eio_unknown_packet_type": 2}
            assert server.connects == 1 and client.health_snapshot().reconnects == 0
            # Act 2: a 10 MB frame, over the websocket limit (aiohttp drops the connection)
            await server.send(_update(3, junk="x" * (10 << 20)))
            await until(lambda: server.connects == 2, 10, "the reconnect")
            await asyncio.sleep(0)
        assert client.counters.frames_rejected["too_large"] == 1
        assert client.rejected_by_reason()["frame:too_large"] == 1
