"""Gate rule ``stake_fundable`` (always on): entries: at least the venue's minimum bet, and no
more than the balance.
"""

from __future__ import annotations

from rugsd.daemon.game.accounting import MIN_BET_LAMPORTS
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Entries: at least the venue's minimum bet, and no more than the balance."""
    if not intent.is_entry:
        return None
    if intent.amount < MIN_BET_LAMPORTS:
        return refuse(intent, ctx, ReasonCode.BELOW_MIN_BET,
                      f"{intent.amount} < {MIN_BET_LAMPORTS} lamports")
    if intent.amount > ctx.account.balance:
        return refuse(intent, ctx, ReasonCode.INSUFFICIENT_BALANCE,
                      f"{intent.amount} > balance {ctx.account.balance}")
    return None
