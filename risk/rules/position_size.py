"""Gate rule ``position_size`` (a protection: on while listed in ``[risk] protections``): buys:
the open position's cost after the buy at most ``max_position``.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Buys: the open position's cost after the buy at most ``max_position``."""
    if intent.action is not Action.BUY:
        return None
    after = ctx.account.cost + intent.amount
    if after > ctx.limits.max_position:
        return refuse(intent, ctx, ReasonCode.MAX_POSITION,
                      f"position cost {after} > {ctx.limits.max_position} lamports")
    return None
