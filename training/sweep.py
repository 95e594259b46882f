"""``rugsd retrain --sweep N``: N trials of the same retrain pipeline on Ray Tune.

Every trial is ``rugsd.training.pipeline.retrain`` — the same data, one-path env, gate
and report — with its PPO hyperparameters and seed drawn from ``[training.sweep]``
(``tune.choice`` over each list; the draw is seeded by ``--seed``) and its own bundle
``<version>-t<i>``, checkpoint and candidates. No trial promotes anything: the sweep
ranks the trials on their **validation** figures (qualified first, then P&L per game on
the validation split; the held-out games are never looked at for the choice), and
promotes at most that single best trial, and only when the unchanged gate passed it on
the held-out real games. Every trial's figures go into the best trial's report
(``report.md`` gains a "Sweep" section; ``sweep.json`` beside it) and the CLI's output.

Ray runs locally by default (``ray.init`` with this machine's CPUs, no dashboard) or on
a cluster given ``--ray-address`` (``ray://host:10001`` or ``host:6379``); the data dir,
models dir and recordings must then be at the same paths on every node (a shared file
system), and rugsd installed there with the ``train`` and ``sweep`` extras (docs/retrain.md).
Ray is the ``sweep`` extra: imported only here.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from rugsd.daemon.config import Settings, SweepConfig, load_settings
from rugsd.training import registry
from rugsd.training.pipeline import (
    RetrainConfig,
    check_real_games,
    retrain,
    write_run_state,
)


class SweepError(Exception):
    """The sweep cannot run or produced no trial (one line)."""


@dataclass(slots=True)
class SweepOutcome:
    """What a sweep did: every trial's figures, the best one, what was promoted."""

    version: str
    trials: list[dict]
    best: dict | None
    promoted: bool
    reason: str
    report: Path | None
    seconds: float


def search_space(space: SweepConfig) -> dict:
    """``[training.sweep]`` as a Ray Tune parameter space."""
    from ray import tune

    return {"learning_rate": tune.choice(space.learning_rate),
            "ent_coef": tune.choice(space.ent_coef),
            "clip_range": tune.choice(space.clip_range),
            "gamma": tune.choice(space.gamma),
            "seed": tune.choice(space.seeds)}


def _trial_index(trial_id: str) -> str:
    tail = trial_id.rsplit("_", 1)[-1]
    return f"t{int(tail)}" if tail.isdigit() else f"t{tail}"


def _run_trial(config: dict, base: RetrainConfig) -> dict:
    """One Ray Tune trial: the whole retrain with the drawn values, no promotion."""
    from ray import tune

    trial = _trial_index(tune.get_context().get_trial_id())
    hyper = {k: float(config[k]) for k in ("learning_rate", "ent_coef", "clip_range", "gamma")}
    t0 = time.monotonic()
    out = retrain(replace(base, seed=int(config["seed"]), hyper=hyper, trial=trial))
    tune.report(out.figures | {"trial": trial, "version": out.version,
                               "folder": str(out.folder), "report": str(out.report),
                               "seconds": round(time.monotonic() - t0, 1)})


def trial_env_processes(given: int | None, settings: Settings, space: SweepConfig) -> int:
    """Processes a trial steps its games on: ``given`` (the command's), else
    ``[training] env_processes`` when set, else the CPUs Ray reserves for the trial
    (every CPU, the plain retrain's default, would oversubscribe concurrent trials)."""
    if given is not None:
        return given
    return settings.training.env_processes or max(1, int(space.cpus_per_trial))


def rank_key(fig: dict) -> tuple:
    """Best first: qualified on validation, then validation P&L per game (never the
    held-out figures: those are the gate's)."""
    pnl = fig.get("validation_pnl_per_game")
    return (bool(fig.get("qualified_on_validation")), pnl if pnl is not None else float("-inf"))


