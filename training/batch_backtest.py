"""Batched backtest of an ONNX bundle: many games in lock-step, one model call per tick.

The event-by-event backtest (``rugsd.training.backtest``) steps one ``DecisionCore`` per game
(≈ 10–20 k ticks/s). For screening, this module plays a batch of games side by side and
gives the SAME ``GameResult`` per game, to the lamport:

- **Features**: the game block of every active tick of every game is computed at once
  (``rugsd.training.batch_features.game_block_many``: ``game_features_batch`` over the
  concatenated games — bit-identical to the per-tick builder); presale rows use the game block the
  daemon's state machine gives a presale view; the session block comes from the
  previous games (``history_for``, as ``backtest``); the account block is recomputed
  per tick for all live games with numpy, replaying ``rugsd.strategy.features.account_features``
  operation by operation (``log1p`` of the balance is cached per game with ``math``).
- **Lock-step**: games are sorted by length so that the live games at tick ``k`` are a
  prefix; for each decision point (the presale updates, then each tick index) there is
  one ``SidebetModel.p_rug_batch`` and one ``PolicyModel.logits_batch`` call across all
  live games, then ``OnnxStrategy``'s rule (venue mask, sidebet gate, greedy argmax,
  hold on non-finite output) in numpy.
- **Money**: every non-WAIT intent goes, per game, through the real risk gate
  (``rugsd.risk.gate.check``) and the real paper venue (``rugsd.daemon.core.paper.PaperVenue`` →
  ``rugsd.daemon.game.matching`` → ``rugsd.daemon.game.accounting``): the same objects the core uses,
  so fills, refusals and P&L are exact. Ticks settle only games that have something to
  settle (a pending order, an expiring sidebet; at the rug, a position or a sidebet).
- **Risk state**: the backtest core never leaves ACTIVE unless a loss limit trips
  (paper fills never fail; no operator). Session figures (equity, peak, day start) are
  tracked per game in numpy; a game whose figures would trip a loss limit is re-run
  through the event-by-event core (counted in ``stats["fallback_games"]``).
- **Batched vs single-row ONNX**: a batched matmul may round differently from the
  single-row call the daemon makes. Rows whose decision is within ``TIE_EPS`` of a tie
  (top-two valid logits, or ``p_rug`` at the sidebet threshold) are decided again with
  ``OnnxStrategy.decide`` on that row (``stats["tie_rechecks"]``), so a last-bit
  difference can never flip a decision.

Only ``OnnxStrategy`` runs batched; ``rugsd.training.evaluate`` keeps the event-by-event path
for the rule-based and random baselines.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.core.paper import PaperVenue
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import (
    MIN_BET_LAMPORTS,
    Account,
    Fill,
    FillKind,
    equity,
    open_account,
    sol_to_lamports,
)
from rugsd.daemon.game.rules import LAMPORTS_PER_SOL, SIDEBET_WINDOW, TICK_MS
from rugsd.daemon.state.view import GameSummary, GameView
from rugsd.risk.context import DAY_MS, GameCounters, GateContext, SessionFigures
from rugsd.risk.gate import check
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.states import RiskState
from rugsd.risk.verdicts import Order, Refusal
from rugsd.strategy.actions import (
    ACTION_NAMES,
    N_ACTIONS,
    SELL_PERCENTS,
    SIDEBET_INDEX,
    ActionTable,
)
from rugsd.strategy.features import (
    ACCOUNT_SLICE,
    GAME_SLICE,
    N_FEATURES,
    SESSION_SLICE,
    session_features,
)
from rugsd.strategy.features_batch import _clean_array
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.training.backtest import HOLD_COST, SIDEBET_EV, GameResult, run_game
from rugsd.training.batch_features import game_block_many, presale_game_blocks
from rugsd.training.env import START_BALANCE_SOL, core_settings
from rugsd.training.episodes import PRESALE_TIMERS, GameSpec, history_for

TIE_EPS = 1e-4
"""Relative logit gap (and absolute ``p_rug`` distance) under which a row is re-decided
single-row. Batched and single-row logits of an exported SB3 policy were bit-identical
on the 2-core box; the recheck only makes that independent of the CPU and library."""
DEFAULT_BATCH_GAMES = 2048
_L = float(LAMPORTS_PER_SOL)
_ACTIVE_RISK = RiskState(feed_stale=False)  # a backtest core after its first event

Progress = Callable[[int, int], None]


# -- per-game state -------------------------------------------------------------------------


@dataclass(slots=True)
class _Game:
    """One game's money and risk bookkeeping (the parts of a core that can change)."""

    spec: GameSpec
    account: Account
    paper: PaperVenue
    result: GameResult
    counters: GameCounters = field(default_factory=GameCounters)
    rate: RateWindow = field(default_factory=RateWindow)
    order_seq: int = 0
    fallback: bool = False


