"""Gate rule ``exposure`` (a protection: on while listed in ``[risk] protections``): open
position cost + open sidebet stake after the entry at most ``max_exposure``.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import open_stake, refuse, sidebet_tick
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Open position cost + open sidebet stake after the entry at most ``max_exposure``."""
    if not intent.is_entry:
        return None
    acct = ctx.account
    if intent.action is Action.BUY:
        after = acct.cost + intent.amount + open_stake(acct, sidebet_tick(ctx))
    else:  # a new sidebet replaces an expired one (sidebet_free checked it)
        after = acct.cost + intent.amount
    if after > ctx.limits.max_exposure:
        return refuse(intent, ctx, ReasonCode.MAX_EXPOSURE,
                      f"exposure {after} > {ctx.limits.max_exposure} lamports")
    return None
