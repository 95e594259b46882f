"""What the risk gate looks at: limits in lamports, session figures, per-game counters.

The limits and figures live in the leaf ``rugsd.risk.values`` (re-exported here). All
values are frozen; the caller (the decision core) builds a ``GateContext`` per
intent and keeps the figures/counters/rate window up to date with the helpers here.
Money is integer lamports throughout (``rugsd.daemon.game.accounting``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rugsd.daemon.fastinit import fast_init
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.state.view import GameView
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.states import RiskState
from rugsd.risk.values import DAY_MS, RiskLimits, SessionFigures
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

__all__ = ["DAY_MS", "GameCounters", "GateContext", "RiskLimits", "SessionFigures"]

@fast_init
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


# frozen values: one shared default each is safe (and lets ``fast_init`` build contexts)
_NO_COUNTERS = GameCounters()
_NO_ORDERS = RateWindow()


@fast_init
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
    counters: GameCounters = _NO_COUNTERS
    orders: RateWindow = _NO_ORDERS
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
