"""Backtests through the daemon's own ``DecisionCore`` (paper fills), one game at a time.

Each game gets a fresh core and account (``rugsd.training.env`` settings: paper venue, 0 ms
latency, permissive risk limits), fed the events ``rugsd.training.episodes.game_events``
builds — the same path the env trains on and the daemon trades through. Per game we
keep the P&L (equity after the rug minus the start), what was staked, fills, the
strategy's decisions by action, and the exposure the null model prices:

- a position of value ``V`` carried from one tick to the next loses ``HOLD_COST * V`` in
  expectation (rug hazard 0.5 %, drift +0.4375 % on the 7/8 non-big-move ticks, v3 god
  candles; the rug pays ≈ 1 % of the position);
- a sidebet's expectation is ``stake * (5 * (1 - 0.995**40) - 1) ≈ -9.1 %``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rugsd.daemon.audit.fairness import committed_hold_cost
from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import open_account, sol_to_lamports
from rugsd.daemon.game.rules import RUG_PROB, SIDEBET_PAYOUT, SIDEBET_WINDOW
from rugsd.daemon.journal.records import DecisionRecord, FillRecord
from rugsd.daemon.state.view import GameView
from rugsd.strategy.actions import ACTION_NAMES, ActionTable, mask_values
from rugsd.strategy.base import Decision, Strategy
from rugsd.training.env import START_BALANCE_SOL, core_settings
from rugsd.training.episodes import PRESALE_TIMERS, GameSpec, game_events, history_for

HOLD_COST = committed_hold_cost()
"""Expected fractional loss of holding a position for one tick (≈ 0.050 %), the same
figure the house-edge meter holds the venue to (``rugsd.daemon.audit.fairness``)."""
SIDEBET_EV = SIDEBET_PAYOUT * (1 - (1 - RUG_PROB) ** SIDEBET_WINDOW) - 1
"""Expected P&L per unit of sidebet stake (≈ -0.091)."""


class RandomStrategy:
    """Uniformly random valid action at every decision (seeded, deterministic)."""

    name = "random"

    def __init__(self, cfg: StrategyConfig, seed: int = 0, allow_sidebet: bool = True) -> None:
        """Sizes from ``cfg``; ``allow_sidebet=False`` never picks SIDEBET."""
        self.table = ActionTable.from_config(cfg, source="random")
        self.rng = np.random.default_rng(seed)
        self.allow_sidebet = allow_sidebet

    def decide(self, view: GameView, account: accounting.Account,
               features: np.ndarray | None = None) -> Decision:
        """A random valid action."""
        valid = mask_values(view, account, self.table)
        if not self.allow_sidebet:
            valid[-1] = False
        choices = [i for i, v in enumerate(valid) if v]
        return Decision(self.table.intents[int(self.rng.choice(choices))])


@dataclass(slots=True)
class GameResult:
    """One game of one strategy."""

    game_id: str
    pnl: int = 0  # lamports
    staked: int = 0  # buys filled + sidebet stakes
    buys: int = 0
    sells: int = 0
    sidebets: int = 0
    null_ev: float = 0.0  # lamports, the null model's expectation of this exposure
    decisions: Counter = field(default_factory=Counter)  # action name → count
    ticks: int = 0


def action_name(rec: DecisionRecord, table: ActionTable) -> str:
    """The action-table name of a decision's intent (``other:<action>`` if none fits)."""
    key = (rec.intent_action, rec.intent_amount, rec.intent_percentage)
    for name, it in zip(ACTION_NAMES, table.intents, strict=True):
        if (it.action.value, it.amount, it.percentage) == key:
            return name
    return f"other:{rec.intent_action}"


def run_game(strategy: Strategy, spec: GameSpec, history: tuple, table: ActionTable,
             start_balance: int, presale_timers: Sequence[int] = PRESALE_TIMERS) -> GameResult:
    """Play one game through a fresh ``DecisionCore``."""
    core = DecisionCore(strategy, core_settings("backtest"), open_account(start_balance))
    res = GameResult(spec.game_id)
    exposure = 0.0
    for ev in game_events(spec, history, presale_timers):
        out = core.step(ev)
        for rec in out.records:
            kind = type(rec)
            if kind is FillRecord:
                if rec.kind == "buy":
                    res.buys += 1
                    res.staked += rec.amount
                elif rec.kind == "sell":
                    res.sells += 1
                elif rec.kind == "sidebet_place":
                    res.sidebets += 1
                    res.staked += rec.amount
                    res.null_ev += rec.amount * SIDEBET_EV
            elif kind is DecisionRecord:
                res.decisions[action_name(rec, table)] += 1
        if ev.active and not ev.rugged:
            res.ticks += 1
            qty = core.account.qty
            if qty:
                exposure += accounting.value_of(qty, core.view.price)
    res.null_ev -= HOLD_COST * exposure
    res.pnl = accounting.equity(core.account, core.view.price) - start_balance
    return res


def backtest(strategy: Strategy, games: Sequence[GameSpec], *, cfg: StrategyConfig | None = None,
             start_balance_sol: float = START_BALANCE_SOL,
             presale_timers: Sequence[int] = PRESALE_TIMERS,
             progress=None) -> list[GameResult]:
    """Every game of ``games`` (in order; history from the preceding ones)."""
    table = ActionTable.from_config(cfg or StrategyConfig())
    start = sol_to_lamports(start_balance_sol)
    out = []
    for i, spec in enumerate(games):
        out.append(run_game(strategy, spec, history_for(games[max(0, i - 10):i]), table, start,
                            presale_timers))
        if progress is not None:
            progress(i + 1, len(games))
    return out
