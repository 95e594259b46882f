"""Leakage: features at tick t never change when future ticks are removed or altered."""

from __future__ import annotations

import numpy as np

from rugsd.training.dataset import simulated_games
from rugsd.training.episodes import GameSpec, history_for
from rugsd.training.evaluate import _core_features, leakage_checks


def test_leakage_checks_pass_on_heldout_games(sim_train, sim_heldout):
    result = leakage_checks(sim_heldout, {g.game_id for g in sim_train}, n_games=10)

    assert result["ok"] and result["games_checked"] == 10


def test_leakage_checks_flag_a_heldout_game_seen_in_training(sim_heldout):
    result = leakage_checks(sim_heldout, {sim_heldout[3].game_id}, n_games=2)

    assert not result["ok"] and result["overlap_examples"] == [sim_heldout[3].game_id]


def test_core_features_ignore_a_changed_future():
    long = next(g for g in simulated_games(30, 5) if g.rug_tick > 20)
    changed = long.prices.copy()
    changed[15:] *= 3.0  # a different future from tick 15 on
    other = GameSpec(long.game_id, changed, long.rug_price, long.start_ms)

    a = _core_features(long, history_for([]), None)
    b = _core_features(other, history_for([]), None)

    assert all(np.array_equal(a[t], b[t]) for t in range(15))
    assert not np.array_equal(a[15], b[15])  # the check can see a difference
