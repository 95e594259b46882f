"""Gate rule ``order_rate`` (a protection: on while listed in ``[risk] protections``): at most
``max_orders_per_minute`` entries in any 60 s window; sells are exempt but counted.

A sell only reduces the position, so refusing it cannot protect the account: it leaves
the position to the rug (at the simulator's ``--speed 20`` the policy's exits were
refused this way). Sells stay bounded without the rate limit: one order in flight at a
time (``no_pending_order``) and only while holding (``sell_possible``).
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """At most ``max_orders_per_minute`` orders in any 60 s window for an entry; a sell
    (the flattening one included) is never refused here."""
    if intent.action is Action.SELL:
        return None
    if not ctx.orders.allows(ctx.ts_ms, ctx.limits.max_orders_per_minute):
        return refuse(intent, ctx, ReasonCode.RATE_LIMIT,
                      f"{ctx.orders.count(ctx.ts_ms)} orders in the last minute")
    return None
