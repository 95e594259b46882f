"""Training throughput: env steps, PPO steps, backtests on the replay path, a small retrain.

Figures (medians of a few timed rounds where cheap):

- ``env_steps_per_s`` — ``RugsEnv`` steps with random valid actions (one step = one
  decision through the daemon's decision core, on the simulator's event stream: 150
  cooldown updates and 41 presale decisions per game, then one per tick);
- ``ppo_steps_per_s`` — MaskablePPO environment steps per second including updates;
- ``backtest_ticks_per_s`` / ``backtest_events_per_s`` — a held-out evaluation on the
  replay path (``rugsd.training.backtest.backtest``: ``play`` on a core built from the
  default configuration, rule strategy, simulated games);
- ``retrain_seconds`` — ``rugsd.training.pipeline.retrain`` with a 0.5-minute budget on the
  in-repo sample of real recordings + simulated games (the budget floor is 30 s of phases);
- ``ppo_steps_per_hour`` / ``env_games_per_hour`` — training volume per hour.

(The batched backtest measured here before was removed: it was not proven equal to the
event path at the real presale cadence and under the daemon's [risk].)
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROUNDS = 3


def _env_rate() -> tuple[float, float]:
    from rugsd.training.dataset import simulated_games
    from rugsd.training.env import RugsEnv

    env = RugsEnv(simulated_games(200, seed=1))
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    rates, games = [], []
    for _ in range(ROUNDS):
        n = eps = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 1.0:
            _, _, term, trunc, _ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
            n += 1
            if term or trunc:
                eps += 1
                env.reset()
        dt = time.perf_counter() - t0
        rates.append(n / dt)
        games.append(eps / dt)
    return statistics.median(rates), statistics.median(games)


def _ppo_rate() -> float:
    from rugsd.training.dataset import simulated_games
    from rugsd.training.env import RugsEnv
    from rugsd.training.policy import make_model, obs_stats, rule_demos, train_ppo

    games = simulated_games(200, seed=2)
    demos = rule_demos(RugsEnv(games, shuffle=False), 20)
    mean, std = obs_stats(demos.obs)
    model = make_model(RugsEnv(games), mean, std, n_steps=1024)
    train_ppo(model, 1024, budget_s=60)  # warm-up
    t0 = time.perf_counter()
    run = train_ppo(model, 8192, budget_s=120)
    return (run.timesteps - 1024) / (time.perf_counter() - t0)


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
    env_rate, env_games = _env_rate()
    ppo = _ppo_rate()
    return {
        "env_steps_per_s": round(env_rate, 1),
        "env_games_per_hour": round(env_games * 3600),
        "ppo_steps_per_s": round(ppo, 1),
        "ppo_steps_per_hour": round(ppo * 3600),
        **dict(zip(("backtest_ticks_per_s", "backtest_events_per_s"),
                   (round(v, 1) for v in _backtest_rate()), strict=True)),
        "retrain_seconds": round(_retrain_seconds(), 1),
    }

