"""A third-party strategy in one file: the worked example of docs/architecture.md.

It buys ``bet_sol`` in each game's presale and sells everything at active tick
``exit_tick``. Its parameters come from ``[strategy.early_exit]``; it registers through
the ``rugsd.strategies`` entry point group (``SPEC``) and is a baseline of evaluations.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account, sol_to_lamports
from rugsd.daemon.state.view import GameView
from rugsd.strategy.base import Decision
from rugsd.strategy.intents import WAIT, Action, Intent
from rugsd.strategy.registry import StrategyContext, StrategySpec


class EarlyExitParams(BaseModel):
    """``[strategy.early_exit]``."""

    model_config = ConfigDict(extra="forbid")

    bet_sol: float = Field(0.002, gt=0)
    exit_tick: int = Field(5, ge=1)


class EarlyExitStrategy:
    """Buy in presale, sell 100 % at ``exit_tick``."""

    name = "early_exit"

    def __init__(self, params: EarlyExitParams) -> None:
        self.buy = Decision(Intent(Action.BUY, sol_to_lamports(params.bet_sol),
                                   source="early_exit:buy"))
        self.sell = Decision(Intent(Action.SELL, percentage=100, source="early_exit:sell"))
        self.exit_tick = params.exit_tick
        self.bought: str | None = None

    def decide(self, view: GameView, account: Account, features: Any = None) -> Decision:
        if view.phase is Phase.PRESALE and account.qty == 0 and self.bought != view.game_id:
            self.bought = view.game_id
            return self.buy
        if view.phase is Phase.ACTIVE and account.qty > 0 and view.tick >= self.exit_tick:
            return self.sell
        return Decision(WAIT)


def _build(ctx: StrategyContext) -> EarlyExitStrategy:
    assert isinstance(ctx.params, EarlyExitParams)
    return EarlyExitStrategy(ctx.params)


SPEC = StrategySpec("early_exit", _build, baseline="early_exit", params=EarlyExitParams)
