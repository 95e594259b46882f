"""Gate rule ``price_sane`` (always on): the view's price is finite (and > 0 for buys in the live
game).
"""

from __future__ import annotations

import math

from rugsd.daemon.events import Phase
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """The view's price is finite (and > 0 for buys in the live game)."""
    price = ctx.view.price
    if not math.isfinite(price) or price < 0:
        return refuse(intent, ctx, ReasonCode.BAD_PRICE, f"price {price!r}")
    if intent.action is Action.BUY and ctx.view.phase is Phase.ACTIVE and price <= 0:
        return refuse(intent, ctx, ReasonCode.BAD_PRICE, f"price {price!r}")
    return None
