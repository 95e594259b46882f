"""Gate rule ``bet_size`` (a protection: on while listed in ``[risk] protections``): one buy or
sidebet stake at most ``max_bet``.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """One buy or sidebet stake at most ``max_bet``."""
    if intent.is_entry and intent.amount > ctx.limits.max_bet:
        return refuse(intent, ctx, ReasonCode.MAX_BET,
                      f"{intent.amount} > {ctx.limits.max_bet} lamports")
    return None
