"""Backtests on the daemon's own path: ``rugsd.daemon.runtime.replay.play`` on a core built
from the daemon's configuration (its ``[risk]``, paper latency and starting balance).

There is no second engine: a backtest of recorded games replays their recorded events
(one continuous session, as ``rugsd replay`` does), a backtest of simulated games the
events the simulator emits (``rugsd.training.episodes.session_events``). Per game we keep
what ``rugsd replay`` and ``rugsd report`` count (``rugsd.daemon.journal.games``), plus
the strategy's decisions by action-table name and the exposure the null model prices:

- a position of value ``V`` carried from one tick to the next loses ``HOLD_COST * V`` in
  expectation (rug hazard 0.5 %, drift +0.4375 % on the 7/8 non-big-move ticks, v3 god
  candles; the rug pays ≈ 1 % of the position);
- a sidebet's expectation is ``stake * (5 * (1 - 0.995**40) - 1) ≈ -9.1 %``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rugsd.daemon.audit.fairness import committed_hold_cost
from rugsd.daemon.config import Settings
from rugsd.daemon.game import accounting
from rugsd.daemon.game.rules import RUG_PROB, SIDEBET_PAYOUT, SIDEBET_WINDOW
from rugsd.daemon.journal.games import GameFacts
from rugsd.daemon.journal.records import DecisionRecord, FillRecord, PositionSnapshot, TickRecord
from rugsd.daemon.runtime.build import make_core
from rugsd.daemon.runtime.replay import Played, play
from rugsd.strategy.actions import ACTION_NAMES, ActionTable
from rugsd.strategy.base import Strategy
from rugsd.strategy.rules import RandomStrategy  # noqa: F401 - re-exported
from rugsd.training.episodes import GameSpec, seed_core, session_events

HOLD_COST = committed_hold_cost()
"""Expected fractional loss of holding a position for one tick (≈ 0.050 %), the same
figure the house-edge meter holds the venue to (``rugsd.daemon.audit.fairness``)."""
SIDEBET_EV = SIDEBET_PAYOUT * (1 - (1 - RUG_PROB) ** SIDEBET_WINDOW) - 1
"""Expected P&L per unit of sidebet stake (≈ -0.091)."""


@dataclass(slots=True)
class GameResult:
    """One played game of one strategy: the replay's facts plus evaluation extras."""

    game_id: str
    klass: str = "complete"
    pnl: int = 0  # lamports, realised
    staked: int = 0  # buys filled + sidebet stakes
    buys: int = 0
    sells: int = 0
    rug_sells: int = 0
    sidebets: int = 0
    orders: int = 0
    exit: str | None = None
    null_ev: float = 0.0  # lamports, the null model's expectation of this exposure
    decisions: Counter = field(default_factory=Counter)  # action-table name → count
    refused: Counter = field(default_factory=Counter)  # reason → refused decisions
    ticks: int = 0


def action_name(rec: DecisionRecord, table: ActionTable) -> str:
    """The action-table name of a decision's intent (``other:<action>`` if none fits)."""
    key = (rec.intent_action, rec.intent_amount, rec.intent_percentage)
    for name, it in zip(ACTION_NAMES, table.intents, strict=True):
        if (it.action.value, it.amount, it.percentage) == key:
            return name
    return f"other:{rec.intent_action}"


class _Extras:
    """Per game: decisions by action name and the position value held at every tick."""

    def __init__(self, table: ActionTable) -> None:
        self.table = table
        self.names: dict[str, Counter] = {}
        self.exposure: Counter = Counter()
        self.ticks: Counter = Counter()
        self.sidebet_stakes: Counter = Counter()
        self.qty = 0

    def add(self, records: list) -> None:
        for rec in records:  # the account after this step first (settled at this tick)
            if type(rec) is PositionSnapshot:
                self.qty = rec.qty
        for rec in records:
            kind = type(rec)
            if kind is DecisionRecord:
                names = self.names.get(rec.game_id)
                if names is None:
                    names = self.names[rec.game_id] = Counter()
                names[action_name(rec, self.table)] += 1
            elif kind is TickRecord and rec.phase == "active":
                self.ticks[rec.game_id] += 1
                if self.qty:
                    self.exposure[rec.game_id] += accounting.value_of(self.qty, rec.price)
            elif kind is FillRecord and rec.kind == "sidebet_place":
                self.sidebet_stakes[rec.game_id] += rec.amount


def _result(g: GameFacts, extras: _Extras) -> GameResult:
    gid = g.game_id
    null = extras.sidebet_stakes[gid] * SIDEBET_EV - HOLD_COST * extras.exposure[gid]
    return GameResult(gid, g.klass.value, g.pnl, g.staked, g.buys, g.sells, g.rug_sells,
                      g.sidebets, g.orders, g.exit, null, extras.names.get(gid, Counter()),
                      Counter(g.refused), extras.ticks[gid])


@dataclass(slots=True)
class Session:
    """One strategy's run over a stream: the replay's ``Played`` plus per-game results."""

    played: Played
    results: list[GameResult]

    def figures(self) -> dict:
        """The replay's totals (``Played.figures``)."""
        return self.played.figures()


def run_session(strategy: Strategy, events: Iterable[object], settings: Settings, *,
                run_id: str, seed: GameSpec | None = None,
                starting_balance_sol: float | None = None,
                table: ActionTable | None = None,
                progress: Callable[[int], None] | None = None) -> Session:
    """``strategy`` over ``events`` on the daemon's path (``make_core`` + ``play``).

    ``seed`` (a recorded game) gives the core the finished games the full replay knew at
    it; ``starting_balance_sol`` overrides ``paper.starting_balance_sol``.
    """
    if starting_balance_sol is not None:
        settings = settings.model_copy(deep=True)
        settings.paper.starting_balance_sol = starting_balance_sol
    core = make_core(settings, run_id=run_id, order_prefix=run_id, strategy=strategy)
    if seed is not None:
        seed_core(core, seed)
    extras = _Extras(table or ActionTable.from_config(settings.strategy))
    add = extras.add
    if progress is not None:
        done = [0]

        def write(records: list) -> None:
            add(records)
            for rec in records:
                if type(rec) is TickRecord and rec.phase == "rugged":
                    done[0] += 1
                    progress(done[0])
    else:
        write = add
    played = play(core, events, write=write)
    return Session(played, [_result(g, extras) for g in played.tally.played()])


def backtest(strategy: Strategy, games: Sequence[GameSpec], settings: Settings, *,
             run_id: str = "backtest", starting_balance_sol: float | None = None,
             progress: Callable[[int], None] | None = None) -> Session:
    """``games`` (in order) as one continuous session: recorded games replay their
    recorded events, the others the simulator's (``session_events``)."""
    seed = games[0] if games and games[0].recent else None
    return run_session(strategy, session_events(games), settings, run_id=run_id, seed=seed,
                       starting_balance_sol=starting_balance_sol, progress=progress)
