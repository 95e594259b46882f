"""The simulator's stream as an independent witness: an anonymous Socket.IO client that
records every game (its ticks and prices, its rug, when each was received) and every
trade the simulator broadcast for the paper daemon's player. The probes compare the
daemon's journal against it."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import socketio

from bench._reliability.procs import PLAYER

PLAYER_ID = f"sim:{PLAYER}"


@dataclass
class Game:
    """One game as the observer saw it (wall times in ms)."""

    game_id: str
    prices: dict[int, float] = field(default_factory=dict)  # active ticks
    first_seen_ms: int = 0
    first_tick_ms: int | None = None  # tick 0 received
    rug_tick: int | None = None
    rug_price: float | None = None
    rug_ms: int | None = None
    last_ms: int = 0

    @property
    def complete(self) -> bool:
        """Every tick from 0 to the rug was seen (the observer's own view is whole)."""
        return (self.rug_tick is not None and self.first_tick_ms is not None
                and all(t in self.prices for t in range(self.rug_tick)))


@dataclass(frozen=True)
class Trade:
    """A buy, sell or sidebet the simulator broadcast for our player."""

    ms: int
    game_id: str
    kind: str  # buy | sell | sidebet
    tick: int | None
    amount_lamports: int


class Observer:
    """Connect with ``await start(url)`` on the probe's loop thread; read from any thread
    (the lists and dicts are only appended to)."""

    def __init__(self) -> None:
        self.games: dict[str, Game] = {}
        self.order: list[str] = []  # game ids in the order first seen
        self.trades: list[Trade] = []
        self.last: dict[str, Any] | None = None  # the last gameStateUpdate
        self.events = 0
        self._sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.1,
                                         reconnection_delay_max=0.5, logger=False,
                                         engineio_logger=False)
        self._sio.on("gameStateUpdate", self._update)
        self._sio.on("standard/newTrade", self._trade)
        self._sio.on("newSideBet", self._sidebet)

    async def start(self, url: str) -> None:
        """Connect (websocket) to the simulator at ``url``."""
        await self._sio.connect(url, transports=["websocket"], wait_timeout=10)

    async def stop(self) -> None:
        """Disconnect."""
        with contextlib.suppress(Exception):
            await self._sio.disconnect()

    def _game(self, gid: str, now: int) -> Game:
        game = self.games.get(gid)
        if game is None:
            game = self.games[gid] = Game(gid, first_seen_ms=now)
            self.order.append(gid)
        game.last_ms = now
        return game

    async def _update(self, *args: Any) -> None:
        data = args[-1] if args else None
        if not isinstance(data, dict) or not isinstance(data.get("gameId"), str):
            return
        now = time.time_ns() // 1_000_000
        self.events += 1
        self.last = data
        game = self._game(data["gameId"], now)
        tick, price = data.get("tickCount"), data.get("price")
        if tick is None or price is None:
            return
        if data.get("rugged"):
            if game.rug_tick is None:
                game.rug_tick, game.rug_price, game.rug_ms = int(tick), float(price), now
        elif data.get("active"):
            game.prices.setdefault(int(tick), float(price))
            if int(tick) == 0 and game.first_tick_ms is None:
                game.first_tick_ms = now

    async def _trade(self, *args: Any) -> None:
        data = args[-1] if args else None
        if isinstance(data, dict) and data.get("playerId") == PLAYER_ID:
            self.trades.append(Trade(time.time_ns() // 1_000_000, data.get("gameId", ""),
                                     str(data.get("type")), data.get("tickIndex"),
                                     round(float(data.get("amount") or 0) * 1e9)))

    async def _sidebet(self, *args: Any) -> None:
        data = args[-1] if args else None
        if isinstance(data, dict) and data.get("playerId") == PLAYER_ID:
            self.trades.append(Trade(time.time_ns() // 1_000_000, data.get("gameId", ""),
                                     "sidebet", data.get("startTick"),
                                     round(float(data.get("betAmount") or 0) * 1e9)))

    def phase(self) -> tuple[str | None, str, int]:
        """(game id, phase, tick) of the last update: ``active``, ``rugged`` or ``waiting``."""
        last = self.last or {}
        if last.get("rugged"):
            phase = "rugged"
        elif last.get("active"):
            phase = "active"
        else:
            phase = "waiting"
        return last.get("gameId"), phase, int(last.get("tickCount") or 0)
