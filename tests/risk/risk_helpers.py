"""Builders shared by the risk tests: views, contexts, a live (fresh-feed) risk state."""

from __future__ import annotations

from dataclasses import replace

from rugsd.daemon.config import RiskConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account, open_account, sol_to_lamports
from rugsd.daemon.state.view import GameView
from rugsd.risk.context import GameCounters, GateContext, RiskLimits, SessionFigures
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.states import RiskState

T0 = 1_700_000_000_000  # an arbitrary event time (ms since the epoch)
GAME = "20250101-0123456789abcdef"
LIMITS = RiskLimits.from_config(RiskConfig())
SOL = 1_000_000_000


def view(phase: Phase = Phase.ACTIVE, tick: int = 10, price: float = 1.0,
         game_id: str | None = GAME, rug_tick: int | None = None,
         cooldown_ms: int = 0, ts_ms: int = T0) -> GameView:
    """A game view at ``phase``/``tick`` (presale/cooldown views sit at tick -1, price 1.0)."""
    if phase in (Phase.PRESALE, Phase.COOLDOWN, Phase.UNKNOWN):
        tick, price = -1, 1.0
        cooldown_ms = cooldown_ms or (5000 if phase is Phase.PRESALE else 12000)
    return GameView(
        game_id=game_id, phase=phase, tick=tick, price=price, prices=(price,), peak=price,
        cooldown_ms=cooldown_ms, allow_prebuys=phase is Phase.PRESALE, ts_ms=ts_ms,
        rug_tick=rug_tick,
    )


def live_state(**flags) -> RiskState:
    """A risk state with a fresh feed (ACTIVE unless flags say otherwise)."""
    return replace(RiskState(feed_stale=False, last_event_ms=T0), **flags)


def context(account: Account | None = None, state: RiskState | None = None,
            limits: RiskLimits = LIMITS, game_view: GameView | None = None,
            figures: SessionFigures | None = None, ts_ms: int = T0, **extra) -> GateContext:
    """A gate context: 10 SOL flat account, ACTIVE state, tick 10 at 1.0x, default limits."""
    account = account if account is not None else open_account(10 * SOL)
    figures = figures if figures is not None else SessionFigures.start(account.balance, ts_ms)
    return GateContext(
        state=state if state is not None else live_state(),
        limits=limits,
        account=account,
        view=game_view if game_view is not None else view(ts_ms=ts_ms),
        figures=figures,
        ts_ms=ts_ms,
        counters=extra.pop("counters", GameCounters(GAME)),
        orders=extra.pop("orders", RateWindow()),
        **extra,
    )


def lamports(sol: float) -> int:
    """SOL to lamports (as the accounting module converts)."""
    return sol_to_lamports(sol)
