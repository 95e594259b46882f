"""Decision latency: feed payload → risk verdict, with both ONNX models, vs SB3.

Measured per active tick over simulated games: a raw ``gameStateUpdate`` payload (the
real site's shape, from ``key_samples.json``) is parsed by ``EventParser`` and stepped
through the whole ``DecisionCore`` (state machine, features, ONNX policy + sidebet,
risk gate, paper venue, journal records) — everything but the journal's disk write.

The reference loop is identical except that the strategy calls SB3's
``MaskablePPO.predict`` (and a torch sidebet) on the same 64×64 network. The two loops
run interleaved, game by game (ONNX first on even games, SB3 first on odd ones), each on
its own core and parser, so a change in the machine's speed during the run (another
process, frequency scaling) falls on both alike and the ratio stays a same-time figure.
``speedup_p50_thirds`` repeats the ratio on each third of the games: its spread shows how
much of the figure is noise.

Keys: ``p50_us``, ``p99_us`` (ONNX), ``reference_p50_us``, ``reference_p99_us`` (SB3),
``speedup_p50``, ``speedup_p50_thirds``, ``ticks_measured``.
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
N_GAMES = 125  # the first 5 warm both loops up


def _templates() -> tuple[dict, dict]:
    data = json.loads(SAMPLES.read_text())
    return data["03_presale_transition"]["data"], data["05_active_midgame"]["data"]


def _payload_stream(n_games: int) -> list[list[tuple[dict, bool]]]:
    """Per game, (payload, is_active_tick) for its presale, every tick and its rug."""
    presale, active = _templates()
    games = []
    for g in range(n_games):
        stream = []
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
        games.append(stream)
    return games


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


class _Loop:
    """One decision loop (a core and its parser) that times each active tick."""

    def __init__(self, strategy, settings: Settings) -> None:
        self.core = make_core(settings, run_id="bench", order_prefix="bench", strategy=strategy)
        self.parser = EventParser()
        self.ts = 1_700_000_000_000

    def measure(self, game: list[tuple[dict, bool]]) -> list[int]:
        parse, step, clock = self.parser.parse, self.core.step, time.perf_counter_ns
        samples: list[int] = []
        ts = self.ts
        for payload, active in game:
            ts += 250
            t0 = clock()
            step(parse("gameStateUpdate", (payload,), ts))
            t1 = clock()
            if active:
                samples.append(t1 - t0)
        self.ts = ts
        return samples


def _flat(games: list[list[int]]) -> list[int]:
    return [ns for game in games for ns in game]


def _pct(ns: list[int], q: float) -> float:
    return round(float(np.percentile(np.array(ns) / 1000.0, q)), 1)


def run() -> dict:
    """Measure both loops on the same payload stream."""
    settings = Settings()
    games = _payload_stream(N_GAMES)
    cfg = StrategyConfig(name="onnx")
    with tempfile.TemporaryDirectory() as d:
        model, side, folder = sb3_twin(Path(d))
        onnx_loop = _Loop(OnnxStrategy(load_bundle(folder), cfg), settings)
        ref_loop = _Loop(Sb3Strategy(model, side, ActionTable.from_config(cfg)), settings)
        for game in games[:5]:  # warm-up (both loops; these games are not measured)
            onnx_loop.measure(game)
            ref_loop.measure(game)
        # the pre-built payload stream is the bench's, not the daemon's (which receives
        # payloads one by one and freezes its start-up objects the same way)
        gc.collect()
        gc.freeze()
        onnx_ns: list[list[int]] = []
        ref_ns: list[list[int]] = []
        for i, game in enumerate(games[5:]):
            if i % 2 == 0:
                onnx_ns.append(onnx_loop.measure(game))
                ref_ns.append(ref_loop.measure(game))
            else:
                ref_ns.append(ref_loop.measure(game))
                onnx_ns.append(onnx_loop.measure(game))
        gc.unfreeze()
    flat, ref_flat = _flat(onnx_ns), _flat(ref_ns)
    p50, ref50 = _pct(flat, 50), _pct(ref_flat, 50)
    third = len(onnx_ns) // 3
    thirds = [
        round(_pct(_flat(ref_ns[k:k + third]), 50) / _pct(_flat(onnx_ns[k:k + third]), 50), 2)
        for k in range(0, 3 * third, third)
    ]
    return {
        "p50_us": p50,
        "p99_us": _pct(flat, 99),
        "reference_p50_us": ref50,
        "reference_p99_us": _pct(ref_flat, 99),
        "speedup_p50": round(ref50 / p50, 2),
        "speedup_p50_thirds": thirds,
        "ticks_measured": len(flat),
        "what": "gameStateUpdate payload -> EventParser -> DecisionCore.step (state, features, "
                "ONNX policy 64x64 + sidebet, risk gate, paper venue, records)",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
