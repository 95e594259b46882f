"""The combined graph (``decide.onnx``, one onnxruntime call per tick) decides exactly as the
two separate graphs do: same intent, probabilities, p_rug, action index, hold flags,
counters and logged details, for every venue mask, threshold and model — and a replay of
real recordings gives the same decision-log hash.

The combined path runs the policy with the venue mask and clears SIDEBET afterwards; the
separate path clears it first. The venue mask is set directly (``mask_values`` patched)
so every one of the 2^7 masks (WAIT is always valid) is covered, whatever game states would produce them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from kits.onnx_graphs import policy_model, random_layers, sidebet_model, write_bundle
from structlog.testing import capture_logs

from rugsd.daemon.config import Settings, StrategyConfig
from rugsd.daemon.dirs import packaged_models_dir
from rugsd.daemon.events import Phase
from rugsd.daemon.feed.replay import ReplaySource
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.runtime.build import make_core
from rugsd.daemon.runtime.replay import play
from rugsd.daemon.state.view import GameView
from rugsd.strategy import onnx_strategy
from rugsd.strategy.actions import N_ACTIONS, SIDEBET_INDEX
from rugsd.strategy.bundle import load_bundle, resolve_current
from rugsd.strategy.features import N_FEATURES
from rugsd.strategy.onnx_strategy import OnnxStrategy

RICH = Account(balance=10**10)
VIEW = GameView(game_id="g", phase=Phase.ACTIVE, tick=20, price=1.2,
                prices=[1.0 + 0.01 * i for i in range(21)], peak=1.2, cooldown_ms=0,
                allow_prebuys=False, ts_ms=1_000)
# every venue mask: WAIT (index 0) is always valid (``mask_values``), the rest any subset
ALL_MASKS = [[True] + [bool(m >> i & 1) for i in range(N_ACTIONS - 1)]
             for m in range(2 ** (N_ACTIONS - 1))]


def _pair(tmp_path: Path, cfg: StrategyConfig, **graphs) -> tuple[OnnxStrategy, OnnxStrategy]:
    """(combined, separate): the same graphs, one bundle with decide.onnx, one without."""
    combined = load_bundle(write_bundle(tmp_path / "combined", decide=True, **graphs))
    separate = load_bundle(write_bundle(tmp_path / "separate", decide=False, **graphs))
    assert combined.decide is not None and combined.manifest.decide_file == "decide.onnx"
    assert separate.decide is None and separate.manifest.decide_file is None
    return OnnxStrategy(combined, cfg), OnnxStrategy(separate, cfg)


def _rows(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(N_FEATURES) * (0.01, 1.0, 30.0)[k % 3]).astype(np.float32)
            for k in range(n)]


@pytest.fixture
def venue_mask(monkeypatch: pytest.MonkeyPatch) -> list[list[bool]]:
    """Set ``box[0]`` to the venue mask both strategies see (a fresh list per call)."""
    box: list[list[bool]] = [ALL_MASKS[-1]]
    monkeypatch.setattr(onnx_strategy, "mask_values", lambda view, account, table: list(box[0]))
    return box


def _decide_both(combined: OnnxStrategy, separate: OnnxStrategy, row: np.ndarray):
    with capture_logs() as logs_c:
        a = combined.decide(VIEW, RICH, row.copy())
    with capture_logs() as logs_s:
        b = separate.decide(VIEW, RICH, row.copy())
    return a, b, logs_c, logs_s


@pytest.mark.parametrize("seed", [3, 11])
@pytest.mark.parametrize("mask_dtype", ["float", "bool"])
def test_combined_graph_decides_like_the_two_graphs_around_the_threshold(
    tmp_path: Path, venue_mask: list, seed: int, mask_dtype: str
) -> None:
    graphs = {"policy": policy_model(layers=random_layers([N_FEATURES, 64, 64, N_ACTIONS], seed),
                                     mask_dtype=mask_dtype),
              "sidebet": sidebet_model(seed=seed + 1)}
    combined, separate = _pair(tmp_path, StrategyConfig(name="onnx"), **graphs)
    rng = np.random.default_rng(seed)
    sidebet_kept = sidebet_cleared = 0
    for row in _rows(40, seed):
        p = separate.bundle.sidebet.p_rug(row)
        thresholds = (p, math.nextafter(p, -1.0), math.nextafter(p, 2.0), 0.0, 1.5)
        for threshold in thresholds:
            for usable in (True, False):
                for s in (combined, separate):
                    s.threshold, s.sidebet_usable = threshold, usable
                for m in rng.choice(len(ALL_MASKS), 6, replace=False):
                    venue_mask[0] = ALL_MASKS[m]
                    a, b, _, _ = _decide_both(combined, separate, row)
                    assert a == b, (threshold, usable, ALL_MASKS[m])
                    if ALL_MASKS[m][SIDEBET_INDEX]:
                        kept = a.outputs.action_probs[SIDEBET_INDEX] > 0.0
                        sidebet_kept += kept
                        sidebet_cleared += not kept
    # both sides of the threshold were exercised, with SIDEBET valid at the venue
    assert sidebet_kept > 50 and sidebet_cleared > 50
    assert combined.decide_fallback_count == 0
    assert (combined.error_count, combined.non_finite_count) == (0, 0)


def test_every_venue_mask_decides_the_same(tmp_path: Path, venue_mask: list) -> None:
    graphs = {"policy": policy_model(layers=random_layers([N_FEATURES, 16, N_ACTIONS], 5)),
              "sidebet": sidebet_model(seed=6)}
    combined, separate = _pair(tmp_path, StrategyConfig(name="onnx", sidebet_threshold=0.5),
                               **graphs)
    for row in _rows(6, 7):
        for mask in ALL_MASKS:
            venue_mask[0] = mask
            a, b, _, _ = _decide_both(combined, separate, row)
            assert a == b, mask
            assert mask[a.outputs.action_index]


@pytest.mark.parametrize("graphs", [
    {"policy": policy_model(nan=True)},
    {"sidebet": sidebet_model(nan=True)},
    {"policy": policy_model(nan=True), "sidebet": sidebet_model(nan=True)},
    {"policy": policy_model(fold_mask=False)},
], ids=["nan-policy", "nan-sidebet", "nan-both", "mask-ignored"])
def test_holds_counters_and_logged_details_are_the_same(tmp_path: Path, venue_mask: list,
                                                         graphs: dict) -> None:
    combined, separate = _pair(tmp_path, StrategyConfig(name="onnx", sidebet_threshold=0.3),
                               **graphs)
    for row in _rows(5, 1):
        for mask in ALL_MASKS[::7]:
            venue_mask[0] = mask
            a, b, logs_c, logs_s = _decide_both(combined, separate, row)
            assert a == b
            assert logs_c == logs_s
    assert (combined.error_count, combined.non_finite_count) == (
        separate.error_count, separate.non_finite_count)


def test_a_failing_combined_call_reruns_the_tick_on_the_two_graphs(
    tmp_path: Path, venue_mask: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    combined, separate = _pair(tmp_path, StrategyConfig(name="onnx"))
    row = _rows(1, 2)[0]

    def boom(*args):
        raise RuntimeError("onnxruntime exploded")

    monkeypatch.setattr(combined.bundle.decide, "run", boom)
    a, b, logs_c, _ = _decide_both(combined, separate, row)
    assert a == b and not a.outputs.held_non_finite
    assert combined.decide_fallback_count == 1 and combined.error_count == 0
    assert [e["event"] for e in logs_c] == [
        "combined model call failed, running the two models separately"]
    # the separate graphs fail too: the same hold, the same detail as without decide.onnx
    monkeypatch.setattr(combined.bundle.sidebet, "p_rug", boom)
    monkeypatch.setattr(separate.bundle.sidebet, "p_rug", boom)
    a, b, logs_c, logs_s = _decide_both(combined, separate, row)
    assert a == b and a.outputs.held_non_finite
    assert logs_c[-1] == logs_s[-1] and logs_s[-1]["detail"] == "sidebet: onnxruntime exploded"
    assert combined.error_count == separate.error_count == 1


def test_replay_of_real_recordings_has_the_same_decision_log_hash(
    tmp_path: Path, real_data_dir: Path
) -> None:
    files = sorted((real_data_dir / "recordings").glob("*.jsonl"))[:12]
    events = [e for f in files for e in ReplaySource(f).iter_events()]
    graphs = {"policy": policy_model(layers=random_layers([N_FEATURES, 64, 64, N_ACTIONS], 3)),
              "sidebet": sidebet_model(seed=4)}
    hashes = []
    for strategy in _pair(tmp_path, Settings().strategy, **graphs):
        core = make_core(Settings(), run_id="decide", order_prefix="decide", strategy=strategy)
        played = play(core, events)
        assert core.stats["decisions"] > 500 and played.orders > 0
        hashes.append(played.decision_log_sha256)
    assert hashes[0] == hashes[1]


def test_the_shipped_bundle_runs_one_combined_call() -> None:
    folder = resolve_current(packaged_models_dir())  # models/current, shipped in the wheel
    assert folder is not None
    bundle = load_bundle(folder)
    assert bundle.manifest.decide_file == "decide.onnx" and bundle.decide is not None
