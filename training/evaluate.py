"""Honest evaluation: held-out backtests, baselines, paired CIs, reward-hacking alarms.

``evaluate_strategies`` backtests each named strategy on the same held-out games
(``rugsd.training.backtest``, the daemon's core with paper fills) and summarises each:
ROI with a bootstrap 95 % CI (resampling games), P&L per game with its CI, win rate,
max drawdown, Sharpe per game, trades and sidebets per game, action distribution and
the null model's expectation for the same exposure (``analytic``). ``compare`` gives
the paired per-game difference between two strategies with its CI.

``alarms`` blocks promotion when the candidate opened no position, when one action
makes more than 80 % of its non-wait decisions, when training reward went up while the
held-out ROI went down, or when a leakage check failed (``leakage_checks``: features at
tick t must not change when the future ticks are removed — per-tick through the core
and vectorised — and no held-out game may appear in training).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.game.accounting import LAMPORTS_PER_SOL, open_account
from rugsd.daemon.state.view import GameView
from rugsd.strategy.actions import ACTION_NAMES
from rugsd.strategy.base import Decision, Strategy
from rugsd.strategy.features_batch import build_batch
from rugsd.strategy.intents import WAIT
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.training import stats as st
from rugsd.training.backtest import GameResult, backtest
from rugsd.training.env import core_settings
from rugsd.training.episodes import GameSpec, game_events, history_for
from rugsd.training.sidebet import summaries

DOMINANT_SHARE = 0.8


def summarise(results: Sequence[GameResult], seed: int = 0) -> dict:
    """The evaluation row of one strategy (SOL units)."""
    pnl = np.array([r.pnl for r in results], dtype=np.float64) / LAMPORTS_PER_SOL
    staked = np.array([r.staked for r in results], dtype=np.float64) / LAMPORTS_PER_SOL
    null = np.array([r.null_ev for r in results], dtype=np.float64) / LAMPORTS_PER_SOL
    n = max(len(results), 1)
    decisions: Counter = Counter()
    for r in results:
        decisions.update(r.decisions)
    total_dec = sum(decisions.values())
    dist = {k: decisions.get(k, 0) / total_dec if total_dec else 0.0 for k in ACTION_NAMES}
    for k in decisions:
        if k not in dist:
            dist[k] = decisions[k] / total_dec
    non_wait = {k: v for k, v in decisions.items() if k != "wait"}
    nw_total = sum(non_wait.values())
    top = max(non_wait.items(), key=lambda kv: kv[1]) if non_wait else (None, 0)
    traded = (staked > 0)
    total_staked = float(staked.sum())
    std = float(pnl.std()) if pnl.size else 0.0
    return {
        "games": len(results),
        "roi": float(pnl.sum() / total_staked) if total_staked > 0 else 0.0,
        "roi_ci95": list(st.ratio_ci(pnl, staked, seed=seed)),
        "pnl_total": float(pnl.sum()),
        "pnl_per_game": float(pnl.mean()) if pnl.size else 0.0,
        "pnl_per_game_ci95": list(st.mean_ci(pnl, seed=seed)),
        "null_ev_per_game": float(null.mean()) if null.size else 0.0,
        "win_rate": float((pnl[traded] > 0).mean()) if traded.any() else 0.0,
        "games_traded": int(traded.sum()),
        "max_drawdown": st.max_drawdown(pnl),
        "sharpe_per_game": float(pnl.mean() / std) if std > 0 else 0.0,
        "trades_per_game": sum(r.buys + r.sells for r in results) / n,
        "buys_per_game": sum(r.buys for r in results) / n,
        "sidebets_per_game": sum(r.sidebets for r in results) / n,
        "positions_opened": int(sum(r.buys + r.sidebets for r in results)),
        "staked_per_game": total_staked / n,
        "decisions": int(total_dec),
        "action_distribution": dist,
        "top_non_wait_action": top[0],
        "top_non_wait_share": top[1] / nw_total if nw_total else 0.0,
    }


def compare(a: Sequence[GameResult], b: Sequence[GameResult], seed: int = 0) -> dict:
    """Paired per-game P&L difference ``a - b`` (SOL) with a bootstrap 95 % CI."""
    d = (np.array([r.pnl for r in a], dtype=np.float64)
         - np.array([r.pnl for r in b], dtype=np.float64)) / LAMPORTS_PER_SOL
    lo, hi = st.mean_ci(d, seed=seed)
    return {"diff_per_game": float(d.mean()) if d.size else 0.0, "ci95": [lo, hi],
            "beats": bool(lo > 0.0)}


def evaluate_strategies(strategies: dict[str, Strategy], games: Sequence[GameSpec], *,
                        cfg: StrategyConfig | None = None, seed: int = 0,
                        progress=None) -> tuple[dict[str, dict], dict[str, list[GameResult]]]:
    """Backtest every strategy on ``games``; returns (rows by name, per-game results).

    ONNX strategies run through the batched backtest (``rugsd.training.batch_backtest``: the
    same per-game results as the core, ~20-30x faster); the others event by event.
    """
    from rugsd.training.batch_backtest import batch_backtest

    rows, results = {}, {}
    for name, strategy in strategies.items():
        prog = (lambda d, t, n=name: progress(n, d, t)) if progress else None
        if isinstance(strategy, OnnxStrategy):
            res = batch_backtest(strategy, games, cfg=cfg, progress=prog)
        else:
            res = backtest(strategy, games, cfg=cfg, progress=prog)
        results[name] = res
        rows[name] = summarise(res, seed=seed)
    return rows, results


def analytic_row(row: dict) -> dict:
    """The null model's expectation for ``row``'s exposure, as a table row."""
    ev = row["null_ev_per_game"]
    staked = row["staked_per_game"]
    return {"games": row["games"], "roi": ev / staked if staked > 0 else 0.0,
            "roi_ci95": [None, None], "pnl_per_game": ev, "pnl_per_game_ci95": [None, None],
            "null_ev_per_game": ev, "trades_per_game": row["trades_per_game"],
            "sidebets_per_game": row["sidebets_per_game"], "action_distribution": {},
            "note": "expected P&L of the candidate's exposure under the constant-hazard model"}


# -- leakage -------------------------------------------------------------------------------


class _Recorder:
    """Waits, keeping a copy of every feature vector by tick."""

    name = "recorder"

    def __init__(self) -> None:
        self.by_tick: dict[int, np.ndarray] = {}

    def decide(self, view: GameView, account, features: np.ndarray | None = None) -> Decision:
        if features is not None and view.tick >= 0:
            self.by_tick[view.tick] = features.copy()
        return Decision(WAIT)


def _core_features(spec: GameSpec, history: tuple, upto: int | None) -> dict[int, np.ndarray]:
    rec = _Recorder()
    core = DecisionCore(rec, core_settings("leak"), open_account(10**9))
    events = game_events(spec, history)
    if upto is not None:  # drop every tick after ``upto`` (and the rug)
        events = [e for e in events if not e.active or (e.tick is not None and e.tick <= upto
                                                        and not e.rugged)]
    for ev in events:
        core.step(ev)
    return rec.by_tick


def leakage_checks(heldout: Sequence[GameSpec], train_ids: set[str], *, n_games: int = 20,
                   seed: int = 0) -> dict:
    """Future-removal invariance (core and vectorised) on held-out games; id disjointness."""
    rng = np.random.default_rng(seed)
    games = [g for g in heldout if g.rug_tick >= 3]
    pick = rng.choice(len(games), size=min(n_games, len(games)), replace=False) if games else []
    sums = summaries(heldout)
    core_bad = batch_bad = checked = 0
    for gi in pick:
        spec = games[int(gi)]
        i = heldout.index(spec)
        history = history_for(heldout[max(0, i - 10):i])
        t = int(rng.integers(0, spec.rug_tick - 1))
        full = _core_features(spec, history, None)
        cut = _core_features(spec, history, t)
        core_bad += not np.array_equal(full[t], cut[t])
        ts = spec.start_ms + np.arange(spec.rug_tick, dtype=np.int64) * 250
        recent = sums[max(0, i - 10):i]
        a = build_batch(spec.prices, recent=recent, ts_ms=ts, started_ts_ms=spec.start_ms)[t]
        b = build_batch(spec.prices[: t + 1], recent=recent, ts_ms=ts[: t + 1],
                        started_ts_ms=spec.start_ms)[t]
        batch_bad += not np.array_equal(a, b)
        checked += 1
    overlap = sorted({g.game_id for g in heldout} & set(train_ids))
    return {
        "games_checked": checked,
        "core_future_invariant": core_bad == 0,
        "batch_future_invariant": batch_bad == 0,
        "heldout_disjoint": not overlap,
        "overlap_examples": overlap[:5],
        "ok": core_bad == 0 and batch_bad == 0 and not overlap,
    }


# -- alarms ---------------------------------------------------------------------------------


def alarms(row: dict, *, leakage: dict | None = None, reward_trend_up: bool = False,
           roi_start: float | None = None) -> list[str]:
    """Blocking reward-hacking / leakage alarms for a candidate's evaluation row."""
    out = []
    if row.get("positions_opened", 0) == 0:
        out.append("no_positions: the policy opened no position on the held-out games")
    if row.get("top_non_wait_share", 0.0) > DOMINANT_SHARE:
        out.append(f"dominant_action: {row['top_non_wait_action']} is "
                   f"{row['top_non_wait_share']:.0%} of non-wait decisions (> 80 %)")
    if reward_trend_up and roi_start is not None and row.get("roi", 0.0) < roi_start:
        out.append(f"reward_up_roi_down: training reward rose while held-out ROI fell "
                   f"({roi_start:+.4f} → {row['roi']:+.4f})")
    if leakage is not None and not leakage.get("ok", False):
        out.append(f"leakage: {leakage}")
    return out


