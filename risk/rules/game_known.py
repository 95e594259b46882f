"""Gate rule ``game_known`` (always on): a game id and a known phase."""

from __future__ import annotations

from rugsd.daemon.events import Phase
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """A game id and a known phase."""
    if ctx.view.game_id is None:
        return refuse(intent, ctx, ReasonCode.NO_GAME, "no game id yet")
    if ctx.view.phase is Phase.UNKNOWN:
        return refuse(intent, ctx, ReasonCode.PHASE_UNKNOWN, "phase unknown")
    return None
