"""Gate rule ``balance_reserve`` (a protection: on while listed in ``[risk] protections``): the
balance after the entry stays at or above ``min_balance_reserve``.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """The balance after the entry stays at or above ``min_balance_reserve``."""
    if not intent.is_entry:
        return None
    after = ctx.account.balance - intent.amount
    if after < ctx.limits.min_balance_reserve:
        return refuse(intent, ctx, ReasonCode.BALANCE_RESERVE,
                      f"balance after {after} < reserve {ctx.limits.min_balance_reserve}")
    return None
