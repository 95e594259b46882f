"""Gate rule ``order_rate`` (a protection: on while listed in ``[risk] protections``): at most
``max_orders_per_minute`` in any 60 s window; the flattening sell is exempt.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import is_flatten_sell, refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """At most ``max_orders_per_minute`` in any 60 s window; the flattening sell is exempt."""
    if is_flatten_sell(intent, ctx):
        return None
    if not ctx.orders.allows(ctx.ts_ms, ctx.limits.max_orders_per_minute):
        return refuse(intent, ctx, ReasonCode.RATE_LIMIT,
                      f"{ctx.orders.count(ctx.ts_ms)} orders in the last minute")
    return None
