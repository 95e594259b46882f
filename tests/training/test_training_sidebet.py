"""Sidebet model and its statistics: a model without edge is declared unusable."""

from __future__ import annotations

import numpy as np
import onnx

from rugsd.strategy.features import N_FEATURES
from rugsd.strategy.onnx_runtime import make_session
from rugsd.training import stats as st
from rugsd.training.sidebet import BASELINE_P, evaluate, game_rows, train_sidebet


def test_auc_and_brier_match_known_values():
    y = np.array([0, 0, 1, 1])
    assert st.auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert st.auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert st.brier(y, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0


def test_labels_say_rug_within_40_ticks(sim_train):
    x, y, g = game_rows(sim_train[:5])
    first = sim_train[0]
    n = first.rug_tick
    assert x.shape == (sum(s.rug_tick for s in sim_train[:5]), N_FEATURES)
    assert y[:n].tolist() == [n <= t + 40 for t in range(n)]
    assert set(g.tolist()) == set(range(5))


def test_constant_hazard_prediction_is_not_usable(sim_heldout):
    _, y, g = game_rows(sim_heldout)

    metrics = evaluate(y, np.full(y.shape, BASELINE_P), g)

    assert not metrics["usable"]
    assert abs(metrics["brier_diff"]) < 1e-12


def test_a_leaky_predictor_is_detected_as_usable(sim_heldout):
    _, y, g = game_rows(sim_heldout)

    metrics = evaluate(y, np.where(y, 0.9, 0.05), g)

    assert metrics["usable"] and metrics["auc"] == 1.0


def test_trained_model_exports_and_is_not_usable_on_a_fair_game(sim_train, sim_heldout):
    result = train_sidebet(sim_train, sim_heldout, budget_s=10)

    model = onnx.load_from_string(result.onnx)
    onnx.checker.check_model(model)
    out = make_session(result.onnx).run(["p_rug"], {"obs": np.zeros((3, N_FEATURES), np.float32)})[0]
    assert out.shape == (3, 1) and out.dtype == np.float32
    assert result.metrics["onnx_max_abs_diff"] < 1e-5
    assert not result.usable  # a constant-hazard game has nothing to learn
