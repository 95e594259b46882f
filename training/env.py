"""Gymnasium environment: one episode = one game, through the daemon's own decision core.

Each episode builds a fresh ``SteppedCore`` (``rugsd.training.core``) — the daemon's
``DecisionCore`` with its features, risk gate and paper venue (the configured latency: an
order decided at tick t fills at the first tick after its latency, presale buys at once
at 1.00x, as the simulator fills them) — and feeds it the game's event stream
(``rugsd.training.episodes.game_events``: a recorded game's recorded events, a simulated
game the simulator's, at the real cadence — 41 presale decisions, one per tick).

Config-conditioned (``LimitSampler``): the policy's inputs carry its limits and budgets
as fractions (``rugsd.strategy.features``), so each episode draws its own account size
(log-uniform 0.03–300 SOL) and, half of the time, risk limits around the daemon's
``[risk]`` (size limits scaled together by 0.1–10×, rate, sidebet, tick-window and
presale cut-off varied); the other half trades under the daemon's ``[risk]`` exactly.
Some episodes also start with part of the loss budgets used, with orders already in the
rate window (a busy session, or the simulator at ``--speed`` N whose minutes are short)
or with a paper latency of up to 1.5 s (orders stay in flight: the policy must count
them as position). Evaluation and promotion never randomise: they
run the daemon's configuration (``rugsd.training.backtest``).

- Observation: the shared feature vector of the pending decision, exactly what the core
  hands its strategy.
- Actions: ``Discrete(8)`` from ``rugsd.strategy.actions``; ``action_masks()`` is the venue mask
  (``rugsd.strategy.actions.action_mask``), with SIDEBET also masked when ``allow_sidebet`` is
  False (a bundle whose sidebet model is unusable can never bet).
- Reward: change of ``accounting.equity`` (cash + position marked at the current price,
  in SOL) between decisions, minus ``refusal_penalty_sol`` when the risk gate refused
  the action (a policy must not lean on the gate), minus ``bankruptcy_penalty`` when
  equity falls below the minimum bet.
- Termination: at the rug; truncation only when the data run out before a rug or after
  ``max_steps`` decisions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from rugsd.daemon.config import RiskConfig, StrategyConfig
from rugsd.daemon.core.decision import CoreSettings
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import MIN_BET_LAMPORTS, open_account, sol_to_lamports
from rugsd.daemon.journal.records import DecisionRecord
from rugsd.risk.context import DAY_MS, RiskLimits, SessionFigures
from rugsd.risk.ratelimit import RateWindow
from rugsd.strategy.actions import N_ACTIONS, SIDEBET_INDEX, ActionTable, action_mask
from rugsd.strategy.features import N_FEATURES
from rugsd.training.core import AgentStrategy, SteppedCore
from rugsd.training.episodes import GameSpec, game_events, history_for, seed_core

START_BALANCE_SOL = 1.0
OBS_BOUND = 1e12  # every feature is finite and far inside this (prices are capped at 1e9)
REFUSAL_PENALTY_SOL = 0.0005


def core_settings(run_id: str = "train", limits: RiskLimits | None = None,
                  latency_ms: int = 0) -> CoreSettings:
    """Core settings for training: paper fills, ``limits`` (default ``[risk]``), no
    features kept in the records."""
    return CoreSettings(
        run_id=run_id,
        limits=limits if limits is not None else RiskLimits.from_config(RiskConfig()),
        order_prefix=run_id,
        paper_latency_ms=latency_ms,
        stale_after_ms=2000,
        keep_features=False,
    )


@dataclass(frozen=True, slots=True)
class Episode:
    """What one episode trades with: limits, starting balance, session figures, the
    orders already in the rate window and the paper latency."""

    limits: RiskLimits
    balance: int
    figures: SessionFigures | None
    rate_times: tuple[int, ...] = ()
    latency_ms: int | None = None  # None: the env's configured latency


class LimitSampler:
    """Draws each episode's account size and limits (see the module docstring)."""

    def __init__(self, risk: RiskConfig, *, randomize: bool = True,
                 balance_sol: float = START_BALANCE_SOL) -> None:
        self.risk = risk
        self.base = RiskLimits.from_config(risk)
        self.randomize = randomize
        self.balance = sol_to_lamports(balance_sol)

    def draw(self, rng: np.random.Generator, start_ms: int) -> Episode:
        """One episode's limits, balance, (maybe partly used) loss and rate budgets and
        paper latency (orders then stay in flight for a tick or more)."""
        if not self.randomize:
            return Episode(self.base, self.balance, None)
        balance = sol_to_lamports(math.exp(rng.uniform(math.log(0.03), math.log(300.0))))
        limits = self.base
        if rng.random() < 0.5:
            r = self.risk
            k = math.exp(rng.uniform(math.log(0.1), math.log(10.0)))
            pos = r.max_position_sol * k
            lo = int(rng.integers(0, 50))
            cfg = r.model_copy(update={
                "max_position_sol": pos,
                "max_bet_sol": pos * rng.uniform(0.1, 1.0),
                "max_exposure_sol": pos * rng.uniform(1.0, 3.0),
                "min_balance_reserve_sol": r.min_balance_reserve_sol * k * rng.uniform(0, 2),
                "max_daily_loss_sol": r.max_daily_loss_sol * k * rng.uniform(0.3, 3),
                "max_drawdown_sol": r.max_drawdown_sol * k * rng.uniform(0.3, 3),
                "max_orders_per_minute": int(rng.integers(6, 121)),
                "max_sidebets_per_game": int(rng.integers(0, 4)),
                "entry_min_tick": lo,
                "entry_max_tick": lo + int(rng.integers(50, 2000)),
                "presale_cutoff_ms": int(rng.integers(0, 1001)),
            })
            limits = RiskLimits.from_config(cfg)
        figures = None
        if rng.random() < 0.3:  # part of the daily-loss / drawdown budgets already used
            loss = int(limits.max_daily_loss * rng.uniform(0, 1.1))
            dd = int(limits.max_drawdown * rng.uniform(0, 1.1))
            figures = SessionFigures(balance, balance + dd, balance + loss, balance,
                                     (start_ms - 15_000) // DAY_MS)
        rate: tuple[int, ...] = ()
        if rng.random() < 0.3:  # orders of the last minute (a busy session, a fast venue)
            k = int(rng.integers(1, limits.max_orders_per_minute + 1))
            rate = tuple(sorted(int(start_ms - rng.uniform(5_000, 70_000)) for _ in range(k)))
        latency = int(rng.integers(0, 1_501)) if rng.random() < 0.3 else None
        return Episode(limits, balance, figures, rate, latency)


class EventCache:
    """Each game's event stream (``game_events``), built once and reused by every episode
    that plays the game — walking the simulator's schedule costs about a millisecond a
    game. The streams are immutable; a vec env's slots share one cache. At most
    ``max_games`` simulated games are kept (the oldest built leaves first); recorded
    games keep their events anyway (``GameSpec.events``)."""

    def __init__(self, games: Sequence[GameSpec], max_games: int = 1024) -> None:
        """Streams of ``games`` (the env's list, in session order)."""
        self.games = games
        self.max_games = max_games
        self._built: dict[int, tuple[GameUpdate, ...]] = {}

    def history(self, i: int) -> tuple:
        """The ``gameHistory`` game ``i`` starts with (a recorded game: none, its core is
        seeded with the replay's session instead)."""
        if self.games[i].events is not None:
            return ()
        return history_for(self.games[max(0, i - 10) : i])

    def get(self, i: int) -> Sequence[GameUpdate]:
        """Game ``i``'s events."""
        spec = self.games[i]
        if spec.events is not None:
            return spec.events
        built = self._built.get(i)
        if built is None:
            if len(self._built) >= self.max_games:
                del self._built[next(iter(self._built))]
            built = self._built[i] = tuple(game_events(spec, self.history(i)))
        return built


class RugsEnv(gym.Env):
    """One game per episode through the daemon's core (see the module docstring)."""

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(
        self,
        games: Sequence[GameSpec],
        *,
        strategy_cfg: StrategyConfig | None = None,
        risk: RiskConfig | None = None,
        randomize: bool = True,
        start_balance_sol: float = START_BALANCE_SOL,
        latency_ms: int = 0,
        allow_sidebet: bool = True,
        refusal_penalty_sol: float = REFUSAL_PENALTY_SOL,
        bankruptcy_penalty_sol: float = 1.0,
        max_steps: int = 10_000,
        shuffle: bool = True,
        events: EventCache | None = None,
    ) -> None:
        """``games`` in session order (history comes from the preceding ones); ``risk``
        the daemon's ``[risk]`` (default: the built-in defaults); ``randomize=False``
        trades every episode under exactly those limits and ``start_balance_sol``;
        ``events`` a cache of the games' event streams to share (a vec env's slots)."""
        if not games:
            raise ValueError("RugsEnv needs at least one game")
        self.games = list(games)
        self.table = ActionTable.from_config(strategy_cfg or StrategyConfig(), source="agent")
        self.sampler = LimitSampler(risk or RiskConfig(), randomize=randomize,
                                    balance_sol=start_balance_sol)
        self.latency_ms = latency_ms
        self.allow_sidebet = allow_sidebet
        self.refusal_penalty = refusal_penalty_sol
        self.penalty = bankruptcy_penalty_sol
        self.max_steps = max_steps
        self.shuffle = shuffle
        self.events = events if events is not None else EventCache(self.games)
        self.observation_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, (N_FEATURES,), np.float32)
        self.action_space = gym.spaces.Discrete(N_ACTIONS)
        self._order = np.arange(len(self.games))
        self._cursor = 0
        self.game: GameSpec | None = None
        self.core: SteppedCore | None = None
        self.episode: Episode | None = None
        self.agent = AgentStrategy(self.table)
        self._events: Sequence[GameUpdate] = ()
        self._next = 0
        self._equity = 0
        self._steps = 0
        self.refused = 0  # refused intents this episode
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

    def history(self, i: int) -> tuple:
        """The ``gameHistory`` game ``i`` starts with (a recorded game: none, its core is
        seeded with the replay's session instead)."""
        return self.events.history(i)

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
            "refused": self.refused,
            "action_mask": self.action_masks(),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start the next game (``options={"game_index": i}`` picks one; ``"episode"``
        an ``Episode`` to trade it with instead of a drawn one)."""
        super().reset(seed=seed)
        if seed is not None:
            self._order = np.arange(len(self.games))
            self._cursor = len(self._order)  # reshuffle with the new seed
        options = options or {}
        idx = options.get("game_index")
        i = int(idx) if idx is not None else self._pick()
        self.game = self.games[i]
        ep = options.get("episode")
        self.episode = ep if ep is not None else self.sampler.draw(self.np_random,
                                                                   self.game.start_ms)
        self._events = self.events.get(i)
        self._next = 0
        self._steps = 0
        self.refused = 0
        self.agent = AgentStrategy(self.table)
        ep = self.episode
        latency = self.latency_ms if ep.latency_ms is None else ep.latency_ms
        settings = core_settings("train", ep.limits, latency)
        self.core = SteppedCore(self.agent, settings, open_account(ep.balance),
                                figures=ep.figures)
        if ep.rate_times:
            self.core.rate = RateWindow(ep.rate_times)
        seed_core(self.core, self.game)
        if not self._advance():  # a game with no decision point cannot happen
            raise RuntimeError(f"game {self.game.game_id} produced no decision")
        self._equity = self._equity_now()
        return self._obs(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply ``action`` at the pending decision; run to the next one."""
        if self.core is None or not self.core.pending:
            raise RuntimeError("call reset() first")
        self.agent.next_action = int(action)
        out = self.core.complete()
        self._steps += 1
        penalty = 0.0
        for rec in reversed(out.records):
            if type(rec) is DecisionRecord:
                if rec.verdict == "refused":
                    self.refused += 1
                    penalty = self.refusal_penalty
                break
        more = self._advance()
        equity = self._equity_now()
        reward = (equity - self._equity) / accounting.LAMPORTS_PER_SOL - penalty
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
        """Equity at the start of this episode (lamports)."""
        return self.episode.balance if self.episode is not None else self.sampler.balance