def sweep(base: RetrainConfig, n_trials: int, space: SweepConfig, *,
          ray_address: str | None = None, num_cpus: int | None = None,
          now=lambda: datetime.now(UTC)) -> SweepOutcome:
    """Run ``n_trials`` retrains on Ray Tune, promote at most the best; see the module doc."""
    if n_trials < 1:
        raise SweepError("--sweep needs at least 1 trial")
    if base.resume:
        raise SweepError("--sweep cannot --resume (every trial starts from its own clone)")
    try:
        import ray
        from ray import tune
        from ray.tune.search import BasicVariantGenerator
    except ImportError as err:
        raise SweepError(f"--sweep needs Ray: pip install 'rugsd[sweep]' ({err})") from None
    check_real_games(base)  # refuse before starting Ray, as a plain retrain would
    t0 = time.monotonic()
    version = registry.version_name(now())
    # trials run in Ray's workers (another working directory, maybe another node):
    # absolute paths, and the configuration of this command rather than the worker's
    settings = base.settings if base.settings is not None else load_settings()
    base = replace(base, version=version, settings=settings,
                   env_processes=trial_env_processes(base.env_processes, settings, space),
                   data_dir=base.data_dir.resolve(), models_dir=base.models_dir.resolve(),
                   recordings=[Path(p).resolve() for p in base.recordings],
                   human_demos=base.human_demos.resolve() if base.human_demos else None)
    started = False
    if not ray.is_initialized():
        kw = {"address": ray_address} if ray_address else {
            "num_cpus": num_cpus or os.cpu_count() or 1, "include_dashboard": False}
        ray.init(logging_level="warning", log_to_driver=False, **kw)
        started = True
    try:
        storage = base.data_dir / "training" / "sweep"
        storage.mkdir(parents=True, exist_ok=True)
        trainable = tune.with_resources(tune.with_parameters(_run_trial, base=base),
                                        {"cpu": space.cpus_per_trial})
        tuner = tune.Tuner(
            trainable, param_space=search_space(space),
            tune_config=tune.TuneConfig(
                num_samples=n_trials, max_concurrent_trials=space.max_concurrent or None,
                search_alg=BasicVariantGenerator(random_state=base.seed)),
            run_config=tune.RunConfig(name=version, storage_path=str(storage), verbose=0))
        with contextlib.redirect_stdout(sys.stderr):  # Ray's chatter: stdout stays clean
            grid = tuner.fit()
    finally:
        if started:
            ray.shutdown()
    trials = []
    for res in grid:
        if res.error is not None:
            trials.append({"trial": None, "error": str(res.error).strip().splitlines()[-1]})
        else:
            trials.append(dict(res.metrics))
    trials = [{k: v for k, v in t.items() if k in _KEEP} for t in trials]
    trials.sort(key=lambda t: t.get("trial") or "~")
    good = [t for t in trials if "error" not in t]
    if not good:
        raise SweepError(f"no sweep trial finished: {trials[0]['error'] if trials else 'none'}")
    best = max(good, key=rank_key)
    promoted = bool(best["gate_passed"])
    reason = (f"best of {len(good)} sweep trials on validation ({best['trial']}); gate: "
              f"{best['gate_reason']}")
    if promoted:
        _mark_promoted(Path(best["folder"]), reason)
        registry.promote(base.models_dir, best["version"], reason=reason)
    seconds = time.monotonic() - t0
    report = _write_report(best, trials, promoted, reason, n_trials, seconds)
    write_run_state(base.data_dir, best.get("last_real_ts_ms"), best["version"], promoted)
    return SweepOutcome(version, trials, best, promoted, reason, report, seconds)


_KEEP = {"trial", "error", "version", "folder", "report", "seconds", "chosen",
         "qualified_on_validation", "validation_pnl_per_game", "validation_roi",
         "gate_passed", "gate_reason", "heldout_pnl_per_game", "heldout_roi", "heldout_games",
         "refused_share", "ppo_timesteps", "ppo_steps_per_s", "seed", "n_envs", "env_processes",
         "hyperparameters", "last_real_ts_ms"}


def _mark_promoted(folder: Path, reason: str) -> None:
    """The best trial's manifest says what the sweep did with it (written atomically)."""
    path = folder / registry.MANIFEST
    man = json.loads(path.read_text())
    man["promotion"] = man.get("promotion", {}) | {"promoted": True, "reason": reason}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(man, indent=2, default=str))
    os.replace(tmp, path)


def format_trials(trials: list[dict], best: dict | None) -> str:
    """Every trial's figures as a fixed-width table (validation ranks, the gate decides)."""
    head = (f"{'trial':<6}{'seed':>6}{'lr':>9}{'ent':>7}{'clip':>6}{'gamma':>7}"
            f"{'PPO steps':>11}{'val P&L/game':>14}{'qual':>6}{'held P&L/game':>15}"
            f"{'gate':>6}")
    rows = [head]
    for t in trials:
        if "error" in t:
            rows.append(f"{'?':<6} failed: {t['error']}")
            continue
        h = t["hyperparameters"]
        mark = "*" if best is not None and t["trial"] == best["trial"] else " "
        val = t["validation_pnl_per_game"]
        held = t["heldout_pnl_per_game"]
        rows.append(
            f"{t['trial'] + mark:<6}{t['seed']:>6}{h['learning_rate']:>9.1e}"
            f"{h['ent_coef']:>7.3f}{h['clip_range']:>6.2f}{h['gamma']:>7.3f}"
            f"{t['ppo_timesteps'] or 0:>11}{val if val is not None else float('nan'):>+14.6f}"
            f"{'yes' if t['qualified_on_validation'] else 'no':>6}"
            f"{held if held is not None else float('nan'):>+15.6f}"
            f"{'pass' if t['gate_passed'] else 'fail':>6}")
    return "\n".join(rows)


def _write_report(best: dict, trials: list[dict], promoted: bool, reason: str,
                  n_trials: int, seconds: float) -> Path:
    folder = Path(best["folder"])
    (folder / "sweep.json").write_text(json.dumps(
        {"trials_requested": n_trials, "seconds": round(seconds, 1), "best": best["trial"],
         "promoted": promoted, "reason": reason, "trials": trials}, indent=2, default=str))
    report = folder / "report.md"
    with report.open("a") as fh:
        fh.write(f"\n## Sweep ({len(trials)} trials on Ray Tune, {seconds / 60:.1f} min)\n\n"
                 f"Ranked on the validation split (qualified first, then P&L per game); "
                 f"the best trial (*) alone went through the promotion decision: "
                 f"**{'PROMOTED' if promoted else 'NOT PROMOTED'}** — {reason}.\n\n"
                 f"```\n{format_trials(trials, best)}\n```\n")
    return report
