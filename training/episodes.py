"""Price path → the ``GameUpdate`` sequence the simulator would emit for that game (pure).

A game for training is a ``GameSpec``: its active-tick prices (tick 0 = 1.0, no rug
price), the rug price and the receive time of tick 0. ``game_events`` turns it into the
events the decision core sees from the simulator (``rugsd.daemon.sim.room``):

1. the first cooldown update (``cooldownTimer`` 15000, settlement) carrying
   ``gameHistory`` — the previous games, newest first, as the server sends it on a
   transition (the session features come from there);
2. presale updates (``allowPreRoundBuys``) at ``presale_timers`` (ms left);
3. one active update per tick ``0..R-1`` (250 ms apart);
4. the rug update (``rugged: true``, still ``active``) at tick ``R`` with the rug price.

The simulator sends 150 cooldown updates (every 100 ms) and the core decides on each of
the 100 presale ones; training and evaluation send a few presale updates instead
(default 4) — the presale rule is the same on each (buys fill at 1.00x), so fewer of
them only removes redundant decision points. Train and evaluate with the same setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rugsd.daemon.events import FinishedGame, GameUpdate
from rugsd.daemon.game.rules import COOLDOWN_MS, TICK_MS

PRESALE_TIMERS: tuple[int, ...] = (10000, 7500, 5000, 2500)
"""Default presale updates (``cooldownTimer`` values, multiples of 100 ms as on the wire)."""

HISTORY_SIZE = 10
GAP_MS = 3000  # post-rug pause before the next game's cooldown starts (simulator-like)


@dataclass(frozen=True, slots=True, eq=False)
class GameSpec:
    """One complete game. ``prices[t]`` is the price at active tick ``t`` (float64);
    ``rug_tick == len(prices)``; ``start_ms`` the receive time of tick 0; ``source``
    says where it came from (``sim`` | ``recording`` | ``dataset``)."""

    game_id: str
    prices: np.ndarray
    rug_price: float
    start_ms: int
    source: str = "sim"

    @property
    def rug_tick(self) -> int:
        """The tick of the rug event (= number of active ticks)."""
        return int(self.prices.shape[0])

    @property
    def peak(self) -> float:
        """Highest active price."""
        return float(np.max(self.prices))

    @property
    def end_ms(self) -> int:
        """Receive time of the rug event."""
        return self.start_ms + self.rug_tick * TICK_MS


def finished_game(spec: GameSpec) -> FinishedGame:
    """The ``gameHistory`` entry of ``spec`` (prices incl. the rug price; no seed)."""
    full = (*spec.prices.tolist(), float(spec.rug_price))
    return FinishedGame(
        game_id=spec.game_id,
        timestamp_ms=spec.end_ms,
        peak=spec.peak,
        rugged=True,
        version="v3",
        prices=full,
        server_seed=None,
        server_seed_hash=None,
    )


def history_for(previous: Sequence[GameSpec]) -> tuple[FinishedGame, ...]:
    """``gameHistory`` after ``previous`` (oldest first in): the last 10, newest first."""
    return tuple(finished_game(g) for g in reversed(list(previous)[-HISTORY_SIZE:]))


def game_events(
    spec: GameSpec,
    history: tuple[FinishedGame, ...] = (),
    presale_timers: Sequence[int] = PRESALE_TIMERS,
) -> list[GameUpdate]:
    """The update sequence for one game (see the module docstring)."""
    gid = spec.game_id
    t0 = spec.start_ms
    events = [
        GameUpdate(ts_ms=t0 - COOLDOWN_MS, game_id=gid, active=False, rugged=False,
                   cooldown_ms=COOLDOWN_MS, allow_prebuys=False, history=history)
    ]
    for timer in presale_timers:
        events.append(
            GameUpdate(ts_ms=t0 - timer, game_id=gid, active=False, rugged=False,
                       cooldown_ms=int(timer), allow_prebuys=True)
        )
    prices = spec.prices.tolist()
    for t, p in enumerate(prices):
        events.append(
            GameUpdate(ts_ms=t0 + t * TICK_MS, game_id=gid, active=True, rugged=False,
                       cooldown_ms=0, price=p, tick=t)
        )
    r = len(prices)
    events.append(
        GameUpdate(ts_ms=t0 + r * TICK_MS, game_id=gid, active=True, rugged=True,
                   cooldown_ms=0, price=float(spec.rug_price), tick=r)
    )
    return events


def decision_count(spec: GameSpec, presale_timers: Sequence[int] = PRESALE_TIMERS) -> int:
    """How many times the core decides in this game (presale updates + active ticks)."""
    return len(presale_timers) + spec.rug_tick


def next_start_ms(spec: GameSpec) -> int:
    """A plausible start time for the game after ``spec`` (rug + pause + cooldown)."""
    return spec.end_ms + GAP_MS + COOLDOWN_MS
