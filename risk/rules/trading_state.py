"""Gate rule ``trading_state`` (always on): aCTIVE: all; REDUCING: exits; HALTED: nothing while
the feed is stale, exits only
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.states import TradingState
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """ACTIVE: all; REDUCING: exits; HALTED: nothing while the feed is stale, exits only
    while paused by the operator or halted for venue integrity; KILLED: the flattening
    sell only."""
    state = ctx.state
    current = state.trading_state
    if current is TradingState.ACTIVE:
        return None
    if current is TradingState.HALTED:
        if state.feed_stale:
            why = ", ".join(n for n, on in (("feed stale", True),
                                            ("operator pause", state.operator_paused),
                                            ("venue integrity", state.venue_halted)) if on)
            return refuse(intent, ctx, ReasonCode.STATE_HALTED, why)
        # an operator pause or a venue-integrity halt blocks new risk, never the way out:
        # a position left to the rug is the costliest refusal
        if intent.is_entry:
            why = ", ".join(n for n, on in (("operator pause", state.operator_paused),
                                            ("venue integrity", state.venue_halted)) if on)
            return refuse(intent, ctx, ReasonCode.STATE_HALTED, f"{why}: exits only")
        return None
    if current is TradingState.REDUCING:
        if intent.is_entry:
            return refuse(intent, ctx, ReasonCode.STATE_REDUCING, "exits only")
        return None
    if intent.action is Action.SELL and intent.percentage == 100:
        return None
    return refuse(intent, ctx, ReasonCode.STATE_KILLED, "only the 100 % flattening sell")
