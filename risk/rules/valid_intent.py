"""Gate rule ``valid_intent`` (always on): known action; entries carry a positive integer lamport
amount.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Known action; entries carry a positive integer lamport amount."""
    if not isinstance(intent.action, Action) or intent.action is Action.WAIT:
        return refuse(intent, ctx, ReasonCode.INVALID_INTENT, f"action {intent.action!r}")
    if intent.is_entry:
        amount = intent.amount
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return refuse(intent, ctx, ReasonCode.INVALID_INTENT, f"amount {amount!r}")
    return None
