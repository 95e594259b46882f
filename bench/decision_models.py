"""Per-tick cost of features + policy + sidebet (the strategy part of the decision loop).

Figures (µs unless named otherwise), measured over every active tick of simulated games:

- ``features`` — ``FeatureBuilder.build`` into the models' shared input row;
- ``decide_*`` — ``OnnxStrategy.decide`` on those features (mask, sidebet, policy,
  argmax, softmax) for the tiny linear graphs and for a 64×64 tanh MLP, with the bundle's
  combined graph (one onnxruntime call per tick); ``*_two_calls`` — the same 64×64
  bundle run as two separate graphs (a bundle without ``decide.onnx``), measured in the
  same run;
- ``tick_*`` — features + decide, the figure the 100 µs p50 budget is about;
- ``sb3_*`` — the same 64×64 network through SB3 ``MaskablePPO.predict`` (plus a torch
  logistic sidebet) on the same features, for reference; ``speedup`` = sb3 / onnx p50;
- ``batch_ticks_per_s`` — ``build_batch`` + batched policy and sidebet over whole games.

Fastest per-tick recipe for the decision core (what ``tick_*`` measures):

    strat = build_strategy(settings)                 # OnnxStrategy
    builder = FeatureBuilder(strat.obs_row)          # features land in the models' input
    decision = strat.decide(view, account, builder.build(view, account))
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._sb3 import HIDDEN, sb3_twin
from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.engine import generate_game
from rugsd.daemon.state.prices import PriceHistory
from rugsd.daemon.state.view import GameSummary, GameView
from rugsd.strategy.actions import N_ACTIONS, ActionTable, mask_values
from rugsd.strategy.bundle import load_bundle
from rugsd.strategy.features import N_FEATURES, FeatureBuilder
from rugsd.strategy.features_batch import build_batch
from rugsd.strategy.onnx_strategy import OnnxStrategy
from tests.kits.onnx_graphs import policy_model, write_bundle

CFG = StrategyConfig(name="onnx")
RECENT = tuple(GameSummary(f"g{i}", 80 + 20 * i, 1.0 + 0.5 * i) for i in range(10))


def _games(n: int) -> list[list[float]]:
    return [list(generate_game("5eed" * 16, f"20250301-{i:016x}").prices) for i in range(n)]


def _views(games: list[list[float]], limit: int) -> list[tuple[GameView, Account]]:
    """(view, account) for every active tick, alternating flat and holding accounts."""
    out = []
    for g, prices in enumerate(games):
        peak = 0.0
        for t, p in enumerate(prices):
            peak = max(peak, p)
            view = GameView(
                game_id=str(g), phase=Phase.ACTIVE, tick=t, price=p,
                prices=PriceHistory(prices, t + 1), peak=peak, cooldown_ms=0,
                allow_prebuys=False, ts_ms=1000 + 250 * t, started_ts_ms=1000, recent=RECENT,
            )  # fmt: skip
            acct = (
                Account(balance=10**10, qty=10**7, cost=10**7, entry_tick=0)
                if t % 2
                else Account(balance=10**10)
            )
            out.append((view, acct))
            if len(out) >= limit:
                return out
    return out


def _pct(samples: list[int]) -> dict[str, float]:
    a = np.asarray(samples, dtype=np.float64) / 1000.0
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
    }


def _time_ticks(strat: OnnxStrategy, ticks: list[tuple[GameView, Account]]) -> dict[str, dict]:
    builder = FeatureBuilder(strat.obs_row)
    feats_ns, decide_ns, tick_ns = [], [], []
    clock = time.perf_counter_ns
    for _ in range(2):  # first pass warms caches and the allocator
        feats_ns.clear(), decide_ns.clear(), tick_ns.clear()
        for view, acct in ticks:
            t0 = clock()
            f = builder.build(view, acct)
            t1 = clock()
            strat.decide(view, acct, f)
            t2 = clock()
            feats_ns.append(t1 - t0)
            decide_ns.append(t2 - t1)
            tick_ns.append(t2 - t0)
    return {"features": _pct(feats_ns), "decide": _pct(decide_ns), "tick": _pct(tick_ns)}


def _sb3_reference(
    ticks: list[tuple[GameView, Account]], tmp: Path
) -> tuple[dict[str, dict], OnnxStrategy]:
    """SB3 MaskablePPO.predict on the same 64x64 net, and the ONNX twin of that net."""
    import torch

    model, sidebet_torch, folder = sb3_twin(tmp)
    twin = OnnxStrategy(load_bundle(folder), CFG)
    table = ActionTable.from_config(CFG)
    builder = FeatureBuilder()
    clock = time.perf_counter_ns
    ns = []
    agree = 0
    for _ in range(2):
        ns.clear()
        agree = 0
        for view, acct in ticks:
            t0 = clock()
            f = builder.build(view, acct)
            mask = np.array(mask_values(view, acct, table))
            with torch.no_grad():
                float(sidebet_torch(torch.as_tensor(f[None]))[0, 0])
            action, _ = model.predict(f, action_masks=mask, deterministic=True)
            t1 = clock()
            ns.append(t1 - t0)
            onnx_action = twin.decide(view, acct, f).outputs.action_index
            agree += int(action) == onnx_action
    return {"sb3_tick": _pct(ns), "sb3_onnx_agreement": round(agree / len(ticks), 4)}, twin


def _batch_rate(strat: OnnxStrategy, games: list[list[float]]) -> float:
    mask = np.ones((max(len(g) for g in games), N_ACTIONS), dtype=bool)
    total = 0
    t0 = time.perf_counter()
    for prices in games:
        obs = build_batch(prices, recent=RECENT)
        strat.bundle.policy.logits_batch(obs, mask[: len(prices)])
        strat.bundle.sidebet.p_rug_batch(obs)
        total += len(prices)
    return total / (time.perf_counter() - t0)


def run() -> dict:
    """Measure and return the figures (see the module docstring)."""
    games = _games(400)
    ticks = _views(games, 20_000)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        tiny = OnnxStrategy(load_bundle(write_bundle(tmp / "tiny")), CFG)
        mlp_bundle = load_bundle(
            write_bundle(tmp / "mlp", policy=policy_model(layers=_mlp_layers()), decide=True))
        mlp = OnnxStrategy(mlp_bundle, CFG)
        two_calls = OnnxStrategy(dataclasses.replace(mlp_bundle, decide=None), CFG)
        linear = _time_ticks(tiny, ticks)
        deep = _time_ticks(mlp, ticks)
        deep_two = _time_ticks(two_calls, ticks)
        figures: dict = {
            "ticks_measured": len(ticks),
            "features": linear["features"],
            "decide_linear": linear["decide"],
            "tick_linear": linear["tick"],
            "decide_mlp64x64": deep["decide"],
            "tick_mlp64x64": deep["tick"],
            "decide_mlp64x64_two_calls": deep_two["decide"],
            "tick_mlp64x64_two_calls": deep_two["tick"],
            "batch_ticks_per_s": round(_batch_rate(tiny, games)),
        }
        try:
            sb3, twin = _sb3_reference(ticks[:5_000], tmp)
        except ImportError as err:  # train extra not installed
            figures["sb3"] = f"skipped: {err}"
        else:
            twin_t = _time_ticks(twin, ticks[:5_000])["tick"]
            figures.update(sb3)
            figures["tick_onnx_sb3twin"] = twin_t
            figures["speedup_vs_sb3_p50"] = round(sb3["sb3_tick"]["p50"] / twin_t["p50"], 1)
    return figures


def _mlp_layers() -> list[tuple[np.ndarray, np.ndarray]]:
    from tests.kits.onnx_graphs import random_layers

    return random_layers([N_FEATURES, *HIDDEN, N_ACTIONS], seed=7)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
