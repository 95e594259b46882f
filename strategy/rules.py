"""Rule-based baseline strategies (``strategy.name`` = ``presale_target`` | ``never``)."""

from __future__ import annotations

import numpy as np

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import MIN_BET_LAMPORTS, Account, sol_to_lamports
from rugsd.daemon.state.view import GameView
from rugsd.strategy.actions import ActionTable, mask_values
from rugsd.strategy.base import Decision
from rugsd.strategy.features import FEATURE_INDEX
from rugsd.strategy.intents import WAIT, Action, Intent

_WAIT = Decision(WAIT)

# A sell that has not filled after this many ticks is asked for again (a refused or
# lost order must not leave the position open until the rug).
SELL_RETRY_TICKS = 4
_PENDING = FEATURE_INDEX["order_pending"]
_RATE = FEATURE_INDEX["rate_budget_frac"]
_ENTRY_OPEN = FEATURE_INDEX["entry_open"]
_ROOM = FEATURE_INDEX["buy_room_frac"]


class NeverStrategy:
    """Always waits (a dry run of the whole pipeline, and the zero-P&L baseline)."""

    name = "never"

    def decide(
        self, view: GameView, account: Account, features: np.ndarray | None = None
    ) -> Decision:
        """WAIT, always."""
        return _WAIT


class PresaleTargetStrategy:
    """Buy ``bet_sol`` once per game in presale; sell 100 % at a target or a time limit.

    - Buy: phase PRESALE, flat, balance ≥ bet, and no buy asked for this game yet (the
      fill arrives later; asking once per game avoids stacking buys meanwhile).
    - Sell 100 %: phase ACTIVE, holding, and price ≥ ``target_multiple`` × average entry
      or ``tick - entry_tick`` ≥ ``max_hold_ticks``. Repeated every ``SELL_RETRY_TICKS``
      ticks while still holding.
    - It does not lean on the risk gate: with the core's feature vector at hand it asks
      for nothing the gate would refuse for a reason the vector shows — no order while
      one is in flight or the orders-per-minute budget is used up, no buy outside the
      entry window or without room in the limits (``rugsd.strategy.features``). It
      asks again at a later decision instead.
    """

    name = "presale_target"

    def __init__(self, cfg: StrategyConfig) -> None:
        """Take bet size, target multiple and hold limit from ``Settings.strategy``."""
        self.bet = sol_to_lamports(cfg.bet_sol)
        self.target = cfg.target_multiple
        self.max_hold = cfg.max_hold_ticks
        self._buy = Decision(Intent(Action.BUY, amount=self.bet, source="presale_target:buy"))
        self._sell_target = Decision(
            Intent(Action.SELL, percentage=100, source="presale_target:target")
        )
        self._sell_time = Decision(
            Intent(Action.SELL, percentage=100, source="presale_target:max_hold")
        )
        self._bought_game: str | None = None
        self._sell_game: str | None = None
        self._sell_tick = 0

    def decide(
        self, view: GameView, account: Account, features: np.ndarray | None = None
    ) -> Decision:
        """The rule for this tick."""
        phase = view.phase
        if features is not None and (features[_PENDING] > 0 or features[_RATE] <= 0):
            return _WAIT  # the gate would refuse any order now
        if phase == Phase.PRESALE:
            if (
                account.qty == 0
                and view.game_id != self._bought_game
                and MIN_BET_LAMPORTS <= self.bet <= account.balance
                and (features is None or (features[_ENTRY_OPEN] > 0 and features[_ROOM] > 0))
            ):
                self._bought_game = view.game_id
                return self._buy
            return _WAIT
        if phase != Phase.ACTIVE or account.qty <= 0:
            return _WAIT
        if view.game_id == self._sell_game and view.tick - self._sell_tick < SELL_RETRY_TICKS:
            return _WAIT  # a sell is in flight
        entry = account.avg_entry
        if entry > 0 and view.price >= self.target * entry:
            decision = self._sell_target
        elif account.entry_tick is not None and view.tick - account.entry_tick >= self.max_hold:
            decision = self._sell_time
        else:
            return _WAIT
        self._sell_game, self._sell_tick = view.game_id, view.tick
        return decision


class RandomStrategy:
    """Uniformly random valid action at every decision (seeded, deterministic)."""

    name = "random"

    def __init__(self, cfg: StrategyConfig, seed: int = 0, allow_sidebet: bool = True) -> None:
        """Sizes from ``cfg``; ``allow_sidebet=False`` never picks SIDEBET."""
        self.table = ActionTable.from_config(cfg, source="random")
        self.rng = np.random.default_rng(seed)
        self.allow_sidebet = allow_sidebet

    def decide(self, view: GameView, account: Account,
               features: np.ndarray | None = None) -> Decision:
        """A random valid action."""
        valid = mask_values(view, account, self.table)
        if not self.allow_sidebet:
            valid[-1] = False
        choices = [i for i, v in enumerate(valid) if v]
        return Decision(self.table.intents[int(self.rng.choice(choices))])