def format_table(rows: dict[str, dict]) -> str:
    """A fixed-width text table (SOL) of the evaluation rows."""
    head = (f"{'strategy':<16}{'games':>6}{'ROI':>9}{'ROI 95% CI':>21}{'P&L/game':>11}"
            f"{'P&L/game 95% CI':>25}{'null EV':>11}{'win%':>6}{'maxDD':>8}{'trades':>7}"
            f"{'sidebets':>9}")
    lines = [head, "-" * len(head)]

    def ci(v: list) -> str:
        return "n/a" if v[0] is None else f"[{v[0]:+.4f}, {v[1]:+.4f}]"

    def ci6(v: list) -> str:
        return "n/a" if v[0] is None else f"[{v[0]:+.6f}, {v[1]:+.6f}]"

    for name, r in rows.items():
        lines.append(
            f"{name:<16}{r['games']:>6}{r['roi']:>+9.4f}{ci(r['roi_ci95']):>21}"
            f"{r['pnl_per_game']:>+11.6f}{ci6(r['pnl_per_game_ci95']):>25}"
            f"{r['null_ev_per_game']:>+11.6f}{100 * r.get('win_rate', 0):>6.1f}"
            f"{r.get('max_drawdown', 0):>8.4f}{r['trades_per_game']:>7.2f}"
            f"{r['sidebets_per_game']:>9.2f}"
        )
    return "\n".join(lines)
