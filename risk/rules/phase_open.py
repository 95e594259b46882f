"""Gate rule ``phase_open`` (always on): entries in presale or the live game; sells only in the
live game.
"""

from __future__ import annotations

from rugsd.daemon.events import Phase
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def _after_rug(ctx: GateContext) -> bool:
    view = ctx.view
    return view.phase is Phase.RUGGED or (view.phase is Phase.ACTIVE and view.rug_tick is not None)


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Entries in presale or the live game; sells only in the live game."""
    phase = ctx.view.phase
    if intent.action is Action.SELL:
        if phase is not Phase.ACTIVE or _after_rug(ctx):
            return refuse(intent, ctx, ReasonCode.SELL_OUTSIDE_ACTIVE, f"phase {phase}")
        return None
    if _after_rug(ctx):
        return refuse(intent, ctx, ReasonCode.ENTRY_AFTER_RUG, f"rugged at {ctx.view.rug_tick}")
    if phase is Phase.COOLDOWN:
        return refuse(intent, ctx, ReasonCode.SETTLEMENT_COOLDOWN,
                      f"cooldown {ctx.view.cooldown_ms} ms")
    return None
