"""Training throughput: env steps, PPO steps, core backtest ticks, a small retrain.

Figures (medians of a few timed rounds where cheap):

- ``env_steps_per_s`` — ``RugsEnv`` steps with random valid actions (one step = one
  decision through the daemon's decision core);
- ``ppo_steps_per_s`` — MaskablePPO environment steps per second including updates;
- ``backtest_ticks_per_s`` — held-out backtest through ``DecisionCore`` (rule strategy);
- ``batch_backtest_ticks_per_s`` — ``rugsd.training.batch_backtest`` of an ONNX bundle (64x64
  MLP policy acting on ~1 % of ticks, 32-unit sidebet model) on 4 000 simulated games,
  features included; ``batch_backtest_busy_ticks_per_s`` the same with a policy acting
  on ~5 % of ticks (every non-WAIT intent goes through the risk gate and paper venue in
  Python); ``batch_vs_core_speedup`` against the core backtest of the same bundle;
- ``retrain_seconds`` — ``rugsd.training.pipeline.retrain`` with a 0.5-minute budget on 30
  real recordings + simulated games (the budget floor is 30 s of phases);
- ``ppo_steps_per_hour`` / ``env_games_per_hour`` — training volume per hour.
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


def _backtest_rate() -> float:
    from rugsd.daemon.config import StrategyConfig
    from rugsd.strategy.rules import PresaleTargetStrategy
    from rugsd.training.backtest import backtest
    from rugsd.training.dataset import simulated_games

    games = simulated_games(300, seed=3)
    rates = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        res = backtest(PresaleTargetStrategy(StrategyConfig()), games)
        rates.append(sum(r.ticks for r in res) / (time.perf_counter() - t0))
    return statistics.median(rates)


def _batch_backtest_rates() -> tuple[float, float, float]:
    from rugsd.daemon.config import StrategyConfig
    from rugsd.strategy.bundle import load_bundle
    from rugsd.strategy.onnx_strategy import OnnxStrategy
    from rugsd.strategy.testing import policy_model, random_layers, sidebet_model, write_bundle
    from rugsd.training.backtest import backtest
    from rugsd.training.batch_backtest import batch_backtest
    from rugsd.training.dataset import simulated_games

    cfg = StrategyConfig(sidebet_threshold=0.45)
    games = simulated_games(4000, seed=4)
    tmp = Path(tempfile.mkdtemp(prefix="rugsd-bench-batch-"))
    out = []
    try:
        for bias in (4.5, 3.0):  # WAIT logit bias: ~1 % / ~5 % of decisions act
            layers = random_layers([40, 64, 64, 8], seed=5, scale=0.3)
            w, b = layers[-1]
            b = b.copy()
            b[0] += bias
            layers[-1] = (w, b)
            path = write_bundle(tmp / f"b{bias}", policy=policy_model(layers=layers),
                                sidebet=sidebet_model(layers=random_layers([40, 32, 1], 6, 0.3)))
            strat = OnnxStrategy(load_bundle(path), cfg)
            rates = []
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                res = batch_backtest(strat, games, cfg=cfg)
                rates.append(sum(r.ticks for r in res) / (time.perf_counter() - t0))
            out.append(statistics.median(rates))
            if bias == 4.5:
                few = games[:300]
                t0 = time.perf_counter()
                res = backtest(strat, few, cfg=cfg)
                core = sum(r.ticks for r in res) / (time.perf_counter() - t0)
        return out[0], out[1], out[0] / core
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _retrain_seconds() -> float:
    from rugsd.training.pipeline import BUNDLED_RECORDINGS, RetrainConfig, retrain

    tmp = Path(tempfile.mkdtemp(prefix="rugsd-bench-retrain-"))
    try:
        recs = tmp / "recs"
        recs.mkdir()
        if BUNDLED_RECORDINGS.is_dir():
            for f in sorted(BUNDLED_RECORDINGS.glob("*.jsonl"))[:30]:
                shutil.copy(f, recs / f.name)
        t0 = time.perf_counter()
        retrain(RetrainConfig(tmp / "data", tmp / "models", [recs], max_minutes=0.5))
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
        "backtest_ticks_per_s": round(_backtest_rate(), 1),
        **dict(zip(("batch_backtest_ticks_per_s", "batch_backtest_busy_ticks_per_s",
                    "batch_vs_core_speedup"),
                   (round(v, 1) for v in _batch_backtest_rates()), strict=True)),
        "retrain_seconds": round(_retrain_seconds(), 1),
    }

