"""A risk rule of your own in one file: the worked example of docs/architecture.md.

At most ``[risk."max_buys_per_game"] buys`` approved buys per game (the gate's per-game
counters count the lamports bought, so this counts buys by their ``bet_sol`` size).
Enabled by listing ``"max_buys_per_game"`` in ``[risk] protections``.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """Refuse a buy once this game's approved buys reach ``buys`` × the intent's size."""
    if intent.action is not Action.BUY:
        return None
    allowed = int(ctx.limits.params("max_buys_per_game").get("buys", 1))
    bought = ctx.counters.for_game(ctx.view.game_id).bought
    if bought >= allowed * intent.amount:
        return refuse(intent, ctx, ReasonCode.MAX_POSITION,
                      f"max_buys_per_game: {allowed} buy(s) this game already")
    return None
