"""Gate rule ``sidebets_per_game`` (a protection: on while listed in ``[risk] protections``): at
most ``max_sidebets_per_game`` sidebets approved in this game.
"""

from __future__ import annotations

from rugsd.risk.context import GateContext
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.rules.common import refuse
from rugsd.risk.verdicts import Refusal
from rugsd.strategy.intents import Action, Intent


def check(intent: Intent, ctx: GateContext) -> Refusal | None:
    """At most ``max_sidebets_per_game`` sidebets approved in this game."""
    if intent.action is not Action.SIDEBET:
        return None
    placed = ctx.counters.for_game(ctx.view.game_id).sidebets
    if placed >= ctx.limits.max_sidebets_per_game:
        return refuse(intent, ctx, ReasonCode.MAX_SIDEBETS_PER_GAME,
                      f"{placed} of {ctx.limits.max_sidebets_per_game} this game")
    return None
