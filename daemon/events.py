"""Internal events: the typed, validated form of everything that enters the decision core.

Wire payloads (pydantic, tolerant) are converted into these frozen dataclasses at the
edge (`rugsd.daemon.protocol`, replay sources). The core never sees raw dicts. Time enters the
core only through ``ts_ms`` (receive time, ms since the epoch), which keeps replays
deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rugsd.daemon.fastinit import fast_init


class Phase(StrEnum):
    """Phase of the current game as seen by the state machine."""

    UNKNOWN = "unknown"  # nothing seen yet (fresh connect before the first usable event)
    COOLDOWN = "cooldown"  # settlement: cooldownTimer in (10000, 15000]
    PRESALE = "presale"  # cooldownTimer in (0, 10000] and allowPreRoundBuys
    ACTIVE = "active"  # ticking
    RUGGED = "rugged"  # rug event seen, waiting for the next game


@fast_init
@dataclass(frozen=True, slots=True)
class SessionStats:
    """Room-wide statistics carried by active-phase gameStateUpdate events."""

    average_multiplier: float | None = None
    count2x: int | None = None
    count10x: int | None = None
    count50x: int | None = None
    count100x: int | None = None


@dataclass(frozen=True, slots=True)
class FinishedGame:
    """One entry of ``gameHistory``: a finished game, seed revealed."""

    game_id: str
    timestamp_ms: int | None
    peak: float
    rugged: bool
    version: str | None
    prices: tuple[float, ...] | None  # full array incl. the rug price as last element
    server_seed: str | None
    server_seed_hash: str | None


@fast_init
@dataclass(frozen=True, slots=True)
class GameUpdate:
    """A ``gameStateUpdate`` (or a replayed tick line) in validated form."""

    ts_ms: int
    game_id: str
    active: bool
    rugged: bool
    cooldown_ms: int
    allow_prebuys: bool = False
    price: float | None = None
    tick: int | None = None
    trade_count: int | None = None
    # partialPrices.values as sorted (tick, price) pairs; lets the machine fill gaps
    partial_prices: tuple[tuple[int, float], ...] = ()
    # full price history for a mid-game connect (``prices`` on the first event)
    backfill: tuple[float, ...] | None = None
    stats: SessionStats | None = None
    history: tuple[FinishedGame, ...] = ()
    server_seed_hash: str | None = None
    version: str | None = None
    connected_players: int | None = None


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """``standard/newTrade``: one player's trade. Amount/qty in SOL and tokens (floats)."""

    ts_ms: int
    trade_id: str
    game_id: str
    player_id: str
    username: str | None
    type: str  # buy | sell | short_open | short_close
    price: float
    qty: float
    tick: int
    amount: float
    coin: str | None = None


@dataclass(frozen=True, slots=True)
class SidebetEvent:
    """``newSideBet``: one player's sidebet placement (or its result)."""

    ts_ms: int
    player_id: str
    game_id: str
    username: str | None
    bet_amount: float
    x_payout: float
    start_tick: int
    end_tick: int
    tick: int | None
    price: float | None
    type: str  # placed | won | lost


@dataclass(frozen=True, slots=True)
class PlayerUpdate:
    """``playerUpdate``: the logged-in player's balance and position as the venue sees it."""

    ts_ms: int
    player_id: str | None
    game_id: str | None
    cash: float
    position_qty: float
    avg_cost: float
    total_invested: float
    pnl: float | None = None


Event = GameUpdate | TradeEvent | SidebetEvent | PlayerUpdate