@dataclass(slots=True)
class BatchStats:
    """What the batched path did (for reports and benchmarks)."""

    games: int = 0
    ticks: int = 0
    model_calls: int = 0
    rows: int = 0
    gate_calls: int = 0
    tie_rechecks: int = 0
    fallback_games: int = 0
    refusals: Counter = field(default_factory=Counter)


class _Batch:
    """Lock-step state of one batch of games (sorted by length, longest first)."""

    def __init__(self, runner: BatchBacktest, specs: list[GameSpec],
                 recent: list[tuple[GameSummary, ...]]) -> None:
        self.r = runner
        order = sorted(range(len(specs)), key=lambda i: -specs[i].rug_tick)
        self.order = order
        self.specs = [specs[i] for i in order]
        n = len(order)
        self.rug = np.array([s.rug_tick for s in self.specs], dtype=np.int64)
        self.start_ms = np.array([s.start_ms for s in self.specs], dtype=np.int64)
        block, self.off = game_block_many([s.prices for s in self.specs])
        self.block = block.astype(np.float32)
        self.raw = np.concatenate([s.prices for s in self.specs]).astype(np.float64)
        self.clean = _clean_array(self.raw)
        self.session = np.array([session_features(recent[i], None) for i in order],
                                dtype=np.float64).astype(np.float32).reshape(n, -1)
        start = runner.start_balance
        self.games = [_Game(s, open_account(start), PaperVenue(0), GameResult(s.game_id))
                      for s in self.specs]
        self.bal = np.full(n, start, dtype=np.int64)
        self.qty = np.zeros(n, dtype=np.int64)
        self.cost = np.zeros(n, dtype=np.int64)
        self.entry = np.full(n, -1, dtype=np.int64)
        self.sb_end = np.full(n, -1, dtype=np.int64)
        self.has_sb = np.zeros(n, dtype=bool)
        self.balfeat = np.full(n, math.log1p(start / _L) if start > 0 else 0.0)
        self.counts = np.zeros((n, N_ACTIONS), dtype=np.int64)
        self.exposure = np.zeros(n, dtype=np.int64)  # sum of position values, lamports
        self.waiting: set[int] = set()  # games with an order waiting for the next tick
        # session figures (rugsd.risk.context.SessionFigures) per game
        self.f_start = np.full(n, start, dtype=np.int64)
        self.f_peak = self.f_start.copy()
        self.f_day_start = self.f_start.copy()
        self.f_eq = self.f_start.copy()
        self.f_day = (self.start_ms - 15_000) // DAY_MS
        self.obs = np.zeros((n, N_FEATURES), dtype=np.float32)

    # -- bookkeeping --------------------------------------------------------------------

    def _sync(self, i: int) -> None:
        a = self.games[i].account
        self.bal[i], self.qty[i], self.cost[i] = a.balance, a.qty, a.cost
        self.entry[i] = -1 if a.entry_tick is None else a.entry_tick
        bet = a.sidebet
        self.has_sb[i] = bet is not None
        self.sb_end[i] = -1 if bet is None else bet.end_tick
        self.balfeat[i] = math.log1p(a.balance / _L) if a.balance > 0 else 0.0

    def _fill(self, i: int, fill: Fill) -> None:
        res = self.games[i].result
        kind = fill.kind
        if kind is FillKind.BUY:
            res.buys += 1
            res.staked += fill.amount
        elif kind is FillKind.SELL:
            res.sells += 1
        elif kind is FillKind.SIDEBET_PLACE:
            res.sidebets += 1
            res.staked += fill.amount
            res.null_ev += fill.amount * SIDEBET_EV

    def _mark(self, n: int, price: np.ndarray | float, ts: np.ndarray) -> None:
        """``DecisionCore._mark`` for the first ``n`` games (loss trips → fallback)."""
        q = self.qty[:n]
        px = np.broadcast_to(np.asarray(price, dtype=np.float64), q.shape)
        held = (q > 0) & (px > 0)
        val = np.where(held, np.floor(q * px), 0.0).astype(np.int64)
        eq = self.bal[:n] + val
        day = ts // DAY_MS
        self.f_day_start[:n] = np.where(day > self.f_day[:n], self.f_eq[:n], self.f_day_start[:n])
        np.maximum(self.f_peak[:n], eq, out=self.f_peak[:n])
        self.f_eq[:n] = eq
        np.maximum(self.f_day[:n], day, out=self.f_day[:n])
        lim = self.r.limits
        trip = ((self.f_day_start[:n] - eq > lim.max_daily_loss)
                | (self.f_peak[:n] - eq > lim.max_drawdown))
        for i in np.flatnonzero(trip).tolist():
            self.games[i].fallback = True

    # -- deciding -----------------------------------------------------------------------

    def _account_block(self, n: int, x: np.ndarray, tick: int | np.ndarray) -> np.ndarray:
        """``account_features`` for the first ``n`` games at cleaned prices ``x``."""
        q = self.qty[:n]
        c = self.cost[:n]
        has = q > 0
        qs = np.where(has, q, 1)
        val = q * x
        upnl = val - c
        acc = np.zeros((n, 9), dtype=np.float64)
        acc[:, 0] = has
        acc[:, 1] = np.where(has, val / _L, 0.0)
        acc[:, 2] = np.where(has, (c / qs) / x, 0.0)
        acc[:, 3] = np.where(has, upnl / _L, 0.0)
        acc[:, 4] = np.where(has & (c > 0), upnl / np.where(c > 0, c, 1), 0.0)
        e = self.entry[:n]
        acc[:, 5] = np.where(has & (e >= 0) & (tick > e), (tick - e) / 100, 0.0)
        live = self.has_sb[:n] & (tick < self.sb_end[:n])
        acc[:, 6] = live
        acc[:, 7] = np.where(live, np.minimum((self.sb_end[:n] - tick) / SIDEBET_WINDOW, 1.0),
                             0.0)
        acc[:, 8] = self.balfeat[:n]
        return acc

    def _mask(self, n: int, active: bool, tick: int) -> np.ndarray:
        """``rugsd.strategy.actions.mask_values`` for the first ``n`` games."""
        r = self.r
        bal, q = self.bal[:n], self.qty[:n]
        m = np.zeros((n, N_ACTIONS), dtype=bool)
        m[:, 0] = True
        for j, lam in enumerate(r.table.buy_lamports):
            m[:, 1 + j] = (MIN_BET_LAMPORTS <= lam) & (lam <= bal)
        if active:
            for j, pct in enumerate(SELL_PERCENTS):
                m[:, 4 + j] = (q > 0) & (q * pct // 100 > 0)
        side = r.table.sidebet_lamports
        free = ~self.has_sb[:n] | (tick >= self.sb_end[:n])
        m[:, SIDEBET_INDEX] = (MIN_BET_LAMPORTS <= side) & (side <= bal) & free
        return m

    def decide(self, n: int, phase: Phase, tick: int, price: np.ndarray, clean: np.ndarray,
               game_rows: np.ndarray | list[float], ts: np.ndarray, cooldown_ms: int) -> None:
        """One decision point for the first ``n`` games: models, rule, gate, paper."""
        if n == 0:
            return
        r = self.r
        obs = self.obs[:n]
        obs[:, GAME_SLICE] = game_rows
        obs[:, ACCOUNT_SLICE] = self._account_block(n, clean, tick)
        obs[:, SESSION_SLICE] = self.session[:n]
        mask = self._mask(n, phase is Phase.ACTIVE, tick)
        p = r.sidebet.p_rug_batch(obs).astype(np.float64)
        bad = ~((p >= 0.0) & (p <= 1.0))
        if not r.usable:
            mask[:, SIDEBET_INDEX] = False
        else:
            mask[:, SIDEBET_INDEX] &= p >= r.threshold
        logits = r.policy.logits_batch(obs, mask).astype(np.float64)
        r.stats.model_calls += 1
        r.stats.rows += n
        lm = np.where(mask, logits, -np.inf)
        bad |= (mask & ~np.isfinite(logits)).any(axis=1)
        best = np.argmax(lm, axis=1)
        top = lm[np.arange(n), best]
        lm[np.arange(n), best] = -np.inf
        gap = top - lm.max(axis=1)
        close = gap <= TIE_EPS * np.maximum(1.0, np.abs(top))
        if r.usable:
            close |= np.abs(p - r.threshold) <= TIE_EPS
        best = np.where(bad, 0, best)
        for i in np.flatnonzero(close & ~bad).tolist():
            best[i] = self._single(i, phase, tick, float(price[i]), int(ts[i]), cooldown_ms)
        self.counts[np.arange(n), best] += 1
        for i in np.flatnonzero(best).tolist():
            self._act(i, int(best[i]), phase, tick, float(price[i]), int(ts[i]), cooldown_ms)

    def _view(self, i: int, phase: Phase, tick: int, price: float, ts: int,
              cooldown_ms: int) -> GameView:
        return GameView(self.specs[i].game_id, phase, tick, price, (), price, cooldown_ms,
                        phase is Phase.PRESALE, ts)

    def _single(self, i: int, phase: Phase, tick: int, price: float, ts: int,
                cooldown_ms: int) -> int:
        """Decide row ``i`` again with the strategy's own single-row path."""
        r = self.r
        r.stats.tie_rechecks += 1
        view = self._view(i, phase, tick, price, ts, cooldown_ms)
        intent = r.strategy.decide(view, self.games[i].account, self.obs[i].copy()).intent
        for j, it in enumerate(r.table.intents):
            if (it.action, it.amount, it.percentage) == (intent.action, intent.amount,
                                                          intent.percentage):
                return j
        return 0

    def _act(self, i: int, a: int, phase: Phase, tick: int, price: float, ts: int,
             cooldown_ms: int) -> None:
        """A non-WAIT intent of game ``i``: the risk gate, then the paper venue."""
        r = self.r
        g = self.games[i]
        view = self._view(i, phase, tick, price, ts, cooldown_ms)
        figures = SessionFigures(int(self.f_start[i]), int(self.f_peak[i]),
                                 int(self.f_day_start[i]), int(self.f_eq[i]), int(self.f_day[i]))
        ctx = GateContext(state=_ACTIVE_RISK, limits=r.limits, account=g.account, view=view,
                          figures=figures, ts_ms=ts, counters=g.counters.for_game(view.game_id),
                          orders=g.rate, run_id=r.order_prefix, order_seq=g.order_seq,
                          pending=g.paper.pending)
        r.stats.gate_calls += 1
        verdict = check(r.table.intents[a], ctx)
        if isinstance(verdict, Refusal):
            r.stats.refusals[verdict.reason.value] += 1
            return
        if not isinstance(verdict, Order):
            return
        after = ctx.after(verdict)
        g.counters, g.rate, g.order_seq = after.counters, after.orders, after.order_seq
        account, outcome = g.paper.submit(g.account, verdict, phase, ts)
        if isinstance(outcome, tuple):
            g.account = account
            self._fill(i, outcome[1])
            self._sync(i)
        if g.paper.pending:
            self.waiting.add(i)

    # -- the game loop ------------------------------------------------------------------

    def _settle(self, i: int, tick: int, price: float, rugged: bool, ts: int) -> None:
        g = self.games[i]
        match = g.paper.on_tick(g.account, tick, price, rugged, ts)
        for _, outcome in match.outcomes:
            if isinstance(outcome, tuple):
                self._fill(i, outcome[1])
        g.account = match.account
        self.waiting.discard(i)
        self._sync(i)

    def run(self) -> list[GameResult]:
        """Play every game of the batch; results in the caller's order."""
        r = self.r
        n_all = len(self.games)
        t0 = self.start_ms
        for timer in r.presale_timers:
            ts = t0 - timer
            self._mark(n_all, 1.0, ts)
            ones = np.ones(n_all)
            self.decide(n_all, Phase.PRESALE, -1, ones, ones, r.presale[timer], ts, timer)
        max_tick = int(self.rug[0]) if n_all else 0
        live = n_all
        for k in range(max_tick + 1):
            while live and self.rug[live - 1] <= k:  # games rugging at tick k
                i = live - 1
                if self.rug[i] == k:
                    self._rug(i)
                live -= 1
            if live == 0:
                break
            rows = self.off[:live] + k
            price = self.raw[rows]
            ts = t0[:live] + k * TICK_MS
            need = set(np.flatnonzero(self.has_sb[:live] & (self.sb_end[:live] <= k)).tolist())
            for i in sorted(need | self.waiting):
                self._settle(i, k, float(price[i]), False, int(ts[i]))
            self._mark(live, price, ts)
            q = self.qty[:live]
            self.exposure[:live] += np.where(q > 0, np.floor(q * price), 0.0).astype(np.int64)
            self.decide(live, Phase.ACTIVE, k, price, self.clean[rows], self.block[rows], ts, 0)
        out: list[GameResult | None] = [None] * n_all
        for pos, g in enumerate(self.games):
            res = g.result
            for a in np.flatnonzero(self.counts[pos]).tolist():
                res.decisions[r.names[a]] += int(self.counts[pos, a])
            out[self.order[pos]] = res
        return out  # type: ignore[return-value]

    def _rug(self, i: int) -> None:
        g = self.games[i]
        spec = g.spec
        rt = spec.rug_tick
        ts = spec.start_ms + rt * TICK_MS
        a = g.account
        if i in self.waiting or a.qty or a.sidebet is not None:
            self._settle(i, rt, float(spec.rug_price), True, ts)
        res = g.result
        res.ticks = rt
        res.null_ev -= HOLD_COST * float(self.exposure[i])
        res.pnl = equity(g.account, float(spec.rug_price)) - self.r.start_balance


class BatchBacktest:
    """Batched backtest of one ``OnnxStrategy`` (see the module docstring)."""

    def __init__(self, strategy: OnnxStrategy, *, cfg: StrategyConfig | None = None,
                 start_balance_sol: float = START_BALANCE_SOL,
                 presale_timers: Sequence[int] = PRESALE_TIMERS,
                 batch_games: int = DEFAULT_BATCH_GAMES) -> None:
        """``cfg`` names decisions like ``rugsd.training.backtest`` (default ``StrategyConfig()``)."""
        self.strategy = strategy
        self.table = strategy.table
        self.policy = strategy.bundle.policy
        self.sidebet = strategy.bundle.sidebet
        self.usable = bool(strategy.sidebet_usable)
        self.threshold = float(strategy.threshold)
        settings = core_settings("backtest")
        self.limits = settings.limits
        self.order_prefix = settings.order_prefix
        self.start_balance = sol_to_lamports(start_balance_sol)
        self.presale_timers = tuple(presale_timers)
        self.presale = presale_game_blocks(self.presale_timers)
        self.batch_games = max(1, batch_games)
        self.stats = BatchStats()
        self.names_table = ActionTable.from_config(cfg or StrategyConfig())
        self.names = [_name(it, self.names_table) for it in self.table.intents]

    def run(self, games: Sequence[GameSpec], progress: Progress | None = None
            ) -> list[GameResult]:
        """Every game of ``games`` (history from the preceding ones, as ``backtest``)."""
        summaries = [GameSummary(g.game_id, g.rug_tick, g.peak) for g in games]
        out: list[GameResult] = []
        for lo in range(0, len(games), self.batch_games):
            specs = list(games[lo : lo + self.batch_games])
            recent = [tuple(summaries[max(0, j - 10) : j]) for j in range(lo, lo + len(specs))]
            batch = _Batch(self, specs, recent)
            results = batch.run()
            for pos, g in enumerate(batch.games):
                if g.fallback:
                    j = lo + batch.order[pos]
                    self.stats.fallback_games += 1
                    results[batch.order[pos]] = run_game(
                        self.strategy, games[j], history_for(games[max(0, j - 10) : j]),
                        self.names_table, self.start_balance,
                        self.presale_timers)
            out.extend(results)
            self.stats.games += len(specs)
            self.stats.ticks += sum(s.rug_tick for s in specs)
            if progress is not None:
                progress(len(out), len(games))
        return out


def _name(intent, table: ActionTable) -> str:
    for name, it in zip(ACTION_NAMES, table.intents, strict=True):
        if (it.action, it.amount, it.percentage) == (intent.action, intent.amount,
                                                      intent.percentage):
            return name
    return f"other:{intent.action.value}"


def batch_backtest(strategy: OnnxStrategy, games: Sequence[GameSpec], *,
                   cfg: StrategyConfig | None = None,
                   start_balance_sol: float = START_BALANCE_SOL,
                   presale_timers: Sequence[int] = PRESALE_TIMERS,
                   batch_games: int = DEFAULT_BATCH_GAMES,
                   progress: Progress | None = None) -> list[GameResult]:
    """``rugsd.training.backtest.backtest`` for an ``OnnxStrategy``, batched (same results)."""
    runner = BatchBacktest(strategy, cfg=cfg, start_balance_sol=start_balance_sol,
                           presale_timers=presale_timers, batch_games=batch_games)
    return runner.run(games, progress)
