"""``rugsd retrain``: data → sidebet model → policy → honest evaluation → promote or reject.

The wall-clock budget is split across the phases (data sizes scale with it): sidebet
≈ 8 %, behaviour cloning ≈ 10 %, PPO until ≈ 65 %, evaluation and report the rest.

Candidates: ``start`` (the policy PPO starts from: behaviour cloning of the rule
strategy mixed with human demonstrations when there are any — ``--human-demos`` or
``DATA_DIR/dataset/button_events`` — or the resumed checkpoint) and ``ppo`` (after PPO). The first of
(``ppo``, ``start``) without a blocking alarm is the candidate ("first qualifying",
decided by the alarms, not by its P&L).

Promotion follows ``rugsd.training.promotion`` (the rule is written into each manifest).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import structlog

from rugsd.daemon.config import StrategyConfig
from rugsd.strategy.bundle import (
    BundleError,
    current_bundle,
    load_bundle,
    make_manifest,
    save_bundle,
)
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.strategy.rules import NeverStrategy, PresaleTargetStrategy
from rugsd.training import registry
from rugsd.training.backtest import RandomStrategy
from rugsd.training.dataset import build_dataset
from rugsd.training.env import START_BALANCE_SOL
from rugsd.training.evaluate import (
    alarms,
    analytic_row,
    compare,
    evaluate_strategies,
    format_table,
    leakage_checks,
)
from rugsd.training.promotion import RULE, decide
from rugsd.training.report import write_report

log = structlog.get_logger(__name__)

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_RECORDINGS = ROOT.parent / "shared" / "data" / "real" / "recordings"
TICKS_PER_S_EVAL = 12_000  # conservative backtest speed used to size the held-out set


@dataclass(slots=True)
class RetrainConfig:
    """Inputs of one retrain run."""

    data_dir: Path
    models_dir: Path
    recordings: list[Path] = field(default_factory=list)
    max_minutes: float = 30.0
    seed: int = 0
    resume: bool = False
    human_demos: Path | None = None


@dataclass(slots=True)
class RetrainOutcome:
    """What a run produced."""

    version: str
    folder: Path
    report: Path
    promoted: bool
    reason: str
    table: str


class Phases:
    """Progress reporting: ``update(phase, done, total)``; no-op by default."""

    def start(self, phase: str, total: int) -> None:
        pass

    def update(self, phase: str, done: int, total: int) -> None:
        pass

    def done(self, phase: str) -> None:
        pass


def git_commit(root: Path = ROOT) -> str | None:
    """The checked-out commit, read from ``.git`` files (no git process)."""
    try:
        head = (root / ".git" / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            path = root / ".git" / ref
            if path.is_file():
                return path.read_text().strip()
            packed = root / ".git" / "packed-refs"
            for line in packed.read_text().splitlines() if packed.is_file() else []:
                if line.endswith(" " + ref):
                    return line.split(" ", 1)[0]
            return None
        return head or None
    except OSError:
        return None


def _state_path(data_dir: Path) -> Path:
    return data_dir / "training" / "state.json"


def _read_state(data_dir: Path) -> dict:
    try:
        return json.loads(_state_path(data_dir).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(data_dir: Path, state: dict) -> None:
    path = _state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def _sizes(budget_s: float, real_heldout: int) -> tuple[int, int, int]:
    """(sim train games, sim held-out games, demo games) for a budget."""
    sim_train = int(np.clip(budget_s * 10, 300, 20_000))
    eval_ticks = 0.25 * budget_s * TICKS_PER_S_EVAL / 6
    sim_held = int(np.clip(eval_ticks / 200 - real_heldout, 100, 5_000))
    demo_games = int(np.clip(budget_s * 2, 100, 2_000))
    return sim_train, sim_held, demo_games


def retrain(cfg: RetrainConfig, phases: Phases | None = None,
            now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> RetrainOutcome:
    """Run the whole pipeline; raises on failure (the CLI turns that into exit 1)."""
    # torch & co. are imported here: ``rugsd`` must start without the train extra
    from rugsd.training.env import RugsEnv
    from rugsd.training.export import export_policy, parity
    from rugsd.training.policy import (
        behaviour_clone,
        human_demos,
        load_checkpoint,
        make_model,
        mix_demos,
        obs_stats,
        reward_trend,
        rule_demos,
        train_ppo,
        without_sidebet,
    )
    from rugsd.training.sidebet import train_sidebet

    ph = phases or Phases()
    t0 = time.monotonic()
    budget = max(30.0, cfg.max_minutes * 60.0)

    def left(until_frac: float) -> float:
        return max(1.0, t0 + until_frac * budget - time.monotonic())

    version = registry.version_name(now())
    state = _read_state(cfg.data_dir)
    scfg = StrategyConfig()

    # -- data ---------------------------------------------------------------------------
    ph.start("data", 1)
    ds = build_dataset(data_dir=cfg.data_dir, recordings=cfg.recordings, sim_train=0,
                       sim_heldout=0, seed=cfg.seed, since_ts_ms=state.get("last_real_ts_ms"))
    real_held = len(ds.heldout)
    sim_train, sim_held, demo_games = _sizes(budget, real_held)
    from rugsd.training.dataset import simulated_games

    ds.train += simulated_games(sim_train, seed=2 * cfg.seed + 1000, prefix="sim-train")
    ds.heldout += simulated_games(sim_held, seed=2 * cfg.seed + 1001, prefix="sim-heldout")
    ph.update("data", 1, 1)
    ph.done("data")

    # -- sidebet model ----------------------------------------------------------------
    ph.start("sidebet", 100)
    side = train_sidebet(ds.train, ds.heldout, seed=cfg.seed, budget_s=left(0.08) * 0.8,
                         progress=lambda d, t: ph.update("sidebet", d, t))
    ph.done("sidebet")

    # -- policy: start point (behaviour cloning or resumed checkpoint) --------------------
    env = RugsEnv(ds.train, allow_sidebet=side.usable)
    env.reset(seed=cfg.seed)
    ckpt = cfg.data_dir / "training" / "ppo.zip"
    training: dict = {"budget_minutes": cfg.max_minutes, "sidebet_allowed": side.usable}
    resumed = load_checkpoint(ckpt, env) if cfg.resume else None
    ph.start("behaviour cloning", 100)
    if resumed is not None:
        model, run = resumed
        training["start"] = f"resumed from {ckpt} at {model.num_timesteps} steps"
    else:
        demo_env = RugsEnv(ds.train, allow_sidebet=side.usable, shuffle=False)
        demos = rule_demos(demo_env, min(demo_games, len(ds.train)), scfg)
        demo_dir = cfg.human_demos
        if demo_dir is None and (cfg.data_dir / "dataset" / "button_events").is_dir():
            demo_dir = cfg.data_dir / "dataset"
        human, human_info = human_demos(demo_dir, data_dir=cfg.data_dir,
                                        recordings=cfg.recordings, cfg=scfg)
        if human is not None and not side.usable:
            human, dropped = without_sidebet(human)
            human_info["dropped_sidebet_pairs"] = dropped
        demos, human_weight = mix_demos(demos, human)
        human_info["used_pairs"] = 0 if human is None else len(human)
        human_info["pair_weight"] = round(human_weight, 3)
        training["human_demos"] = human_info
        mean, std = obs_stats(demos.obs)
        model = make_model(env, mean, std, seed=cfg.seed)
        bc = behaviour_clone(model, demos, budget_s=left(0.18), seed=cfg.seed,
                             progress=lambda d, t: ph.update("behaviour cloning", d, t))
        training["behaviour_cloning"] = bc
        training["start"] = "behaviour cloning of presale_target" + (
            f" + {len(human)} human demonstration pairs" if human is not None else "")
        run = None
    ph.done("behaviour cloning")
    start_onnx = export_policy(model.policy)

    # -- PPO ------------------------------------------------------------------------------
    ppo_budget = left(0.65)
    ph.start("ppo", 1)
    steps_cap = int(ppo_budget * 3000)  # never more than ~3k steps/s on 2 cores
    ppo_run = train_ppo(model, steps_cap, budget_s=ppo_budget, ckpt=ckpt, run=run,
                        progress=lambda d, t: ph.update("ppo", d, t))
    ph.done("ppo")
    trend = reward_trend(ppo_run.episode_rewards)
    training["ppo"] = {"timesteps": ppo_run.timesteps, "seconds": round(ppo_run.seconds, 1),
                       "steps_per_s": round((ppo_run.timesteps - (run.timesteps if run else 0))
                                            / max(ppo_run.seconds, 1e-9), 1),
                       "resumed": ppo_run.resumed, "reward_trend": trend}
    ppo_onnx = export_policy(model.policy)

    # parity on held-out observations (the rule strategy's path through held-out games)
    held_env = RugsEnv(ds.heldout, allow_sidebet=side.usable, shuffle=False)
    obs_rows = rule_demos(held_env, min(len(ds.heldout), 20), scfg)
    par = parity(model.policy, ppo_onnx, obs_rows.obs[:1000], obs_rows.masks[:1000])
    training["export_parity"] = {"rows": par.rows, "argmax_equal": par.argmax_equal,
                                 "max_prob_diff": par.max_prob_diff}
    if not par.ok:
        raise RuntimeError(f"ONNX export parity failed: {par}")

    # -- candidate bundles and evaluation ---------------------------------------------------
    work = cfg.data_dir / "training" / "candidates"
    # training episodes carry no room statistics: the bundle says so, and the daemon's
    # strategy masks them at inference (no train/serve skew)
    common = {"buy_sizes_sol": list(scfg.buy_sizes_sol), "sidebet_sol": scfg.sidebet_sol,
              "room_stats_in_training": False, "train_balance_sol": START_BALANCE_SOL}
    cands = {}
    for name, data in (("ppo", ppo_onnx), ("start", start_onnx)):
        man = make_manifest(f"{version}-{name}", sidebet_usable=side.usable, **common)
        cands[name] = save_bundle(work / f"{version}-{name}", data, side.onnx, man)
    strategies = {n: OnnxStrategy(load_bundle(p), scfg) for n, p in cands.items()}
    cur_dir = current_bundle(cfg.models_dir)  # what the daemon trades now
    current_note = None
    if cur_dir is not None:
        try:
            strategies["current"] = OnnxStrategy(load_bundle(cur_dir), scfg)
        except BundleError as err:
            current_note = f"current bundle unusable, ignored: {err}"
            cur_dir = None
    strategies["never"] = NeverStrategy()
    strategies["random"] = RandomStrategy(scfg, seed=cfg.seed)
    strategies["rule"] = PresaleTargetStrategy(scfg)
    total_games = len(ds.heldout) * len(strategies)
    ph.start("evaluation", total_games)
    done_before: dict[str, int] = {}

    def eval_progress(name: str, d: int, t: int) -> None:
        done_before[name] = d
        ph.update("evaluation", sum(done_before.values()), total_games)

    rows, results = evaluate_strategies(strategies, ds.heldout, cfg=scfg, seed=cfg.seed,
                                        progress=eval_progress)
    ph.done("evaluation")
    leak = leakage_checks(ds.heldout, {g.game_id for g in ds.train}, seed=cfg.seed)

    # -- choose the candidate, decide promotion ---------------------------------------------
    roi_start = rows["start"]["roi"]
    cand_alarms = {
        "ppo": alarms(rows["ppo"], leakage=leak, reward_trend_up=trend["up"], roi_start=roi_start),
        "start": alarms(rows["start"], leakage=leak),
    }
    first = cur_dir is None

    def qualifies(n: str) -> bool:
        if cand_alarms[n]:
            return False
        return not first or compare(results[n], results["rule"], cfg.seed)["ci95"][1] >= 0

    chosen = next((n for n in ("ppo", "start") if qualifies(n)), "ppo")
    baselines = ["never", "random", "rule"] + (["current"] if cur_dir is not None else [])
    comparisons = {b: compare(results[chosen], results[b], cfg.seed) for b in baselines}
    blocking = cand_alarms[chosen]
    promoted, reason = decide(blocking=blocking, comparisons=comparisons, first=first,
                              vs_rule=compare(results[chosen], results["rule"], cfg.seed))
    table_rows = {"candidate": rows[chosen]} | {n: r for n, r in rows.items() if n != chosen}
    table_rows["analytic"] = analytic_row(rows[chosen])
    if chosen == "ppo":
        table_rows["start (bc)"] = table_rows.pop("start")
    promotion = {"promoted": promoted, "reason": reason, "candidate": chosen,
                 "first_bundle": first, "rule": RULE,
                 "current_before": cur_dir.name if cur_dir else None}
    if current_note:
        promotion["note"] = current_note
    ph.start("report", 1)
    metrics = {"candidate": rows[chosen], "baselines": {n: rows[n] for n in rows if n != chosen},
               "comparisons": comparisons, "alarms": blocking, "all_alarms": cand_alarms,
               "leakage": leak, "sidebet": {k: v for k, v in side.metrics.items()},
               "training": training}
    man = make_manifest(version, sidebet_usable=side.usable, metrics=metrics,
                        data_range=ds.data_range(), git_commit=git_commit(), promotion=promotion,
                        **common)
    folder = save_bundle(cfg.models_dir / version, ppo_onnx if chosen == "ppo" else start_onnx,
                         side.onnx, man)
    load_bundle(folder)  # the bundle we ship must load in the daemon
    results_named = {("candidate" if n == chosen else n): r for n, r in results.items()}
    report = write_report(folder, version=version, rows=table_rows, results=results_named,
                          comparisons=comparisons, sidebet=side.metrics, promotion=promotion,
                          alarms=blocking, leakage=leak, training=training,
                          data_range=ds.data_range())
    if promoted:
        registry.promote(cfg.models_dir, version, reason=reason)
    ph.update("report", 1, 1)
    ph.done("report")
    last = ds.last_real_ts_ms()
    _write_state(cfg.data_dir, {"last_real_ts_ms": last if last is not None
                                else state.get("last_real_ts_ms"),
                                "last_version": version, "promoted": promoted})
    return RetrainOutcome(version, folder, report, promoted, reason, format_table(table_rows))
