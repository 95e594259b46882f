"""``rugsd retrain``: data → sidebet model → policy → honest evaluation → promote or reject.

The wall-clock budget is split across the phases (data sizes scale with it): sidebet
≈ 8 %, behaviour cloning ≈ 10 %, PPO until ≈ 65 %, evaluation and report the rest.

Data: the real games are the configured recordings (``[training] recordings`` or
``--recordings``) and the data dir's dataset; nothing is picked up implicitly. Without
a real game the run refuses (``NoRealGames``) unless ``allow_sim_only`` is set, and the
report then says so in its first line. Real games are split by time into training,
validation and held-out; simulated games are added to each (the validation and
held-out ones from a seed drawn anew for every retrain).

Training runs through ``rugsd.training.env`` (the daemon's core, the real event cadence,
account size and limits randomised around the daemon's ``[risk]``), ``[training] n_envs``
games stepped at once (``rugsd.training.vecenv``) by ``[training] env_processes``
processes (``rugsd.training.train_env``). A sweep trial (``RetrainConfig.trial``,
``rugsd.training.sweep``) is the same run with its own hyperparameters, seed and folders
that promotes nothing. Candidates:
``start`` (behaviour cloning of the rule strategy, mixed with human demonstrations when
there are any, or the resumed checkpoint) and ``ppo`` (after PPO); which one is judged
is decided on the validation split (``rugsd.training.heldout``), the gate on held-out
real games with the daemon's own configuration. Promotion follows
``rugsd.training.promotion`` (the rule is written into each manifest).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import structlog

from rugsd.daemon.config import Settings, load_settings
from rugsd.strategy.bundle import (
    BundleError,
    current_bundle,
    load_bundle,
    make_manifest,
    save_bundle,
)
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.strategy.registry import baselines as registry_baselines
from rugsd.strategy.registry import build_named
from rugsd.training import registry
from rugsd.training.dataset import LoadStats, build_dataset, real_games
from rugsd.training.evaluate import format_table, leakage_checks
from rugsd.training.promotion import RULE
from rugsd.training.report import write_report

log = structlog.get_logger(__name__)

ROOT = Path(__file__).resolve().parents[1]


class NoRealGames(Exception):
    """No real game to train and judge on (one line; ``--allow-sim-only`` overrides)."""


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
    allow_sim_only: bool = False
    settings: Settings | None = None  # the daemon's configuration (default: load it)
    n_envs: int | None = None  # games PPO steps at once (default [training] n_envs)
    # processes stepping them (default [training] env_processes; a sweep trial: its CPUs)
    env_processes: int | None = None
    hyper: dict[str, float] = field(default_factory=dict)  # PPO hyperparameter overrides
    # a sweep trial (``rugsd.training.sweep``): the bundle is ``<version>-<trial>``, its
    # checkpoint and candidates stay in the trial's own folder, and nothing is promoted
    # or written to the run state (the sweep promotes at most its best trial)
    trial: str | None = None
    version: str | None = None  # the sweep's version (default: from the clock)
    # (sim train, sim validation, sim held-out, demo games); default from the budget
    # (``_sizes``); small fixed sets keep the tests' end-to-end runs short
    sim_sizes: tuple[int, int, int, int] | None = None


@dataclass(slots=True)
class RetrainOutcome:
    """What a run produced."""

    version: str
    folder: Path
    report: Path
    promoted: bool
    reason: str
    table: str
    figures: dict = field(default_factory=dict)  # a sweep trial's figures (``trial_figures``)


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


def _sizes(budget_s: float) -> tuple[int, int, int, int]:
    """(sim train, sim validation, sim held-out, demo games) for a budget.

    The evaluation replays every set once per strategy (validation 3, held-out 4, plus
    4 account sizes on the real held-out games): about a third of the budget on a busy
    2-core machine (≈ 5 000 events/s; a simulated game is ≈ 350 events)."""
    sim_train = int(np.clip(budget_s * 10, 300, 20_000))
    sim_held = int(np.clip(budget_s * 0.4, 60, 800))
    sim_valid = int(np.clip(budget_s * 0.15, 30, 300))
    demo_games = int(np.clip(budget_s * 0.5, 40, 600))
    return sim_train, sim_valid, sim_held, demo_games


def eval_seed(version: str, seed: int) -> int:
    """The simulated validation/held-out seed: a new one for every retrain (version)."""
    return int(hashlib.sha256(f"{version}:{seed}".encode()).hexdigest()[:8], 16)


def check_real_games(cfg: RetrainConfig, stats: LoadStats | None = None) -> list:
    """The real games the run will have; raises ``NoRealGames`` when there is none and
    ``allow_sim_only`` is off (before any training starts)."""
    missing = [str(p) for p in cfg.recordings if not Path(p).exists()]
    if missing:
        raise NoRealGames(f"no such recordings path: {', '.join(missing)}")
    games = real_games(cfg.data_dir, cfg.recordings, stats if stats is not None else LoadStats())
    if not games and not cfg.allow_sim_only:
        where = ", ".join(map(str, cfg.recordings)) or "no recordings configured"
        raise NoRealGames(
            f"no real game to train and judge on ({where}; data dir {cfg.data_dir}): set "
            "[training] recordings or pass --recordings PATH, or --allow-sim-only to train "
            "and evaluate on simulated games alone")
    return games


def retrain(cfg: RetrainConfig, phases: Phases | None = None,
            now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> RetrainOutcome:
    """Run the whole pipeline; raises on failure (the CLI turns that into exit 1)."""
    # torch & co. are imported here: ``rugsd`` must start without the train extra
    from rugsd.training.decide_graph import combine_graphs
    from rugsd.training.env import RugsEnv
    from rugsd.training.export import export_policy, parity
    from rugsd.training.heldout import judge
    from rugsd.training.policy import (
        PPO_HYPERPARAMETERS,
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
    from rugsd.training.sidebet import recent_for, train_sidebet
    from rugsd.training.train_env import env_processes, make_train_env

    ph = phases or Phases()
    t0 = time.monotonic()
    budget = max(30.0, cfg.max_minutes * 60.0)

    def left(until_frac: float) -> float:
        return max(1.0, t0 + until_frac * budget - time.monotonic())

    settings = cfg.settings if cfg.settings is not None else load_settings()
    scfg = settings.strategy
    load_stats = LoadStats()
    real = check_real_games(cfg, load_stats)
    version = cfg.version or registry.version_name(now())
    if cfg.trial:
        version = f"{version}-{cfg.trial}"
    work = cfg.data_dir / "training" / ("sweep" if cfg.trial else "") / (cfg.trial or "")
    state = _read_state(cfg.data_dir)
    sim_only = not real

    # -- data ---------------------------------------------------------------------------
    ph.start("data", 1)
    sim_train, sim_valid, sim_held, demo_games = cfg.sim_sizes or _sizes(budget)
    sim_seed = eval_seed(version, cfg.seed)
    ds = build_dataset(data_dir=cfg.data_dir, recordings=cfg.recordings, sim_train=sim_train,
                       sim_valid=sim_valid, sim_heldout=sim_held, seed=cfg.seed,
                       sim_seed=sim_seed, since_ts_ms=state.get("last_real_ts_ms"),
                       real=real)
    ds.stats = load_stats
    real_held = ds.real(ds.heldout)
    sim_heldout = [g for g in ds.heldout if not g.real]
    gate_games = real_held if not sim_only else sim_heldout
    ph.update("data", 1, 1)
    ph.done("data")

    # -- sidebet model (usability judged on the validation split) ------------------------
    ph.start("sidebet", 100)
    side = train_sidebet(ds.train, ds.validation, seed=cfg.seed, budget_s=left(0.08) * 0.8,
                         progress=lambda d, t: ph.update("sidebet", d, t))
    ph.done("sidebet")

    # -- policy: start point (behaviour cloning or resumed checkpoint) --------------------
    env_kw = {"strategy_cfg": scfg, "risk": settings.risk, "allow_sidebet": side.usable,
              "latency_ms": settings.paper.latency_ms}
    env = RugsEnv(ds.train, **env_kw)
    env.reset(seed=cfg.seed)
    n_envs = cfg.n_envs or settings.training.n_envs
    processes = env_processes(n_envs, cfg.env_processes if cfg.env_processes is not None
                              else settings.training.env_processes)
    train_env = make_train_env(ds.train, n_envs, seed=cfg.seed, processes=processes, **env_kw)
    try:  # a multi-process env has worker processes to stop, whatever happens
        ckpt = work / "ppo.zip"
        training: dict = {"budget_minutes": cfg.max_minutes, "sidebet_allowed": side.usable,
                          "account_sizes": "log-uniform 0.03-300 SOL",
                          "limits": "the daemon's [risk] half of the episodes, randomised "
                                    "around it (size limits x0.1-10) the other half",
                          "n_envs": n_envs, "env_processes": processes, "seed": cfg.seed,
                          "ppo_hyperparameters": PPO_HYPERPARAMETERS | cfg.hyper}
        resumed = load_checkpoint(ckpt, train_env) if cfg.resume else None
        ph.start("behaviour cloning", 100)
        if resumed is not None:
            model, run = resumed
            training["start"] = f"resumed from {ckpt} at {model.num_timesteps} steps"
        else:
            demo_env = RugsEnv(ds.train, shuffle=False, **env_kw)
            demo_env.reset(seed=cfg.seed)
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
            model = make_model(train_env, mean, std, seed=cfg.seed, **cfg.hyper)
            bc = behaviour_clone(model, demos, budget_s=left(0.18), seed=cfg.seed,
                                 progress=lambda d, t: ph.update("behaviour cloning", d, t))
            training["behaviour_cloning"] = bc
            training["start"] = "behaviour cloning of presale_target" + (
                f" + {len(human)} human demonstration pairs" if human is not None else "")
            run = None
        ph.done("behaviour cloning")
        start_onnx = export_policy(model.policy)

        # -- PPO --------------------------------------------------------------------------
        ppo_budget = left(0.65)
        ph.start("ppo", 1)
        # a bound for the progress bar (the deadline stops PPO): one env never does more than
        # ~3k steps/s on 2 cores, the vectorised env ~20k
        steps_cap = int(ppo_budget * (3000 if n_envs == 1 else 20_000))
        ppo_run = train_ppo(model, steps_cap, budget_s=ppo_budget, ckpt=ckpt, run=run,
                            progress=lambda d, t: ph.update("ppo", d, t))
        # the bar ends at the steps done (the deadline stops PPO long before the bound)
        ph.update("ppo", ppo_run.timesteps, ppo_run.timesteps)
        ph.done("ppo")
    finally:
        train_env.close()
    trend = reward_trend(ppo_run.episode_rewards)
    training["ppo"] = {"timesteps": ppo_run.timesteps, "seconds": round(ppo_run.seconds, 1),
                       "steps_per_s": round((ppo_run.timesteps - (run.timesteps if run else 0))
                                            / max(ppo_run.seconds, 1e-9), 1),
                       "resumed": ppo_run.resumed, "reward_trend": trend}
    ppo_onnx = export_policy(model.policy)

    # parity on validation observations (the rule strategy's path through them)
    val_env = RugsEnv(ds.validation, shuffle=False, **env_kw)
    val_env.reset(seed=cfg.seed)
    obs_rows = rule_demos(val_env, min(len(ds.validation), 20), scfg)
    par = parity(model.policy, ppo_onnx, obs_rows.obs[:1000], obs_rows.masks[:1000])
    training["export_parity"] = {"rows": par.rows, "argmax_equal": par.argmax_equal,
                                 "max_prob_diff": par.max_prob_diff}
    if not par.ok:
        raise RuntimeError(f"ONNX export parity failed: {par}")

    # -- candidate bundles --------------------------------------------------------------
    cand_dir = work / "candidates"
    # training episodes carry no room statistics: the bundle says so, and the daemon's
    # strategy masks them at inference (no train/serve skew); its inputs are invariant
    # to the account's size, so no training balance is recorded
    common = {"buy_sizes_sol": list(scfg.buy_sizes_sol), "sidebet_sol": scfg.sidebet_sol,
              "room_stats_in_training": False, "train_balance_sol": None,
              "account_size_invariant": True}
    cands = {}
    for name, data in (("ppo", ppo_onnx), ("start", start_onnx)):
        man = make_manifest(f"{version}-{name}", sidebet_usable=side.usable, **common)
        cands[name] = save_bundle(cand_dir / f"{version}-{name}", data, side.onnx, man,
                                  combine_graphs(data, side.onnx))
    bundles = {n: load_bundle(p) for n, p in cands.items()}
    cur_dir = current_bundle(cfg.models_dir)  # what the daemon trades now
    current_note = None
    current = None
    if cur_dir is not None:
        try:
            cur_bundle = load_bundle(cur_dir)
            current = lambda: OnnxStrategy(cur_bundle, scfg)
        except BundleError as err:
            current_note = f"current bundle unusable, ignored: {err}"
            cur_dir = None

    # -- evaluation, choice and promotion -------------------------------------------------
    seen = {g.game_id for g in ds.train + ds.validation}
    leak = leakage_checks(gate_games, seen, env_history=env.history, env_games=ds.train,
                          sidebet_recent=recent_for, seed=cfg.seed)
    if sim_heldout and not sim_only:
        leak["simulated"] = leakage_checks(sim_heldout, seen, n_games=5, seed=cfg.seed)
        leak["ok"] = leak["ok"] and leak["simulated"]["ok"]
    ph.start("evaluation", 1)
    verdict = judge(
        candidates={n: (lambda b=b: OnnxStrategy(b, scfg)) for n, b in bundles.items()},
        baselines={spec.baseline: (lambda name=spec.name: build_named(
                       name, settings, seed=cfg.seed, allow_sidebet=side.usable))
                   for spec in registry_baselines()},
        current=current, validation=ds.validation, heldout_real=gate_games,
        heldout_sim=sim_heldout if not sim_only else [], settings=settings, leakage=leak,
        reward_trend_up=trend["up"], seed=cfg.seed,
        progress=lambda label, d, t: ph.update("evaluation", d, t))
    ph.done("evaluation")
    chosen = verdict.chosen
    promoted, reason = verdict.promoted, verdict.reason
    if sim_only and promoted:
        promoted, reason = False, ("trained and judged on simulated games only "
                                   "(--allow-sim-only): never promoted")
    promotion = {"promoted": promoted, "reason": reason, "candidate": chosen,
                 "first_bundle": current is None, "rule": RULE,
                 "current_before": cur_dir.name if cur_dir else None,
                 "sim_only": sim_only, "eval_sim_seed": sim_seed}
    if cfg.trial:  # the gate's verdict stands; promoting it is the sweep's choice
        promotion |= {"promoted": False, "gate_passed": promoted, "gate_reason": reason,
                      "sweep_trial": cfg.trial,
                      "reason": f"sweep trial {cfg.trial}: the sweep promotes at most its best "
                                f"trial (gate: {'passed' if promoted else 'failed'} — {reason})"}
        promoted, reason = False, promotion["reason"]
    if current_note:
        promotion["note"] = current_note
    if verdict.notes:
        promotion["notes"] = verdict.notes
    ph.start("report", 1)
    metrics = {"candidate": verdict.real_rows["candidate"],
               "heldout_real": verdict.real_rows, "heldout_sim": verdict.sim_rows,
               "validation": verdict.validation, "comparisons": verdict.comparisons,
               "scale": verdict.scale, "alarms": verdict.alarms,
               "all_alarms": verdict.all_alarms, "leakage": leak,
               "sidebet": dict(side.metrics), "training": training}
    man = make_manifest(version, sidebet_usable=side.usable, metrics=metrics,
                        data_range=ds.data_range(), git_commit=git_commit(), promotion=promotion,
                        **common)
    chosen_onnx = ppo_onnx if chosen == "ppo" else start_onnx
    folder = save_bundle(cfg.models_dir / version, chosen_onnx, side.onnx, man,
                         combine_graphs(chosen_onnx, side.onnx))
    load_bundle(folder)  # the bundle we ship must load in the daemon
    report = write_report(folder, version=version, verdict=verdict, sidebet=side.metrics,
                          promotion=promotion, leakage=leak, training=training,
                          data_range=ds.data_range(), settings=settings)
    if promoted:
        registry.promote(cfg.models_dir, version, reason=reason)
    ph.update("report", 1, 1)
    ph.done("report")
    last = ds.last_real_ts_ms()
    last = last if last is not None else state.get("last_real_ts_ms")
    figures = trial_figures(verdict, promotion, training, last)
    if not cfg.trial:
        write_run_state(cfg.data_dir, last, version, promoted)
    return RetrainOutcome(version, folder, report, promoted, reason,
                          format_table(verdict.real_rows), figures)


def write_run_state(data_dir: Path, last_real_ts_ms: int | None, version: str,
                    promoted: bool) -> None:
    """Where the next retrain picks up (the newest real game seen) and what this one did."""
    _write_state(data_dir, {"last_real_ts_ms": last_real_ts_ms, "last_version": version,
                            "promoted": promoted})


def trial_figures(verdict, promotion: dict, training: dict,
                  last_real_ts_ms: int | None) -> dict:
    """One run's headline figures (what a sweep ranks and reports): the validation row
    of the chosen candidate (the ranking never looks at the held-out games), the gate's
    verdict and held-out row, the PPO volume."""
    chosen = verdict.chosen
    val = verdict.validation.get(chosen, {})
    held = verdict.real_rows["candidate"]
    ppo = training.get("ppo", {})
    return {"chosen": chosen, "qualified_on_validation": verdict.qualified,
            "validation_pnl_per_game": val.get("pnl_per_game"),
            "validation_roi": val.get("roi"),
            "gate_passed": promotion.get("gate_passed", promotion["promoted"]),
            "gate_reason": promotion.get("gate_reason", promotion["reason"]),
            "heldout_pnl_per_game": held.get("pnl_per_game"), "heldout_roi": held.get("roi"),
            "heldout_games": held.get("games"), "refused_share": held.get("refused_share"),
            "ppo_timesteps": ppo.get("timesteps"), "ppo_steps_per_s": ppo.get("steps_per_s"),
            "seed": training.get("seed"), "n_envs": training.get("n_envs"),
            "env_processes": training.get("env_processes"),
            "hyperparameters": training.get("ppo_hyperparameters"),
            "last_real_ts_ms": last_real_ts_ms}
