"""The retrain's judgement: choose on validation, judge on held-out real games, decide.

Every evaluation here is the daemon's path (``rugsd.training.backtest.run_session`` —
``play`` on a core built from the daemon's configuration: its ``[risk]``, paper latency
and starting balance), on three disjoint sets:

1. **validation** (real games between the training and the held-out ones by time, plus
   simulated validation games): the candidate — PPO or its behaviour-cloned start — is
   the first without an alarm that is not significantly worse than never trading there.
   The held-out games are never looked at for this choice.
2. **held-out real games** (the newest by time): the gate. The candidate, the current
   bundle and the baselines (never, random, rule) as one replayed session each; the
   alarms (``rugsd.training.evaluate.alarms``: refusals under the daemon's ``[risk]``,
   rug exits, churn, dominance, no position, leakage, reward up/ROI down, account-size
   scale) and the promotion rule (``rugsd.training.promotion``) read these rows only.
3. **held-out simulated games** (a seed that changes with every retrain): reported
   separately, never mixed into the gate's figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rugsd.daemon.config import Settings
from rugsd.strategy.base import Strategy
from rugsd.training.backtest import Session
from rugsd.training.episodes import GameSpec, session_events
from rugsd.training.evaluate import (
    alarms,
    analytic_row,
    compare,
    evaluate_strategies,
    scale_check,
)
from rugsd.training.promotion import decide

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class Judgement:
    """What the evaluation stage found and decided."""

    chosen: str
    validation: dict[str, dict]
    real_rows: dict[str, dict]
    real_sessions: dict[str, Session]
    sim_rows: dict[str, dict]
    comparisons: dict[str, dict]
    scale: dict
    alarms: list[str]
    all_alarms: dict[str, list[str]]
    promoted: bool
    reason: str
    notes: list[str] = field(default_factory=list)
    qualified: bool = True  # the chosen candidate qualified on validation


def _events(games: Sequence[GameSpec]):
    return lambda: session_events(games)


def _seed(games: Sequence[GameSpec]) -> GameSpec | None:
    return games[0] if games and games[0].recent else None


def _evaluate(strategies: dict[str, Strategy], games: Sequence[GameSpec], settings: Settings,
              label: str, seed: int, progress: Progress | None):
    if not games:
        return {}, {}
    total = len(games) * len(strategies)
    done: dict[str, int] = {}

    def prog(name: str, d: int) -> None:
        done[name] = d
        if progress is not None:
            progress(label, sum(done.values()), total)

    run_ids = {n: f"{label}-{n}" for n in strategies}
    return evaluate_strategies(strategies, _events(games), settings, run_ids=run_ids,
                               seed_spec=_seed(games), seed=seed, progress=prog)


def judge(*, candidates: dict[str, Callable[[], Strategy]],
          baselines: dict[str, Callable[[], Strategy]], current: Callable[[], Strategy] | None,
          validation: Sequence[GameSpec], heldout_real: Sequence[GameSpec],
          heldout_sim: Sequence[GameSpec], settings: Settings, leakage: dict,
          reward_trend_up: bool, seed: int = 0, progress: Progress | None = None) -> Judgement:
    """Choose on ``validation``, gate on ``heldout_real``, report ``heldout_sim`` apart."""
    notes: list[str] = []
    # 1. the choice, on validation only
    val_strats = {n: make() for n, make in candidates.items()} | {"never": baselines["never"]()}
    val_rows, val_sessions = _evaluate(val_strats, validation, settings, "validation", seed,
                                       progress)
    start_roi = val_rows["start"]["roi"] if "start" in val_rows else None
    val_alarms = {n: alarms(val_rows[n], reward_trend_up=reward_trend_up and n == "ppo",
                            roi_start=start_roi if n == "ppo" else None)
                  for n in candidates if n in val_rows}

    def qualifies(n: str) -> bool:
        if val_alarms.get(n):
            return False
        return compare(val_sessions[n].results, val_sessions["never"].results,
                       seed)["ci95"][1] >= 0

    chosen = next((n for n in candidates if qualifies(n)), next(iter(candidates)))
    qualified = qualifies(chosen)
    if not qualified:
        notes.append(f"no candidate qualified on validation; judging {chosen!r} anyway")
    # 2. the gate, on held-out real games
    gate = {"candidate": candidates[chosen]()} | {n: make() for n, make in baselines.items()}
    if current is not None:
        gate["current"] = current()
    real_rows, real_sessions = _evaluate(gate, heldout_real, settings, "heldout", seed,
                                         progress)
    if not real_rows:
        raise ValueError("no held-out real games: the gate needs real games")
    real_rows["analytic"] = analytic_row(real_rows["candidate"])
    scale = scale_check(candidates[chosen], _events(heldout_real), settings,
                        seed_spec=_seed(heldout_real), run_id="scale")
    blocking = alarms(real_rows["candidate"], leakage=leakage,
                      reward_trend_up=reward_trend_up and chosen == "ppo",
                      roi_start=val_rows.get("start", {}).get("roi") if chosen == "ppo" else None)
    if not scale["ok"]:
        blocking.append(f"scale: the action distribution moves by {scale['max_tv']:.3f} "
                        f"(total variation) between starting balances "
                        f"{', '.join(scale['balances'])} SOL (> 0.05)")
    cand = real_sessions["candidate"].results
    comparisons = {n: compare(cand, real_sessions[n].results, seed)
                   for n in real_sessions if n != "candidate"}
    first = current is None
    promoted, reason = decide(blocking=blocking, comparisons=comparisons, first=first)
    # 3. simulated held-out games: reported apart
    sim_strats = {"candidate": candidates[chosen]()} | {n: make() for n, make in baselines.items()}
    sim_rows, _ = _evaluate(sim_strats, heldout_sim, settings, "simulated", seed, progress)
    return Judgement(chosen, val_rows, real_rows, real_sessions, sim_rows, comparisons, scale,
                     blocking, {"validation": val_alarms, "heldout": blocking}, promoted,
                     reason, notes, qualified)
