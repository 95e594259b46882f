"""Helpers for the decision-core tests: simulated games as feed events, a scripted
strategy, a core factory and an independent recomputation of money from journaled fills.

Imported by the test files of this folder (pytest puts the folder on ``sys.path``).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rugsd.daemon.config import RiskConfig
from rugsd.daemon.core.decision import CoreSettings, DecisionCore
from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.game.accounting import Account, open_account, sol_to_lamports
from rugsd.daemon.game.engine import generate_game, rug_price
from rugsd.daemon.journal.records import FillRecord
from rugsd.daemon.state.view import GameView
from rugsd.risk.context import RiskLimits
from rugsd.risk.states import RiskState
from rugsd.strategy.base import Decision, Strategy
from rugsd.strategy.intents import WAIT, Action, Intent
from rugsd.training.episodes import GameSpec, game_events, history_for, next_start_ms

START_MS = 1_761_000_000_000  # an October 2025 epoch ms, like the recordings
START_BALANCE = sol_to_lamports(10.0)


def sim_games(n: int, seed: int, *, max_ticks: int | None = None) -> list[GameSpec]:
    """``n`` provably-fair v3 games from seeds derived from ``seed`` (rug price from a PRNG).

    ``max_ticks`` truncates long games (the rug then comes early), to keep tests fast.
    """
    rng = random.Random(seed)
    out: list[GameSpec] = []
    start = START_MS + seed * 1_000_000
    for i in range(n):
        gid = f"20251030-{seed:08x}{i:08x}"
        outcome = generate_game(f"test-seed-{seed}-{i}", gid)
        prices = np.asarray(outcome.prices, dtype=np.float64)
        if max_ticks is not None:
            prices = prices[:max_ticks]
        spec = GameSpec(gid, prices, rug_price(float(prices[-1]), rng.random()), start)
        out.append(spec)
        start = next_start_ms(spec)
    return out


def game_with_prices(gid: str, prices: Sequence[float], start_ms: int,
                     rug: float = 0.001) -> GameSpec:
    """A hand-written game: ``prices`` for ticks 0.., then the rug at ``rug``."""
    return GameSpec(gid, np.asarray(prices, dtype=np.float64), rug, start_ms)


def events_of(specs: Sequence[GameSpec]) -> list[GameUpdate]:
    """The updates the simulator would emit for ``specs`` played one after the other."""
    out: list[GameUpdate] = []
    for i, spec in enumerate(specs):
        out.extend(game_events(spec, history_for(specs[:i])))
    return out


Rule = Callable[[GameView, Account], Intent]


class ScriptedStrategy:
    """A strategy whose intent is ``rule(view, account)``; remembers every call."""

    name = "scripted"

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.calls: list[tuple[str | None, Phase, int]] = []

    def decide(
        self, view: GameView, account: Account, features: np.ndarray | None = None
    ) -> Decision:
        """The scripted intent for this view."""
        self.calls.append((view.game_id, view.phase, view.tick))
        return Decision(self.rule(view, account))


def always(intent: Intent) -> Rule:
    """A rule that always answers ``intent``."""
    return lambda _view, _acct: intent


def buy_then_hold(amount: int = sol_to_lamports(0.01)) -> Rule:
    """Buy in presale when flat; otherwise wait (hold until the rug or a flatten)."""

    def rule(view: GameView, acct: Account) -> Intent:
        if view.phase is Phase.PRESALE and acct.qty == 0:
            return Intent(Action.BUY, amount=amount, source="test:buy")
        return WAIT

    return rule


def random_rule(seed: int) -> Rule:
    """A seeded random trader: buys, sells (any UI size) and sidebets at random."""
    rng = random.Random(seed)
    sizes = (sol_to_lamports(0.001), sol_to_lamports(0.005), sol_to_lamports(0.01),
             sol_to_lamports(0.03))

    def rule(view: GameView, acct: Account) -> Intent:
        r = rng.random()
        if r < 0.55:
            return WAIT
        if r < 0.72:
            return Intent(Action.BUY, amount=rng.choice(sizes), source="test:random")
        if r < 0.92:
            return Intent(Action.SELL, percentage=rng.choice((10, 25, 50, 100)),
                          source="test:random")
        return Intent(Action.SIDEBET, amount=rng.choice(sizes[:2]), source="test:random")

    return rule


def limits(**overrides: object) -> RiskLimits:
    """Risk limits from ``RiskConfig`` defaults with ``overrides`` (config field names)."""
    return RiskLimits.from_config(RiskConfig(**overrides))


def make_test_core(
    strategy: Strategy,
    *,
    latency_ms: int = 0,
    risk_overrides: dict[str, object] | None = None,
    risk: RiskState | None = None,
    balance: int = START_BALANCE,
    run_id: str = "core-test",
    hold_orders: bool = False,
) -> DecisionCore:
    """A paper-mode core with a fresh account of ``balance`` lamports (``hold_orders``:
    paper orders wait for ``ReleaseOrder``, as in the daemon)."""
    cfg = CoreSettings(
        run_id=run_id,
        limits=limits(**(risk_overrides or {})),
        order_prefix=run_id,
        paper_latency_ms=latency_ms,
        hold_orders=hold_orders,
    )
    return DecisionCore(strategy, cfg, open_account(balance), risk=risk)


def ledger_identity_holds(acct: Account) -> bool:
    """``balance + cost == credited + realised`` (no money created or lost)."""
    return acct.balance + acct.cost == acct.credited + acct.realised


@dataclass(frozen=True)
class Recomputed:
    """Money recomputed from fills alone."""

    balance: int
    qty: int
    buys: int
    stakes: int
    sells: int
    payouts: int
    fills: int


_OUT = {"buy": -1, "sidebet_place": -1, "sell": 1, "rug_sell": 1, "sidebet_win": 1,
        "sidebet_loss": 0}


def recompute(start: int, fills: Iterable[tuple[str, int, int]]) -> Recomputed:
    """Balance = start - buys - stakes + sells + payouts from ``(kind, amount, qty)`` rows."""
    sums = {"buy": 0, "sidebet_place": 0, "sell": 0, "rug_sell": 0, "sidebet_win": 0}
    qty = 0
    n = 0
    for kind, amount, q in fills:
        n += 1
        if kind not in _OUT:
            raise AssertionError(f"unknown fill kind {kind!r}")
        if kind in sums:
            sums[kind] += amount
        if kind == "buy":
            qty += q
        elif kind in ("sell", "rug_sell"):
            qty -= q
    balance = (start - sums["buy"] - sums["sidebet_place"] + sums["sell"] + sums["rug_sell"]
               + sums["sidebet_win"])
    return Recomputed(balance, qty, sums["buy"], sums["sidebet_place"],
                      sums["sell"] + sums["rug_sell"], sums["sidebet_win"], n)


def journal_fills(db: Path, run_id: str | None = None) -> list[tuple[str, int, int]]:
    """``(kind, amount, qty)`` of every journaled fill, in journal order (plain sqlite3)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        sql = "SELECT kind, amount, qty FROM fills"
        params: tuple = ()
        if run_id is not None:
            sql += " WHERE run_id = ?"
            params = (run_id,)
        return [tuple(r) for r in conn.execute(sql + " ORDER BY id", params)]
    finally:
        conn.close()


def fills_of(records: Iterable[object]) -> list[tuple[str, int, int]]:
    """``(kind, amount, qty)`` of the ``FillRecord``s among ``records``."""
    return [(r.kind, r.amount, r.qty) for r in records if isinstance(r, FillRecord)]
