"""Honest evaluation on the daemon's path: baselines, paired CIs, behaviour and leakage alarms.

``evaluate_strategies`` runs each named strategy over the same event stream through
``rugsd.training.backtest.run_session`` — the replay path (``play`` on a core built from
the daemon's configuration) — and summarises each: the figures ``rugsd replay`` /
``rugsd report`` print (P&L total, refusals by reason, exits, games by class, the
decision-log SHA-256), ROI with a bootstrap 95 % CI (resampling games), P&L per played
game with its CI, win rate, max drawdown, trades, action distribution and the null
model's expectation for the same exposure (``analytic_row``). ``compare`` gives the
paired per-game difference between two strategies with its CI.

``alarms`` blocks promotion when the candidate opened no position, when one action
makes more than 80 % of its non-wait decisions, when more than 5 % of its non-wait
intents were refused by the risk gate (a policy that needs the gate to stop it), when
most of its positions were lost to the rug rather than sold, when it sends more than
``MAX_ORDERS_PER_GAME`` orders per game (churn), when training reward went up while
the ROI went down, or when a leakage check failed (``leakage_checks``).

``scale_check`` runs a strategy at several starting balances: a policy whose inputs are
invariant to the account's size keeps its action distribution.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from rugsd.daemon.config import Settings
from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.game.accounting import LAMPORTS_PER_SOL, open_account
from rugsd.daemon.state.view import GameSummary, GameView
from rugsd.strategy.actions import ACTION_NAMES
from rugsd.strategy.base import Decision, Strategy
from rugsd.strategy.features_batch import build_batch
from rugsd.strategy.intents import WAIT
from rugsd.training import stats as st
from rugsd.training.backtest import GameResult, Session, run_session
from rugsd.training.env import core_settings
from rugsd.training.episodes import GameSpec, game_events, history_for, seed_core

DOMINANT_SHARE = 0.8
MAX_REFUSED_SHARE = 0.05
MAX_RUGGED_SHARE = 0.5
MAX_ORDERS_PER_GAME = 10.0
SCALE_BALANCES: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0)
MAX_SCALE_TV = 0.05  # total-variation distance of action distributions across balances

EventsFactory = Callable[[], Iterable[object]]


def _dist(decisions: Counter) -> dict[str, float]:
    total = sum(decisions.values())
    dist = {k: decisions.get(k, 0) / total if total else 0.0 for k in ACTION_NAMES}
    for k in decisions:
        if k not in dist:
            dist[k] = decisions[k] / total
    return dist


def summarise(session: Session, seed: int = 0) -> dict:
    """The evaluation row of one strategy (SOL units)."""
    results = session.results
    figures = session.figures()
    pnl = np.array([r.pnl for r in results], dtype=np.float64) / LAMPORTS_PER_SOL
    staked = np.array([r.staked for r in results], dtype=np.float64) / LAMPORTS_PER_SOL
    null = np.array([r.null_ev for r in results], dtype=np.float64) / LAMPORTS_PER_SOL
    n = max(len(results), 1)
    decisions: Counter = Counter()
    for r in results:
        decisions.update(r.decisions)
    total_dec = sum(decisions.values())
    non_wait = {k: v for k, v in decisions.items() if k != "wait"}
    nw_total = sum(non_wait.values())
    top = max(non_wait.items(), key=lambda kv: kv[1]) if non_wait else (None, 0)
    traded = staked > 0
    total_staked = float(staked.sum())
    std = float(pnl.std()) if pnl.size else 0.0
    return {
        "games": len(results),
        "game_counts": figures["games"],
        "pnl_total": figures["pnl_total"],
        "roi": float(pnl.sum() / total_staked) if total_staked > 0 else 0.0,
        "roi_ci95": list(st.ratio_ci(pnl, staked, seed=seed)),
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
        "non_wait_intents": figures["non_wait_intents"],
        "orders_refused": figures["orders_refused"],
        "refused_share": figures["refused_share"],
        "orders": figures["orders"],
        "orders_per_game": figures["orders_per_game"],
        "exits": figures["exits"],
        "fills": figures["fills"],
        "rugged_share": figures["rugged_share"],
        "decision_log_sha256": session.played.decision_log_sha256,
        "action_distribution": _dist(decisions),
        "top_non_wait_action": top[0],
        "top_non_wait_share": top[1] / nw_total if nw_total else 0.0,
    }


def compare(a: Sequence[GameResult], b: Sequence[GameResult], seed: int = 0) -> dict:
    """Paired per-game P&L difference ``a - b`` (SOL) with a bootstrap 95 % CI, over the
    games both played (matched by game id)."""
    pb = {r.game_id: r.pnl for r in b}
    pairs = [(r.pnl, pb[r.game_id]) for r in a if r.game_id in pb]
    d = np.array([x - y for x, y in pairs], dtype=np.float64) / LAMPORTS_PER_SOL
    lo, hi = st.mean_ci(d, seed=seed)
    return {"diff_per_game": float(d.mean()) if d.size else 0.0, "ci95": [lo, hi],
            "beats": bool(lo > 0.0), "games": int(d.size)}


def evaluate_strategies(strategies: dict[str, Strategy], events: EventsFactory,
                        settings: Settings, *, run_ids: dict[str, str] | None = None,
                        seed_spec: GameSpec | None = None, seed: int = 0,
                        starting_balance_sol: float | None = None,
                        progress: Callable[[str, int], None] | None = None,
                        ) -> tuple[dict[str, dict], dict[str, Session]]:
    """Every strategy over ``events()`` on the daemon's path; (rows, sessions) by name.

    ``run_ids`` names each run (``rugsd evaluate`` uses the replay's run ids, so the
    decision logs hash alike); ``seed_spec`` seeds each core with a recorded game's
    session (``backtest.run_session``).
    """
    rows, sessions = {}, {}
    for name, strategy in strategies.items():
        prog = (lambda d, n=name: progress(n, d)) if progress else None
        run_id = (run_ids or {}).get(name, f"eval-{name}")
        session = run_session(strategy, events(), settings, run_id=run_id, seed=seed_spec,
                              starting_balance_sol=starting_balance_sol, progress=prog)
        sessions[name] = session
        rows[name] = summarise(session, seed=seed)
    return rows, sessions


def analytic_row(row: dict) -> dict:
    """The null model's expectation for ``row``'s exposure, as a table row."""
    ev = row["null_ev_per_game"]
    staked = row["staked_per_game"]
    return {"games": row["games"], "roi": ev / staked if staked > 0 else 0.0,
            "roi_ci95": [None, None], "pnl_per_game": ev, "pnl_per_game_ci95": [None, None],
            "null_ev_per_game": ev, "trades_per_game": row["trades_per_game"],
            "sidebets_per_game": row["sidebets_per_game"], "action_distribution": {},
            "note": "expected P&L of the candidate's exposure under the constant-hazard model"}


def tv_distance(a: dict[str, float], b: dict[str, float]) -> float:
    """Total-variation distance of two action distributions."""
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)


def scale_check(make_strategy: Callable[[], Strategy], events: EventsFactory,
                settings: Settings, *, balances: Sequence[float] = SCALE_BALANCES,
                seed_spec: GameSpec | None = None, run_id: str = "scale") -> dict:
    """A strategy at each starting balance: its action distribution, P&L and refusals;
    ``max_tv`` is the largest distance between any two distributions."""
    rows: dict[str, dict] = {}
    for bal in balances:
        session = run_session(make_strategy(), events(), settings, run_id=f"{run_id}-{bal:g}",
                              seed=seed_spec, starting_balance_sol=bal)
        row = summarise(session)
        rows[f"{bal:g}"] = {k: row[k] for k in ("action_distribution", "pnl_total",
                                                "pnl_per_game", "refused_share", "orders",
                                                "orders_refused", "exits")}
    dists = [r["action_distribution"] for r in rows.values()]
    tv = max((tv_distance(a, b) for a in dists for b in dists), default=0.0)
    return {"balances": rows, "max_tv": tv, "ok": tv <= MAX_SCALE_TV}


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
    seed_core(core, spec)
    events = game_events(spec, history)
    if upto is not None:  # drop every tick after ``upto`` (and the rug)
        events = [e for e in events if not e.active or (e.tick is not None and e.tick <= upto
                                                        and not e.rugged)]
    for ev in events:
        core.step(ev)
    return rec.by_tick


def history_leaks(game: GameSpec, history: Iterable[object], later: set[str]) -> bool:
    """True when ``history`` (``FinishedGame``s or ``GameSummary``s handed to ``game``)
    holds ``game`` itself or a game that started after it."""
    for h in history:
        gid = h.game_id
        if gid == game.game_id or gid in later:
            return True
    return False


def leakage_checks(heldout: Sequence[GameSpec], train_ids: set[str], *,
                   env_history: Callable[[int], Iterable[object]] | None = None,
                   env_games: Sequence[GameSpec] = (),
                   sidebet_recent: Callable[[Sequence[GameSpec], int],
                                            Sequence[GameSummary]] | None = None,
                   n_games: int = 20, seed: int = 0) -> dict:
    """Leakage checks on every path a game reaches a model by:

    - **core** and **batch** (``build_batch``, the sidebet model's rows): the features at
      tick t do not change when the ticks after t are removed;
    - **history**: no game is handed itself or a later game as its finished-game
      history — the evaluation sessions (``history_for``), the training env
      (``env_history(i)`` for ``env_games[i]``), the sidebet rows
      (``sidebet_recent(games, i)``) and recorded games' ``recent``;
    - **split**: no held-out game appears in training.
    """
    from rugsd.training.sidebet import recent_for

    sidebet_recent = sidebet_recent or recent_for
    rng = np.random.default_rng(seed)
    games = [g for g in heldout if g.rug_tick >= 3]
    pick = rng.choice(len(games), size=min(n_games, len(games)), replace=False) if games else []
    core_bad = batch_bad = checked = 0
    for gi in pick:
        spec = games[int(gi)]
        i = heldout.index(spec)
        history = history_for(heldout[max(0, i - 10):i])
        t = int(rng.integers(0, spec.rug_tick - 1))
        full = _core_features(spec, history, None)
        cut = _core_features(spec, history, t)
        core_bad += t not in full or t not in cut or not np.array_equal(full[t], cut[t])
        recent = sidebet_recent(heldout, i)
        a = build_batch(spec.prices, recent=recent)[t]
        b = build_batch(spec.prices[: t + 1], recent=recent)[t]
        batch_bad += not np.array_equal(a, b)
        checked += 1
    leaks: Counter = Counter()
    for name, seq, hist in (
        ("evaluation", heldout, lambda i: history_for(heldout[max(0, i - 10):i])),
        ("sidebet", heldout, lambda i: sidebet_recent(heldout, i)),
        ("env", env_games, env_history),
    ):
        if hist is None:
            continue
        ids = [g.game_id for g in seq]
        for i, game in enumerate(seq):
            if history_leaks(game, hist(i), set(ids[i + 1:])):
                leaks[name] += 1
    for seq in (heldout, env_games):
        ids = [g.game_id for g in seq]
        for i, game in enumerate(seq):
            if game.recent and history_leaks(game, game.recent, set(ids[i + 1:])):
                leaks["recorded_recent"] += 1
    overlap = sorted({g.game_id for g in heldout} & set(train_ids))
    ok = core_bad == 0 and batch_bad == 0 and not overlap and not leaks
    return {
        "games_checked": checked,
        "core_future_invariant": core_bad == 0,
        "batch_future_invariant": batch_bad == 0,
        "history_leaks": dict(leaks),
        "heldout_disjoint": not overlap,
        "overlap_examples": overlap[:5],
        "ok": ok,
    }


# -- alarms ---------------------------------------------------------------------------------


def alarms(row: dict, *, leakage: dict | None = None, reward_trend_up: bool = False,
           roi_start: float | None = None) -> list[str]:
    """Blocking alarms for a candidate's evaluation row (see the module docstring)."""
    out = []
    if row.get("positions_opened", 0) == 0:
        out.append("no_positions: the policy opened no position on the held-out games")
    if row.get("top_non_wait_share", 0.0) > DOMINANT_SHARE:
        out.append(f"dominant_action: {row['top_non_wait_action']} is "
                   f"{row['top_non_wait_share']:.0%} of non-wait decisions (> 80 %)")
    refused = row.get("refused_share", 0.0)
    if refused > MAX_REFUSED_SHARE:
        reasons = ", ".join(f"{k} {v}" for k, v in list(row.get("orders_refused", {}).items())[:3])
        out.append(f"risk_refusals: the risk gate refused {refused:.1%} of its "
                   f"{row.get('non_wait_intents', 0)} non-wait intents under the daemon's "
                   f"[risk] (> {MAX_REFUSED_SHARE:.0%}: {reasons}) — it needs the gate to stop it")
    rugged = row.get("rugged_share", 0.0)
    if rugged > MAX_RUGGED_SHARE:
        ex = row.get("exits", {})
        out.append(f"rug_exits: {rugged:.0%} of its positions were lost to the rug "
                   f"({ex.get('rugged', 0)} rugged vs {ex.get('sold', 0)} sold; "
                   f"> {MAX_RUGGED_SHARE:.0%})")
    per_game = row.get("orders_per_game", 0.0)
    if per_game > MAX_ORDERS_PER_GAME:
        out.append(f"churn: {per_game:.1f} orders per game (> {MAX_ORDERS_PER_GAME:g})")
    if reward_trend_up and roi_start is not None and row.get("roi", 0.0) < roi_start:
        out.append(f"reward_up_roi_down: training reward rose while the evaluation ROI fell "
                   f"({roi_start:+.4f} → {row['roi']:+.4f})")
    if leakage is not None and not leakage.get("ok", False):
        out.append(f"leakage: {leakage}")
    return out


def format_table(rows: dict[str, dict]) -> str:
    """A fixed-width text table (SOL) of the evaluation rows."""
    head = (f"{'strategy':<16}{'games':>6}{'P&L total':>12}{'P&L/game':>11}"
            f"{'P&L/game 95% CI':>25}{'null EV':>11}{'ROI':>9}{'win%':>6}{'orders':>7}"
            f"{'refused':>8}{'sold/rug':>9}")
    lines = [head, "-" * len(head)]

    def ci6(v: list) -> str:
        return "n/a" if v[0] is None else f"[{v[0]:+.6f}, {v[1]:+.6f}]"

    for name, r in rows.items():
        ex = r.get("exits")
        exits = f"{ex['sold']}/{ex['rugged']}" if ex else "n/a"
        refused = f"{100 * r['refused_share']:.1f}%" if "refused_share" in r else "n/a"
        orders = f"{r['orders_per_game']:.2f}" if "orders_per_game" in r else "n/a"
        total = f"{r['pnl_total']:+.6f}" if "pnl_total" in r else "n/a"
        lines.append(
            f"{name:<16}{r['games']:>6}{total:>12}{r['pnl_per_game']:>+11.6f}"
            f"{ci6(r['pnl_per_game_ci95']):>25}{r['null_ev_per_game']:>+11.6f}"
            f"{r['roi']:>+9.4f}{100 * r.get('win_rate', 0):>6.1f}{orders:>7}{refused:>8}"
            f"{exits:>9}"
        )
    return "\n".join(lines)
