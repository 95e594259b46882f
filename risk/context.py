"""What the risk gate looks at: limits in lamports, session figures, per-game counters.

All values are frozen; the caller (the decision core) builds a ``GateContext`` per
intent and keeps the figures/counters/rate window up to date with the helpers here.
Money is integer lamports throughout (``rugsd.daemon.game.accounting``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rugsd.daemon.config import RiskConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account, sol_to_lamports
from rugsd.daemon.state.view import GameView
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.states import RiskState
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

DAY_MS = 86_400_000

_PHASES = {"presale": Phase.PRESALE, "active": Phase.ACTIVE}


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """``Settings.risk`` converted once to lamports and enums."""

    max_bet: int
    max_position: int
    max_exposure: int
    min_balance_reserve: int
    max_orders_per_minute: int
    max_sidebets_per_game: int
    max_daily_loss: int
    max_drawdown: int
    entry_phases: frozenset[Phase]
    entry_min_tick: int
    entry_max_tick: int
    max_execution_errors: int
    presale_cutoff_ms: int = 0

    @classmethod
    def from_config(cls, cfg: RiskConfig) -> RiskLimits:
        """Convert the configured SOL limits to lamports."""
        return cls(
            max_bet=sol_to_lamports(cfg.max_bet_sol),
            max_position=sol_to_lamports(cfg.max_position_sol),
            max_exposure=sol_to_lamports(cfg.max_exposure_sol),
            min_balance_reserve=sol_to_lamports(cfg.min_balance_reserve_sol),
            max_orders_per_minute=cfg.max_orders_per_minute,
            max_sidebets_per_game=cfg.max_sidebets_per_game,
            max_daily_loss=sol_to_lamports(cfg.max_daily_loss_sol),
            max_drawdown=sol_to_lamports(cfg.max_drawdown_sol),
            entry_phases=frozenset(_PHASES[p] for p in cfg.entry_phases),
            entry_min_tick=cfg.entry_min_tick,
            entry_max_tick=cfg.entry_max_tick,
            max_execution_errors=cfg.max_execution_errors,
            presale_cutoff_ms=cfg.presale_cutoff_ms,
        )


@dataclass(frozen=True, slots=True)
class SessionFigures:
    """Equity figures (lamports) for the loss limits.

    ``equity`` is ``accounting.equity(account, price)``: cash plus the position marked at
    the current price (an open sidebet's stake is already spent). ``day`` is the UTC day
    index (``ts_ms // DAY_MS``) that ``day_start_equity`` belongs to. Deposits are not
    told apart from gains (none happen while the daemon trades).
    """

    start_equity: int
    peak_equity: int
    day_start_equity: int
    equity: int
    day: int

    @classmethod
    def start(cls, equity: int, ts_ms: int) -> SessionFigures:
        """Figures at the start of a session."""
        return cls(equity, equity, equity, equity, ts_ms // DAY_MS)

    def observe(self, equity: int, ts_ms: int) -> SessionFigures:
        """New equity at ``ts_ms``: raise the peak, roll the day at UTC midnight.

        A new day starts from the last equity seen before midnight.
        """
        day = ts_ms // DAY_MS
        day_start = self.equity if day > self.day else self.day_start_equity
        return SessionFigures(
            self.start_equity, max(self.peak_equity, equity), day_start, equity, max(day, self.day)
        )

    @property
    def daily_loss(self) -> int:
        """Lamports lost since the day started (negative when up)."""
        return self.day_start_equity - self.equity

    @property
    def drawdown(self) -> int:
        """Lamports below the session peak (>= 0)."""
        return self.peak_equity - self.equity


@dataclass(frozen=True, slots=True)
class GameCounters:
    """Per-game tallies of approved orders (reset when the game id changes)."""

    game_id: str | None = None
    sidebets: int = 0
    bought: int = 0  # lamports of approved buys this game (informational)

    def for_game(self, game_id: str | None) -> GameCounters:
        """These counters if they belong to ``game_id``, else fresh ones (never stale)."""
        return self if game_id == self.game_id else GameCounters(game_id)

    def after(self, order: Order) -> GameCounters:
        """The counters once ``order`` was approved."""
        base = self.for_game(order.game_id)
        if order.action is Action.SIDEBET:
            return replace(base, sidebets=base.sidebets + 1)
        if order.action is Action.BUY:
            return replace(base, bought=base.bought + order.amount)
        return base


@dataclass(frozen=True, slots=True)
class GateContext:
    """Everything ``rugsd.risk.gate.check`` reads. ``ts_ms`` is the triggering event's time.

    ``order_seq`` is the run's order counter (it makes order ids unique); ``pending`` the
    number of orders sent but not yet filled or refused by the venue.
    """

    state: RiskState
    limits: RiskLimits
    account: Account
    view: GameView
    figures: SessionFigures
    ts_ms: int
    counters: GameCounters = field(default_factory=GameCounters)
    orders: RateWindow = field(default_factory=RateWindow)
    run_id: str = "run"
    order_seq: int = 0
    pending: int = 0

    def after(self, order: Order) -> GateContext:
        """Bookkeeping once ``order`` was approved and handed to the executor."""
        return replace(
            self,
            counters=self.counters.after(order),
            orders=self.orders.record(order.ts_ms),
            order_seq=self.order_seq + 1,
            pending=self.pending + 1,
        )
