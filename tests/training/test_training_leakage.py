"""Leakage: features at tick t never change when future ticks are removed or altered, and
no path hands a game itself (or a later game) as its history."""

from __future__ import annotations

import numpy as np

from rugsd.training import sidebet
from rugsd.training.dataset import simulated_games
from rugsd.training.env import RugsEnv
from rugsd.training.episodes import GameSpec, history_for
from rugsd.training.evaluate import _core_features, leakage_checks


def test_leakage_checks_pass_on_heldout_games(sim_train, sim_heldout):
    env = RugsEnv(sim_train)
    result = leakage_checks(sim_heldout, {g.game_id for g in sim_train}, n_games=10,
                            env_history=env.history, env_games=sim_train)

    assert result["ok"] and result["games_checked"] == 10 and result["history_leaks"] == {}


def test_leakage_checks_flag_a_heldout_game_seen_in_training(sim_heldout):
    result = leakage_checks(sim_heldout, {sim_heldout[3].game_id}, n_games=2)

    assert not result["ok"] and result["overlap_examples"] == [sim_heldout[3].game_id]


def test_the_current_game_in_its_own_env_history_trips_the_check(sim_train, sim_heldout):
    env = RugsEnv(sim_train)

    def leaky(i: int) -> tuple:  # the env's history with the game itself injected
        return history_for([sim_train[i]]) + env.history(i)

    result = leakage_checks(sim_heldout, set(), n_games=2, env_history=leaky,
                            env_games=sim_train)

    assert not result["ok"] and result["history_leaks"]["env"] == len(sim_train)


def test_the_current_game_in_its_own_sidebet_history_trips_the_check(sim_heldout):
    def leaky(games, i):  # the sidebet rows' history with the game itself injected
        return (*sidebet.recent_for(games, i), *sidebet.summaries([games[i]]))

    clean = leakage_checks(sim_heldout, set(), n_games=2)
    result = leakage_checks(sim_heldout, set(), n_games=2, sidebet_recent=leaky)

    assert clean["ok"]
    assert not result["ok"] and result["history_leaks"]["sidebet"] == len(sim_heldout)


def test_a_later_game_in_a_recorded_games_session_trips_the_check(sim_heldout):
    games = list(sim_heldout[:5])
    g = games[1]
    games[1] = GameSpec(g.game_id, g.prices, g.rug_price, g.start_ms, "recording",
                        events=(), recent=tuple(sidebet.summaries([games[3]])))

    result = leakage_checks(games, set(), n_games=1)

    # the sidebet rows read a recorded game's session too: both paths flag it
    assert not result["ok"] and result["history_leaks"] == {"recorded_recent": 1, "sidebet": 1}


def test_core_features_ignore_a_changed_future():
    long = next(g for g in simulated_games(30, 5) if g.rug_tick > 20)
    changed = long.prices.copy()
    changed[15:] *= 3.0  # a different future from tick 15 on
    other = GameSpec(long.game_id, changed, long.rug_price, long.start_ms)

    a = _core_features(long, history_for([]), None)
    b = _core_features(other, history_for([]), None)

    assert all(np.array_equal(a[t], b[t]) for t in range(15))
    assert not np.array_equal(a[15], b[15])  # the check can see a difference
