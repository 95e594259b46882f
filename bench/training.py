"""Training throughput: single vs vectorised env and PPO side by side, backtests on the
replay path, a small retrain.

Single env (``RugsEnv``) and vectorised env (``RugsVecEnv``, ``N_ENVS`` one-path games
stepped together; proven equal slot for slot by ``tests/training/test_training_vecenv.py``)
are measured in the same run, in alternating rounds (the machine is shared: medians of
``ROUNDS``), with the same network and hyperparameters (``make_model``: the retrain's 2048-step
rollout per update, split across the slots):

- ``env_steps_per_s`` / ``vec_env_steps_per_s`` — env steps with random valid actions
  (one step = one decision through the daemon's decision core, on the simulator's event
  stream: 41 presale decisions per game, then one per tick);
- ``ppo_steps_per_s`` / ``vec_ppo_steps_per_s`` / ``procs_ppo_steps_per_s`` —
  MaskablePPO environment steps per second including the updates, on the single env, the
  vectorised env in one process, and the vectorised env as ``rugsd retrain`` runs it by
  default (its slots on ``env_processes`` processes, one per CPU: ``ProcVecEnv``, proven
  equal step for step by ``tests/training/test_training_vecprocs.py``). Medians over
  ``PPO_ROUNDS`` rounds that run all three back to back, in alternating order;
- ``ppo_speedup`` — the retrain's default over the single env (wall clock: what a
  retrain's budget buys), the median of the rounds' paired ratios, with each round's in
  ``ppo_speedup_rounds`` (their spread is the machine's noise); ``ppo_speedup_one_process``
  the same for the one-process vectorised env (one core each side);
- ``*_per_cpu_s`` — the same per second of the process's CPU time (one thread), which
  a machine shared with other work disturbs much less than the wall clock (single and
  one-process envs only: a worker's CPU time is not this process's);
- ``ppo_steps_per_retrain`` / ``vec_ppo_steps_per_retrain`` — what the PPO phase of a
  default 30-minute ``rugsd retrain`` buys (it has 47 % of the budget) on the single env
  and on the retrain's default env;
- ``backtest_ticks_per_s`` / ``backtest_events_per_s`` — a held-out evaluation on the
  replay path (``rugsd.training.backtest.backtest``: ``play`` on a core built from the
  default configuration, rule strategy, simulated games);
- ``retrain_seconds`` — ``rugsd.training.pipeline.retrain`` with a 0.5-minute budget on the
  in-repo sample of real recordings + simulated games (the budget floor is 30 s of phases);
- ``ppo_steps_per_hour`` / ``env_games_per_hour`` — training volume per hour (vectorised).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rugsd.daemon.config import TrainingConfig
from rugsd.training.train_env import env_processes

ROUNDS = 3
PPO_ROUNDS = 7
# env steps of PPO per round: one 2048-step rollout and its update for the single env,
# four for the vectorised one (each about a second on the 2-core box)
PPO_ROUND_STEPS = {"single": 2048, "vec": 8192, "procs": 8192}
N_ENVS = int(os.environ.get("RUGSD_BENCH_N_ENVS", "0")) or TrainingConfig().n_envs
# the retrain's default: the vectorised env's slots on one process per CPU
PROCESSES = env_processes(N_ENVS, TrainingConfig().env_processes)
PPO_SHARE = 0.65 - 0.18  # the PPO phase's share of a retrain budget (pipeline.retrain)
RETRAIN_S = 30 * 60


def _env_rates() -> dict:
    from rugsd.training.dataset import simulated_games
    from rugsd.training.env import RugsEnv
    from rugsd.training.vecenv import RugsVecEnv

    games = simulated_games(200, seed=1)
    single = RugsEnv(games)
    single.reset(seed=0)
    vec = RugsVecEnv(games, N_ENVS, seed=0)
    vec.reset()
    rng = np.random.default_rng(0)
    rates: dict[str, list[float]] = {k: [] for k in ("single", "vec", "games", "single_cpu",
                                                     "vec_cpu")}
    for _ in range(ROUNDS):
        n = eps = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < 1.0:
            a = int(rng.choice(np.flatnonzero(single.action_masks())))
            _, _, term, trunc, _ = single.step(a)
            n += 1
            if term or trunc:
                single.reset()
        rates["single"].append(n / (time.perf_counter() - t0))
        rates["single_cpu"].append(n / (time.process_time() - c0))
        n = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < 1.0:
            actions = [rng.choice(np.flatnonzero(m)) for m in vec.action_masks()]
            _, _, dones, _ = vec.step(np.array(actions))
            n += N_ENVS
            eps += int(dones.sum())
        dt = time.perf_counter() - t0
        rates["vec"].append(n / dt)
        rates["vec_cpu"].append(n / (time.process_time() - c0))
        rates["games"].append(eps / dt)
    return {k: statistics.median(v) for k, v in rates.items()}


def _ppo_rates() -> dict:
    from rugsd.training.dataset import simulated_games
    from rugsd.training.env import RugsEnv
    from rugsd.training.policy import make_model, obs_stats, rule_demos, train_ppo
    from rugsd.training.train_env import make_train_env

    games = simulated_games(200, seed=2)
    demos = rule_demos(RugsEnv(games, shuffle=False), 20)
    mean, std = obs_stats(demos.obs)
    # the retrain's own rollout (ROLLOUT_STEPS per update, split across the slots)
    models = {"single": make_model(make_train_env(games, 1), mean, std),
              "vec": make_model(make_train_env(games, N_ENVS), mean, std),
              "procs": make_model(make_train_env(games, N_ENVS, processes=PROCESSES), mean, std)}
    for model in models.values():
        train_ppo(model, 2048, budget_s=60)  # warm-up
    rates: dict[str, list[float]] = {k: [] for k in [*models, *(f"{m}_cpu" for m in models)]}
    ratios: list[float] = []
    proc_ratios: list[float] = []
    for r in range(PPO_ROUNDS):
        # about a second each, alternating which goes first: a slow spell of the shared
        # machine then falls on both sides of a round's ratio
        order = list(models) if r % 2 == 0 else list(reversed(models))
        for name in order:
            model = models[name]
            start = model.num_timesteps
            t0, c0 = time.perf_counter(), time.process_time()
            run = train_ppo(model, PPO_ROUND_STEPS[name], budget_s=120)
            rates[name].append((run.timesteps - start) / (time.perf_counter() - t0))
            rates[f"{name}_cpu"].append((run.timesteps - start) / (time.process_time() - c0))
        ratios.append(rates["vec"][-1] / rates["single"][-1])
        proc_ratios.append(rates["procs"][-1] / rates["single"][-1])
    models["procs"].env.close()
    out = {k: statistics.median(v) for k, v in rates.items()}
    out["ratios"], out["proc_ratios"] = ratios, proc_ratios
    return out


def _backtest_rate() -> tuple[float, float]:
    from rugsd.daemon.config import Settings
    from rugsd.strategy.rules import PresaleTargetStrategy
    from rugsd.training.backtest import backtest
    from rugsd.training.dataset import simulated_games

    games = simulated_games(300, seed=3)
    settings = Settings()
    rates, events = [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        session = backtest(PresaleTargetStrategy(settings.strategy), games, settings)
        dt = time.perf_counter() - t0
        rates.append(sum(r.ticks for r in session.results) / dt)
        events.append(session.played.events / dt)
    return statistics.median(rates), statistics.median(events)


def _retrain_seconds() -> float:
    from rugsd.training.pipeline import RetrainConfig, retrain

    sample = Path(__file__).resolve().parents[1] / "tests" / "data" / "real" / "recordings"
    tmp = Path(tempfile.mkdtemp(prefix="rugsd-bench-retrain-"))
    try:
        t0 = time.perf_counter()
        retrain(RetrainConfig(tmp / "data", tmp / "models", [sample], max_minutes=0.5))
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run() -> dict:
    """All training figures."""
    env = _env_rates()
    ppo = _ppo_rates()
    return {
        "n_envs": N_ENVS,
        "env_steps_per_s": round(env["single"], 1),
        "vec_env_steps_per_s": round(env["vec"], 1),
        "env_games_per_hour": round(env["games"] * 3600),
        "ppo_steps_per_s": round(ppo["single"], 1),
        "vec_ppo_steps_per_s": round(ppo["vec"], 1),
        # the retrain's default (the slots on PROCESSES processes) over the single env:
        # the median of the rounds' paired ratios (each round runs all, back to back)
        "env_processes": PROCESSES,
        "procs_ppo_steps_per_s": round(ppo["procs"], 1),
        "ppo_speedup": round(statistics.median(ppo["proc_ratios"]), 2),
        "ppo_speedup_rounds": [round(r, 2) for r in ppo["proc_ratios"]],
        # the same slots on one process (one core, like the single env)
        "ppo_speedup_one_process": round(statistics.median(ppo["ratios"]), 2),
        "ppo_speedup_one_process_rounds": [round(r, 2) for r in ppo["ratios"]],
        # per second of this process's CPU time (one thread): steadier than the wall
        # clock on a machine shared with other work
        "env_steps_per_cpu_s": round(env["single_cpu"], 1),
        "vec_env_steps_per_cpu_s": round(env["vec_cpu"], 1),
        "ppo_steps_per_cpu_s": round(ppo["single_cpu"], 1),
        "vec_ppo_steps_per_cpu_s": round(ppo["vec_cpu"], 1),
        "ppo_speedup_cpu": round(ppo["vec_cpu"] / ppo["single_cpu"], 2),
        "ppo_steps_per_retrain": round(ppo["single"] * PPO_SHARE * RETRAIN_S),
        "vec_ppo_steps_per_retrain": round(ppo["procs"] * PPO_SHARE * RETRAIN_S),
        "ppo_steps_per_hour": round(ppo["procs"] * 3600),
        **dict(zip(("backtest_ticks_per_s", "backtest_events_per_s"),
                   (round(v, 1) for v in _backtest_rate()), strict=True)),
        "retrain_seconds": round(_retrain_seconds(), 1),
        # the machine is shared: its 1-minute load average when the run ended
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
