"""Simulator throughput: the pure room, and events delivered over Socket.IO on loopback.

- ``room_steps_per_s`` / ``room_ticks_per_s``: ``Room.step()`` with one player holding a
  presale position and a sidebet every game (payloads built, nothing sent);
- ``socket_events_per_s``: ``gameStateUpdate`` events a python-socketio client receives
  from ``SimServer`` at ``speed`` 1000 over loopback (the server's loop is the limit).
"""

from __future__ import annotations

import asyncio
import time

import socketio

from rugsd.daemon.config import SimConfig
from rugsd.daemon.game.matching import OrderKind
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS, StepKind
from rugsd.daemon.sim.server import SimServer

ROOM_GAMES = 200
SOCKET_SECONDS = 3.0


def _room() -> dict[str, float]:
    room = Room("bench", start_ms=DETERMINISTIC_EPOCH_MS, starting_balance=10**12)
    room.join("sim:bench", "bench")
    steps = ticks = games = 0
    t0 = time.perf_counter()
    while games < ROOM_GAMES:
        room.step()
        steps += 1
        kind = room.last_step.kind
        if kind == StepKind.TICK:
            ticks += 1
        elif kind == StepKind.RUG:
            games += 1
        elif kind == StepKind.COOLDOWN and room.last_step.index == 60:
            room.submit("sim:bench", OrderKind.BUY, {"amount": 0.01})
            room.submit("sim:bench", OrderKind.SIDEBET, {"amount": 0.001})
    dt = time.perf_counter() - t0
    return {
        "room_steps_per_s": round(steps / dt),
        "room_ticks_per_s": round(ticks / dt),
        "room_games": games,
    }


async def _socket() -> dict[str, float]:
    sim = SimServer(SimConfig(), seed=1, speed=1000)
    await sim.start("127.0.0.1", 0)
    client = socketio.AsyncClient(reconnection=False)
    received = 0

    def on_state(*_args: object) -> None:
        nonlocal received
        received += 1

    client.on("gameStateUpdate", on_state)
    try:
        await client.connect(sim.url, transports=["websocket"], wait_timeout=10)
        start_count = received
        t0 = time.perf_counter()
        await asyncio.sleep(SOCKET_SECONDS)
        dt = time.perf_counter() - t0
        got = received - start_count
    finally:
        await client.disconnect()
        await sim.stop()
    return {"socket_events_per_s": round(got / dt), "socket_seconds": SOCKET_SECONDS}


def run() -> dict:
    """Measure and return the figures (see the module docstring)."""
    out: dict = {}
    out.update(_room())
    out.update(asyncio.run(_socket()))
    return out


if __name__ == "__main__":
    print(run())
