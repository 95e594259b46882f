"""The gymnasium env: API checkers, reward = accounting P&L, obs = the core's features."""

from __future__ import annotations

import warnings

import numpy as np
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from rugsd.daemon.game.accounting import LAMPORTS_PER_SOL
from rugsd.strategy.actions import SIDEBET_INDEX, action_mask
from rugsd.training.env import RugsEnv


def test_env_passes_gymnasium_and_sb3_checkers(sim_train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(RugsEnv(sim_train[:10]), skip_render_check=True)
        sb3_check_env(RugsEnv(sim_train[:10]), warn=False)


def _play(env: RugsEnv, rng: np.random.Generator) -> tuple[float, int]:
    """One episode of random valid actions: (sum of rewards, steps)."""
    env.reset()
    total, steps, done = 0.0, 0, False
    while not done:
        a = int(rng.choice(np.flatnonzero(env.action_masks())))
        _, r, term, trunc, _ = env.step(a)
        total += r
        steps += 1
        done = term or trunc
    return total, steps


def test_episode_reward_equals_accounting_pnl(sim_train):
    env = RugsEnv(sim_train[:20], allow_sidebet=True)
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    traded = 0

    for _ in range(20):
        total, _ = _play(env, rng)
        acct = env.core.account
        pnl_sol = (acct.balance - env.start_equity) / LAMPORTS_PER_SOL
        assert acct.qty == 0 and acct.sidebet is None  # the rug settled everything
        assert abs(total - pnl_sol) < 1e-9
        assert abs(acct.realised / LAMPORTS_PER_SOL - pnl_sol) < 1e-9
        traded += env.core.stats["fills"] > 0

    assert traded > 0  # the check above was exercised on games with money moving


def test_episode_terminates_at_the_rug_with_one_decision_per_tick(sim_train):
    env = RugsEnv(sim_train, shuffle=False)
    _, steps = _play_waiting(env, 3)
    game = env.game
    assert steps == len(env.presale_timers) + game.rug_tick
    assert env.core.view.rug_tick == game.rug_tick


def _play_waiting(env: RugsEnv, index: int) -> tuple[float, int]:
    env.reset(options={"game_index": index})
    steps, total, done = 0, 0.0, False
    while not done:
        _, r, term, trunc, _ = env.step(0)
        assert not trunc
        total += r
        steps += 1
        done = term
    return total, steps


def test_observation_is_what_the_core_gives_the_strategy(sim_train):
    env = RugsEnv(sim_train[:5])
    obs, _ = env.reset(seed=0)
    for a in (3, 0, 0, 6, 0, 0):
        mask = env.action_masks()
        assert np.array_equal(mask, action_mask(env.core.view, env.core.account, env.table))
        action = a if mask[a] else 0
        next_obs, _, term, _, _ = env.step(action)
        assert np.array_equal(env.agent.last_features, obs)
        obs = next_obs
        if term:
            break


def test_sidebet_can_be_masked_out(sim_train):
    env = RugsEnv(sim_train[:5], allow_sidebet=False)
    env.reset(seed=0)
    assert not env.action_masks()[SIDEBET_INDEX]
