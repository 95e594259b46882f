"""Gymnasium environment: one episode = one game, through the daemon's own decision core.

Each episode builds a fresh ``SteppedCore`` (``rugsd.training.core``) — the daemon's
``DecisionCore`` with its features, risk gate and paper venue (0 ms latency: an order
decided at tick t fills at tick t+1, as the simulator fills it) — and feeds it the
events ``rugsd.training.episodes.game_events`` synthesises for the next game of the data set
(the previous games arrive as ``gameHistory``, so the session features are live).

- Observation: the shared 40-float feature vector (``rugsd.strategy.features``) of the pending
  decision, exactly what the core hands its strategy.
- Actions: ``Discrete(8)`` from ``rugsd.strategy.actions``; ``action_masks()`` is the venue mask
  (``rugsd.strategy.actions.action_mask``), with SIDEBET also masked when ``allow_sidebet`` is
  False (a bundle whose sidebet model is unusable can never bet).
- Reward: change of ``accounting.equity`` (cash + position marked at the current price,
  in SOL) between decisions, plus ``-bankruptcy_penalty`` when equity falls below the
  minimum bet — nothing else. Over an episode the rewards sum to the accounting P&L.
- Termination: at the rug (the last event); truncation only when the data run out
  before a rug or after ``max_steps`` decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from rugsd.daemon.config import RiskConfig, StrategyConfig
from rugsd.daemon.core.decision import CoreSettings
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import MIN_BET_LAMPORTS, open_account, sol_to_lamports
from rugsd.risk.context import RiskLimits
from rugsd.strategy.actions import N_ACTIONS, SIDEBET_INDEX, ActionTable, action_mask
from rugsd.strategy.features import N_FEATURES
from rugsd.training.core import AgentStrategy, SteppedCore
from rugsd.training.episodes import PRESALE_TIMERS, GameSpec, game_events, history_for

START_BALANCE_SOL = 1.0
OBS_BOUND = 1e12  # every feature is finite and far inside this (prices are capped at 1e9)


def training_risk_config() -> RiskConfig:
    """Permissive but sane limits for training and backtests (no loss kill mid-run)."""
    return RiskConfig(
        max_bet_sol=0.05,
        max_position_sol=0.05,
        max_exposure_sol=0.1,
        min_balance_reserve_sol=0.0,
        max_orders_per_minute=600,
        max_sidebets_per_game=50,
        max_daily_loss_sol=1000.0,
        max_drawdown_sol=1000.0,
        entry_phases=["presale", "active"],
        entry_min_tick=0,
        entry_max_tick=5000,
        max_execution_errors=3,
    )


def core_settings(run_id: str = "train") -> CoreSettings:
    """Core settings for training/backtests: paper fills, 0 ms latency, no features kept."""
    return CoreSettings(
        run_id=run_id,
        limits=RiskLimits.from_config(training_risk_config()),
        order_prefix=run_id,
        paper_latency_ms=0,
        stale_after_ms=2000,
        keep_features=False,
    )


class RugsEnv(gym.Env):
    """One game per episode through the daemon's core (see the module docstring)."""

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(
        self,
        games: Sequence[GameSpec],
        *,
        strategy_cfg: StrategyConfig | None = None,
        start_balance_sol: float = START_BALANCE_SOL,
        allow_sidebet: bool = True,
        bankruptcy_penalty_sol: float = 1.0,
        presale_timers: Sequence[int] = PRESALE_TIMERS,
        max_steps: int = 10_000,
        shuffle: bool = True,
    ) -> None:
        """``games`` in session order (history comes from the preceding ones)."""
        if not games:
            raise ValueError("RugsEnv needs at least one game")
        self.games = list(games)
        self.table = ActionTable.from_config(strategy_cfg or StrategyConfig(), source="agent")
        self.start_balance = sol_to_lamports(start_balance_sol)
        self.allow_sidebet = allow_sidebet
        self.penalty = bankruptcy_penalty_sol
        self.presale_timers = tuple(presale_timers)
        self.max_steps = max_steps
        self.shuffle = shuffle
        self.observation_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, (N_FEATURES,), np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self.settings = core_settings()
        self._order = np.arange(len(self.games))
        self._cursor = 0
        self.game: GameSpec | None = None
        self.core: SteppedCore | None = None
        self.agent = AgentStrategy(self.table)
        self._events: list = []
        self._next = 0
        self._equity = 0
        self._steps = 0
        self._mask = np.ones(N_ACTIONS, dtype=bool)

    # -- episode plumbing ----------------------------------------------------------------

    def _pick(self) -> int:
        if self._cursor >= len(self._order):
            self._cursor = 0
            if self.shuffle:
                self.np_random.shuffle(self._order)
        i = int(self._order[self._cursor])
        self._cursor += 1
        return i

    def _advance(self) -> bool:
        """Feed events until a decision is pending (True) or the events run out."""
        core = self.core
        events = self._events
        while self._next < len(events):
            ev = events[self._next]
            self._next += 1
            if core.feed(ev):
                return True
        return False

    def _equity_now(self) -> int:
        core = self.core
        return accounting.equity(core.account, core.view.price)

    def _obs(self) -> np.ndarray:
        return self.core.observation().copy()

    def _info(self) -> dict[str, Any]:
        core = self.core
        return {
            "game_id": self.game.game_id if self.game else None,
            "tick": core.view.tick,
            "phase": core.view.phase.value,
            "equity": self._equity,
            "action_mask": self.action_masks(),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start the next game (``options={"game_index": i}`` picks one)."""
        super().reset(seed=seed)
        if seed is not None:
            self._order = np.arange(len(self.games))
            self._cursor = len(self._order)  # reshuffle with the new seed
        idx = (options or {}).get("game_index")
        i = int(idx) if idx is not None else self._pick()
        self.game = self.games[i]
        history = history_for(self.games[max(0, i - 10) : i])
        self._events = game_events(self.game, history, self.presale_timers)
        self._next = 0
        self._steps = 0
        self.agent = AgentStrategy(self.table)
        self.core = SteppedCore(self.agent, self.settings, open_account(self.start_balance))
        if not self._advance():  # a game with no decision point cannot happen
            raise RuntimeError(f"game {self.game.game_id} produced no decision")
        self._equity = self._equity_now()
        return self._obs(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply ``action`` at the pending decision; run to the next one."""
        if self.core is None or not self.core.pending:
            raise RuntimeError("call reset() first")
        self.agent.next_action = int(action)
        self.core.complete()
        self._steps += 1
        more = self._advance()
        equity = self._equity_now()
        reward = (equity - self._equity) / accounting.LAMPORTS_PER_SOL
        self._equity = equity
        terminated = False
        truncated = False
        if equity < MIN_BET_LAMPORTS and self.core.account.sidebet is None:
            reward -= self.penalty
            terminated = True
        elif not more:
            terminated = self.core.view.rug_tick is not None
            truncated = not terminated
        elif self._steps >= self.max_steps:
            truncated = True
        if more:
            obs = self._obs()
        else:  # final observation: the features at the rug (never acted on)
            obs = self.core.builder.build(self.core.view, self.core.account).copy()
        return obs, float(reward), terminated, truncated, self._info()

    def action_masks(self) -> np.ndarray:
        """Valid actions at the pending decision (venue rules, sidebet policy)."""
        core = self.core
        if core is None:
            return np.ones(N_ACTIONS, dtype=bool)
        mask = action_mask(core.view, core.account, self.table, out=self._mask).copy()
        if not self.allow_sidebet:
            mask[SIDEBET_INDEX] = False
        return mask

    @property
    def start_equity(self) -> int:
        """Equity at the start of every episode (lamports)."""
        return self.start_balance
