"""Gate rule ``no_pending_order`` (always on): one order in flight at a time: the account does
not yet show a pending fill.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """One order in flight at a time: the account does not yet show a pending fill."""
    if ctx.pending > 0:
        return refuse(intent, ctx, ReasonCode.ORDER_PENDING, f"{ctx.pending} order(s) in flight")
    return None
