"""Gate rule ``sell_possible`` (always on): sells: a UI percentage, and a position that the
percentage does not round to 0.
"""

from __future__ import annotations

from rugsd.daemon.game.rules import SELL_PERCENTAGES
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Sells: a UI percentage, and a position that the percentage does not round to 0."""
    if intent.action is not Action.SELL:
        return None
    if intent.percentage not in SELL_PERCENTAGES:
        return refuse(intent, ctx, ReasonCode.BAD_SELL_PERCENTAGE,
                      f"{intent.percentage} not in {SELL_PERCENTAGES}")
    qty = ctx.account.qty
    if qty <= 0 or qty * intent.percentage // 100 <= 0:
        return refuse(intent, ctx, ReasonCode.NO_POSITION, f"position {qty}")
    return None
