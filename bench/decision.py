"""Decision latency: feed payload → risk verdict, with both ONNX models, vs SB3.

Measured per active tick over simulated games: a raw ``gameStateUpdate`` payload (the
real site's shape, from ``key_samples.json``) is parsed by ``EventParser`` and stepped
through the whole ``DecisionCore`` (state machine, features, ONNX policy + sidebet,
risk gate, paper venue, journal records) — everything but the journal's disk write.

The reference loop is identical except that the strategy calls SB3's
``MaskablePPO.predict`` (and a torch sidebet) on the same 64×64 network.

Keys: ``p50_us``, ``p99_us`` (ONNX), ``reference_p50_us``, ``reference_p99_us`` (SB3),
``speedup_p50``, ``ticks_measured``.
"""

from __future__ import annotations

import copy
import gc
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._sb3 import sb3_twin
from rugsd.daemon.config import Settings, StrategyConfig
from rugsd.daemon.game.engine import generate_game
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.runtime.build import make_core
from rugsd.strategy.actions import ActionTable, mask_values
from rugsd.strategy.base import Decision, ModelOutputs
from rugsd.strategy.bundle import load_bundle
from rugsd.strategy.onnx_strategy import OnnxStrategy

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared/data/real/key_samples.json"
HIDDEN = [64, 64]
N_GAMES = 120


def _templates() -> tuple[dict, dict]:
    data = json.loads(SAMPLES.read_text())
    return data["03_presale_transition"]["data"], data["05_active_midgame"]["data"]


def _payload_stream(n_games: int) -> list[tuple[dict, bool]]:
    """(payload, is_active_tick) for presale + every tick + rug of ``n_games`` games."""
    presale, active = _templates()
    stream = []
    for g in range(n_games):
        game_id = f"20250301-{g:016x}"
        prices = generate_game("be" * 32, game_id).prices
        pre = copy.deepcopy(presale)
        pre["gameId"] = game_id
        stream.append((pre, False))
        for t, p in enumerate(prices):
            ev = dict(active)
            ev.update(gameId=game_id, tickCount=t, price=p, rugged=False, active=True,
                      partialPrices={"startTick": max(0, t - 4), "endTick": t,
                                     "values": {str(k): prices[k] for k in range(max(0, t - 4), t + 1)}})
            stream.append((ev, True))
        rug = dict(active)
        rug.update(gameId=game_id, tickCount=len(prices), price=prices[-1] * 0.01, rugged=True)
        stream.append((rug, False))
    return stream


class Sb3Strategy:
    """The reference: the same network through SB3's ``predict``."""

    name = "sb3"

    def __init__(self, model, sidebet, table: ActionTable) -> None:
        self.model, self.sidebet, self.table = model, sidebet, table

    def decide(self, view, account, features=None) -> Decision:
        import torch

        mask = np.array(mask_values(view, account, self.table))
        with torch.no_grad():
            p_rug = float(self.sidebet(torch.as_tensor(features[None]))[0, 0])
        action, _ = self.model.predict(features, action_masks=mask, deterministic=True)
        return Decision(self.table.intent_for(int(action)), ModelOutputs(None, p_rug, int(action)))


def _measure(strategy, stream, settings: Settings) -> list[int]:
    core = make_core(settings, run_id="bench", order_prefix="bench", strategy=strategy)
    parser = EventParser()
    clock = time.perf_counter_ns
    samples: list[int] = []
    ts = 1_700_000_000_000
    for payload, active in stream:
        ts += 250
        t0 = clock()
        event = parser.parse("gameStateUpdate", (payload,), ts)
        core.step(event)
        t1 = clock()
        if active:
            samples.append(t1 - t0)
    return samples


def _pct(ns: list[int], q: float) -> float:
    return round(float(np.percentile(np.array(ns) / 1000.0, q)), 1)


def run() -> dict:
    """Measure both loops on the same payload stream."""
    settings = Settings()
    stream = _payload_stream(N_GAMES)
    cfg = StrategyConfig(name="onnx")
    with tempfile.TemporaryDirectory() as d:
        model, side, folder = sb3_twin(Path(d))
        onnx_strategy = OnnxStrategy(load_bundle(folder), cfg)
        ref_strategy = Sb3Strategy(model, side, ActionTable.from_config(cfg))
        _measure(onnx_strategy, stream[:2000], settings)  # warm-up
        # the pre-built payload stream is the bench's, not the daemon's (which receives
        # payloads one by one and freezes its start-up objects the same way)
        gc.collect()
        gc.freeze()
        onnx_ns = _measure(onnx_strategy, stream, settings)
        ref_ns = _measure(ref_strategy, stream, settings)
        gc.unfreeze()
    p50, ref50 = _pct(onnx_ns, 50), _pct(ref_ns, 50)
    return {
        "p50_us": p50,
        "p99_us": _pct(onnx_ns, 99),
        "reference_p50_us": ref50,
        "reference_p99_us": _pct(ref_ns, 99),
        "speedup_p50": round(ref50 / p50, 1),
        "ticks_measured": len(onnx_ns),
        "what": "gameStateUpdate payload -> EventParser -> DecisionCore.step (state, features, "
                "ONNX policy 64x64 + sidebet, risk gate, paper venue, records)",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
