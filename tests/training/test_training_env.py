"""The gymnasium env: API checkers, reward = accounting P&L, obs = the core's features."""

from __future__ import annotations

import warnings

import numpy as np
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from rugsd.daemon.config import RiskConfig
from rugsd.daemon.game.accounting import LAMPORTS_PER_SOL
from rugsd.strategy.actions import SIDEBET_INDEX, action_mask
from rugsd.strategy.features import FEATURE_INDEX
from rugsd.training.env import RugsEnv
from rugsd.training.episodes import PRESALE_DECISION_TIMERS


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


def test_episode_reward_is_the_accounting_pnl_minus_the_refusal_penalties(sim_train):
    env = RugsEnv(sim_train[:20], allow_sidebet=True)
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    traded = refused = 0

    for _ in range(20):
        total, _ = _play(env, rng)
        acct = env.core.account
        pnl_sol = (acct.balance - env.start_equity) / LAMPORTS_PER_SOL
        assert acct.qty == 0 and acct.sidebet is None  # the rug settled everything
        assert abs(total + env.refused * env.refusal_penalty - pnl_sol) < 1e-9
        assert abs(acct.realised / LAMPORTS_PER_SOL - pnl_sol) < 1e-9
        traded += env.core.stats["fills"] > 0
        refused += env.refused

    assert traded > 0 and refused > 0  # both terms were exercised


def test_episode_terminates_at_the_rug_with_one_decision_per_tick(sim_train):
    env = RugsEnv(sim_train, shuffle=False)
    _, steps = _play_waiting(env, 3)
    game = env.game
    assert steps == len(PRESALE_DECISION_TIMERS) + game.rug_tick == 41 + game.rug_tick
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


def test_episodes_draw_account_sizes_and_limits_unless_told_not_to(sim_train):
    env = RugsEnv(sim_train[:10])
    env.reset(seed=3)
    drawn = set()
    for _ in range(30):
        env.reset()
        drawn.add((env.episode.balance, env.episode.limits.max_position))
    fixed = RugsEnv(sim_train[:10], randomize=False, risk=RiskConfig(max_position_sol=0.2))
    fixed.reset(seed=3)
    same = {(fixed.reset()[1] and fixed.episode.balance, fixed.episode.limits.max_position)
            for _ in range(5)}

    assert len({b for b, _ in drawn}) == 30 and len({m for _, m in drawn}) > 5
    assert same == {(10**9, 2 * 10**8)}


def test_a_refused_intent_costs_the_refusal_penalty(sim_train):
    # a 0.1 SOL account with the 0.1 SOL reserve: every entry is refused by the gate
    env = RugsEnv(sim_train[:3], randomize=False, start_balance_sol=0.1, shuffle=False)
    obs, _ = env.reset(seed=0, options={"game_index": 0})
    assert obs[FEATURE_INDEX["buy_room_frac"]] == 0.0  # the policy can see it coming

    _, reward, _, _, info = env.step(3)  # buy_large in presale

    assert info["refused"] == 1 and reward == -env.refusal_penalty


def test_some_episodes_start_with_orders_in_the_rate_window_or_in_flight(sim_train):
    env = RugsEnv(sim_train[:10])
    env.reset(seed=5)
    busy = slow = 0
    for _ in range(60):
        env.reset()
        if env.episode.rate_times:
            busy += 1
            assert env.core.rate.times == env.episode.rate_times
        slow += env.episode.latency_ms is not None
    assert 5 < busy < 40 and 5 < slow < 40


def test_an_exhausted_rate_budget_is_visible_and_refuses_entries(sim_train):
    from rugsd.training.env import Episode

    env = RugsEnv(sim_train[:3], shuffle=False)
    env.reset(seed=0)
    start = env.games[0].start_ms
    full = Episode(env.sampler.base, 10**9, None, tuple(start - 12_000 + i for i in range(30)))
    obs, _ = env.reset(options={"game_index": 0, "episode": full})

    assert obs[FEATURE_INDEX["rate_budget_frac"]] == 0.0
    _, reward, _, _, info = env.step(3)
    assert info["refused"] == 1 and reward == -env.refusal_penalty
