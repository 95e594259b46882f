"""Gate rule ``sidebet_free`` (always on): sidebets: one at a time
(``accounting.can_place_sidebet``).
"""

from __future__ import annotations

from rugsd.daemon.game.accounting import can_place_sidebet
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse, sidebet_tick
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Sidebets: one at a time (``accounting.can_place_sidebet``)."""
    if intent.action is not Action.SIDEBET:
        return None
    tick = sidebet_tick(ctx)
    if not can_place_sidebet(ctx.account, tick):
        return refuse(intent, ctx, ReasonCode.SIDEBET_OPEN,
                      f"open until tick {ctx.account.sidebet.end_tick}")
    return None
