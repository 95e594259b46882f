"""Helpers of the browser-execution tests: ledger reads, phase waits, the daemon's feed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import socketio

from rugsd.daemon.events import Phase
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.sim.server import SimServer


async def ledger(sim: SimServer, name: str) -> dict[str, Any]:
    """``GET /ledger/<name>``: the simulator's exact integer account."""
    async with aiohttp.ClientSession() as http, http.get(f"{sim.url}/ledger/{name}") as r:
        assert r.status == 200
        return await r.json()


async def wait_runway(sim: SimServer, ticks: int, timeout: float = 30.0) -> int:
    """Wait for an active tick with at least ``ticks`` ticks left before the rug."""

    async def poll() -> int:
        while True:
            room = sim.room
            if room.phase == Phase.ACTIVE and room.tick >= 1 and room.plan.rug_tick - room.tick >= ticks:
                return room.tick
            await asyncio.sleep(0.005)

    return await asyncio.wait_for(poll(), timeout)


async def wait_phase(sim: SimServer, phase: Phase, timeout: float = 30.0) -> None:
    """Wait until the room is in ``phase``."""

    async def poll() -> None:
        while sim.room.phase != phase:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


class DaemonFeed:
    """The daemon's own (anonymous) feed connection, forwarding parsed events."""

    def __init__(self, sink: Any) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.parser = EventParser()
        self.sink = sink
        self.sio.on("*", self._on_any)

    async def _on_any(self, name: str, *args: Any) -> None:
        event = self.parser.parse(name, args, time.time_ns() // 1_000_000)
        if event is not None:
            self.sink(event)

    async def connect(self, url: str) -> None:
        await self.sio.connect(url, transports=["websocket"], wait_timeout=10)

    async def close(self) -> None:
        await self.sio.disconnect()


async def page_clicks(page: Any) -> int:
    """Clicks the page has seen (counted by the executor's in-page helper)."""
    return int(await page.evaluate("window.__rugsdExec.clicks"))
