"""The batched backtest gives, game by game, exactly what the event-by-event core gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rugsd.daemon.config import StrategyConfig
from rugsd.strategy.bundle import load_bundle
from rugsd.strategy.features_batch import build_batch
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.strategy.testing import policy_model, random_layers, sidebet_model, write_bundle
from rugsd.training.backtest import backtest
from rugsd.training.batch_backtest import BatchBacktest, batch_backtest, game_block_many
from rugsd.training.dataset import dedupe, games_from_recordings, simulated_games
from rugsd.training.evaluate import evaluate_strategies, summarise

CFG = StrategyConfig(sidebet_threshold=0.45)


@pytest.fixture(scope="module")
def games(real_data_dir: Path):
    """Real recorded games (in session order) followed by simulated ones."""
    files = sorted((real_data_dir / "recordings").glob("*.jsonl"))[:60]
    real = dedupe(games_from_recordings(files))
    assert len(real) >= 30
    return real[:60] + simulated_games(60, seed=21, prefix="bt")


def _bundle(tmp: Path, seed: int, wait_bias: float) -> Path:
    """A deterministic two-layer policy (WAIT favoured by ``wait_bias``) + sidebet model."""
    layers = random_layers([40, 16, 8], seed=seed, scale=0.6)
    w, b = layers[-1]
    b = b.copy()
    b[0] += wait_bias
    layers[-1] = (w, b)
    side = sidebet_model(layers=random_layers([40, 1], seed + 1, 0.3))
    return write_bundle(tmp / f"bundle-{seed}", policy=policy_model(layers=layers),
                        sidebet=side, sidebet_usable=True, version=f"bt-{seed}")


def _fields(r) -> tuple:
    return (r.game_id, r.pnl, r.staked, r.buys, r.sells, r.sidebets, r.null_ev, r.ticks,
            dict(r.decisions))


def test_game_blocks_of_many_games_are_bit_identical_to_build_batch(games):
    blocks, offsets = game_block_many([g.prices for g in games])

    for g, off in zip(games, offsets.tolist(), strict=True):
        ts = g.start_ms + np.arange(g.rug_tick, dtype=np.int64) * 250
        ref = build_batch(g.prices, ts_ms=ts, started_ts_ms=g.start_ms)[:, : blocks.shape[1]]
        assert np.array_equal(blocks[off : off + g.rug_tick].astype(np.float32), ref), g.game_id


@pytest.mark.parametrize(("seed", "wait_bias"), [(0, 1.5), (2, 2.1)])
def test_batched_backtest_equals_the_core_backtest_game_by_game(games, tmp_path, seed,
                                                                wait_bias):
    path = _bundle(tmp_path, seed, wait_bias)
    core = backtest(OnnxStrategy(load_bundle(path), CFG), games, cfg=CFG)

    runner = BatchBacktest(OnnxStrategy(load_bundle(path), CFG), cfg=CFG, batch_games=50)
    batched = runner.run(games)

    assert [_fields(r) for r in batched] == [_fields(r) for r in core]
    # the bundle really trades: buys, sells, sidebets and risk refusals all happened
    assert sum(r.buys for r in core) > 20
    assert sum(r.sells for r in core) > 20
    assert sum(r.sidebets for r in core) > 5
    assert runner.stats.gate_calls > sum(r.buys + r.sells + r.sidebets for r in core)
    assert runner.stats.fallback_games == 0
    assert runner.stats.ticks == sum(g.rug_tick for g in games)


def test_batch_size_does_not_change_results(games, tmp_path):
    path = _bundle(tmp_path, 0, 1.5)
    strat = OnnxStrategy(load_bundle(path), CFG)

    one = batch_backtest(strat, games, cfg=CFG, batch_games=7)
    many = batch_backtest(strat, games, cfg=CFG, batch_games=1000)

    assert [_fields(r) for r in one] == [_fields(r) for r in many]


def test_evaluation_rows_of_an_onnx_strategy_match_the_core_backtest(games, tmp_path):
    path = _bundle(tmp_path, 2, 2.1)
    held = games[:40]
    ref = summarise(backtest(OnnxStrategy(load_bundle(path), CFG), held, cfg=CFG), seed=3)

    rows, results = evaluate_strategies({"bundle": OnnxStrategy(load_bundle(path), CFG)}, held,
                                        cfg=CFG, seed=3)

    assert rows["bundle"] == ref
    assert len(results["bundle"]) == len(held)
