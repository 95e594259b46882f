"""The risk gate: ``check(intent, ctx) -> Order | Refusal | None``. Pure and synchronous.

Called on every intent inside the decision core; it reads only its arguments (time is
``ctx.ts_ms``, the triggering event's time) and never raises on bad input: anything odd
becomes a ``Refusal`` with a ``ReasonCode``.

- ``WAIT`` returns ``None``: nothing to approve or refuse, nothing to journal as an order.
- Rules run in ``rugsd.risk.rules.rules_for`` order (the required rules, then
  ``[risk] protections``); the first refusal wins.
- HALTED by a stale feed lets nothing through (no fresh price to judge by; decisions
  only happen on a fresh tick, which lifts that halt first, so in practice it never
  blocks an exit). HALTED by an operator pause blocks entries but lets exits through: a
  pause stops new risk, and a position left to the rug is the costliest refusal. KILLED
  takes precedence over HALTED, so the flattening sell (SELL 100 %) passes while killed
  even with a stale feed or a pause: getting out is the point of a kill, and a sell the
  venue can no longer fill (game over) is harmless.
- An approved order does not change ``ctx``: the caller applies ``ctx.after(order)``.
"""

from __future__ import annotations

from collections import Counter

import structlog

from rugsd.daemon.game.accounting import Account
from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules import rules_for
from rugsd.risk.rules.common import is_flatten_sell
from rugsd.risk.states import RiskState
from rugsd.risk.verdicts import Order, Refusal, make_order_id
from rugsd.strategy.intents import Action, Intent

log = structlog.get_logger(__name__)

FLATTEN_SOURCE = "risk:flatten"

COUNTERS: Counter[str] = Counter()
"""Process-wide tallies for metrics (``gate_errors``: contexts the gate could not read)."""


def check(intent: Intent, ctx: GateContext) -> Order | Refusal | None:
    """Approve ``intent`` as an ``Order`` or refuse it; ``None`` for WAIT."""
    if intent.action is Action.WAIT:
        return None
    try:
        for rule in rules_for(ctx.limits.protections):
            refusal = rule(intent, ctx)
            if refusal is not None:
                return refusal
        return _order(intent, ctx)
    except Exception as err:  # noqa: BLE001 — a bug or bad context refuses, never crashes
        COUNTERS["gate_errors"] += 1
        log.error("risk gate error", error=repr(err), intent=repr(intent))
        return Refusal(intent, ReasonCode.INVALID_INTENT, f"gate error: {err!r}", ctx.ts_ms)


def _order(intent: Intent, ctx: GateContext) -> Order:
    view = ctx.view
    sell = intent.action is Action.SELL
    return Order(
        order_id=make_order_id(ctx.run_id, view.game_id, view.tick, ctx.order_seq),
        action=intent.action,
        amount=0 if sell else intent.amount,
        percentage=intent.percentage if sell else 0,
        game_id=view.game_id,
        tick=view.tick,
        ts_ms=ctx.ts_ms,
        price=view.price,
        source=intent.source,
        flatten=is_flatten_sell(intent, ctx),
    )


def flatten_intent(state: RiskState, account: Account) -> Intent | None:
    """The sell the shell must submit while killed or flattening, if a position is open.

    The decision core calls this each tick before asking the strategy; a non-None result
    replaces the strategy's intent and goes through ``check`` like any other.
    """
    if state.wants_flatten and account.qty > 0:
        return Intent(Action.SELL, percentage=100, source=FLATTEN_SOURCE)
    return None
