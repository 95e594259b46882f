"""The read-only view of the current game that the decision core and features consume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rugsd.daemon.events import Phase, SessionStats
from rugsd.daemon.fastinit import fast_init


@dataclass(frozen=True, slots=True)
class GameSummary:
    """A finished game, as far as session features need it."""

    game_id: str
    rug_tick: int  # number of ticks the game lasted (index of the rug price)
    peak: float


@fast_init
@dataclass(frozen=True, slots=True)
class GameView:
    """One consistent snapshot of the current game.

    ``prices`` is indexed by tick (``prices[t]`` is the price at tick ``t``) and holds
    only ticks up to ``tick``: nothing in a view can look at the future. Gaps from missed
    ticks are filled from ``partialPrices`` when possible, else carried forward.
    """

    game_id: str | None
    phase: Phase
    tick: int  # current tick; -1 before the game's first tick
    price: float  # latest price (1.0 during cooldown/presale)
    prices: Sequence[float]
    peak: float
    cooldown_ms: int
    allow_prebuys: bool
    ts_ms: int  # receive time of the latest event
    started_ts_ms: int | None = None  # receive time of tick 0 (None when joined mid-game)
    last_tick_ts_ms: int | None = None
    rug_tick: int | None = None
    rug_price: float | None = None
    stats: SessionStats | None = None
    recent: tuple[GameSummary, ...] = ()  # finished games, oldest first (bounded)
    server_seed_hash: str | None = None
    version: str | None = None
