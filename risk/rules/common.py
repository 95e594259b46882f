"""What the gate's rules share: the refusal, the flatten test, the sidebet tick."""

from __future__ import annotations

from rugsd.daemon.game.accounting import Account
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def refuse(intent: Intent, ctx: GateContext, reason: ReasonCode, detail: str) -> Refusal:
    """The refusal of ``intent`` for ``reason`` at the context's time."""
    return Refusal(intent, reason, detail, ctx.ts_ms)


def is_flatten_sell(intent: Intent, ctx: GateContext) -> bool:
    """The risk shell's own exit: SELL 100 % while killed or an operator flatten is pending."""
    return (
        intent.action is Action.SELL
        and intent.percentage == 100
        and ctx.state.wants_flatten
    )


def sidebet_tick(ctx: GateContext) -> int:
    """The tick a sidebet placed now starts at (presale sidebets start at tick 0)."""
    return max(ctx.view.tick, 0)


def open_stake(acct: Account, tick: int) -> int:
    """Stake of a sidebet that can still win at ``tick`` (an expired one is already lost)."""
    bet = acct.sidebet
    return bet.stake if bet is not None and tick < bet.end_tick else 0
