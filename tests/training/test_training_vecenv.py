"""The vectorised env plays, slot for slot, exactly what the one-path single env plays on
the same seed: observations (the feature clock and pending fills are in them), masks,
rewards (refusal penalties of the risk gate included), terminations, the games and the
orders — on simulated and real recorded games, at the real presale cadence; MaskablePPO
trains on it."""

from __future__ import annotations

import numpy as np
import pytest

from rugsd.daemon.events import Phase
from rugsd.training.dataset import games_from_recordings
from rugsd.training.env import RugsEnv
from rugsd.training.policy import load_checkpoint, make_model, train_ppo
from rugsd.training.train_env import make_train_env
from rugsd.training.vecenv import RugsVecEnv

N = 4


def _lockstep(games, steps: int, seed: int, **kw) -> dict[str, int]:
    """Step the vec env and N single envs (seeds ``seed + i``) with the same random valid
    actions; assert every transition equal; return what was exercised."""
    vec = RugsVecEnv(games, N, seed=seed, **kw)
    singles = [RugsEnv(games, **kw) for _ in range(N)]
    obs = vec.reset()
    single_obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]
    np.testing.assert_array_equal(obs, np.stack(single_obs))
    rng = np.random.default_rng(seed)
    seen = {"presale": 0, "refused": 0, "in_flight": 0, "episodes": 0, "fills": 0}
    ep_reward, ep_len = [0.0] * N, [0] * N  # what SB3's Monitor would report per episode
    for _ in range(steps):
        masks = vec.action_masks()
        for i, env in enumerate(singles):
            np.testing.assert_array_equal(masks[i], env.action_masks())
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        for env in singles:
            view = env.core.view
            seen["presale"] += view.phase is Phase.PRESALE
            seen["in_flight"] += env.core.commitments(view, view.ts_ms).pending_orders > 0
        obs, rewards, dones, infos = vec.step(actions)
        for i, env in enumerate(singles):
            refused_before = env.refused
            o, r, term, trunc, info = env.step(int(actions[i]))
            seen["refused"] += env.refused - refused_before
            assert rewards[i] == np.float32(r), (i, rewards[i], r)
            assert dones[i] == (term or trunc)
            assert infos[i]["game_id"] == info["game_id"]
            assert infos[i]["tick"] == info["tick"] and infos[i]["equity"] == info["equity"]
            assert infos[i]["refused"] == info["refused"]
            ep_reward[i] += r
            ep_len[i] += 1
            if term or trunc:
                assert infos[i]["episode"]["l"] == ep_len[i]
                assert infos[i]["episode"]["r"] == pytest.approx(ep_reward[i], abs=1e-6)
                ep_reward[i], ep_len[i] = 0.0, 0
                np.testing.assert_array_equal(infos[i]["terminal_observation"], o)
                seen["episodes"] += 1
                seen["fills"] += env.core.stats["fills"]
                o, _ = env.reset()
            else:
                assert "episode" not in infos[i]
            np.testing.assert_array_equal(obs[i], o)
    return seen


def test_vec_env_equals_the_single_env_on_simulated_games(sim_train):
    # randomised limits, account sizes, used budgets and rate windows; orders in flight
    seen = _lockstep(sim_train[:30], 1500, seed=5, latency_ms=600)

    assert seen["episodes"] >= 4 and seen["presale"] >= 4 * 41
    assert seen["refused"] > 0 and seen["in_flight"] > 0 and seen["fills"] > 0


def test_vec_env_equals_the_single_env_on_real_recorded_games(sample_recordings):
    games = games_from_recordings([sample_recordings])[:12]

    seen = _lockstep(games, 800, seed=9)

    assert seen["episodes"] >= 2 and seen["presale"] > 0 and seen["fills"] > 0


def test_maskable_ppo_trains_on_the_vec_env(sim_train):
    env = make_train_env(sim_train[:20], 4, seed=0)
    model = make_model(env, [0.0] * env.observation_space.shape[0],
                       [1.0] * env.observation_space.shape[0], n_steps=256)

    assert model.n_envs == 4 and model.n_steps == 64  # the same 256-step rollout

    run = train_ppo(model, 512, budget_s=60)

    assert run.timesteps >= 512
    assert len(run.episode_rewards) > 0  # the slots' Monitor reports whole episodes


def test_one_env_is_the_plain_single_env(sim_train):
    env = make_train_env(sim_train[:5], 1, seed=3)

    assert isinstance(env, RugsEnv) and env.core is not None


def test_zero_envs_is_refused(sim_train):
    with pytest.raises(ValueError, match="n_envs"):
        RugsVecEnv(sim_train[:5], 0)


def test_a_checkpoint_resumed_on_another_number_of_slots_keeps_the_rollout(sim_train,
                                                                           tmp_path):
    n_features = RugsEnv(sim_train[:2]).observation_space.shape[0]
    model = make_model(make_train_env(sim_train[:20], 2, seed=0), [0.0] * n_features,
                       [1.0] * n_features, n_steps=256)
    ckpt = tmp_path / "ppo.zip"
    train_ppo(model, 256, budget_s=60, ckpt=ckpt)

    resumed, _ = load_checkpoint(ckpt, make_train_env(sim_train[:20], 4, seed=1), n_steps=256)

    # SB3 alone would keep 128 steps per slot: a 512-step rollout on 4 slots
    assert resumed.n_envs == 4 and resumed.n_steps == 64
    assert resumed.rollout_buffer.buffer_size == 64 and resumed.rollout_buffer.n_envs == 4
    run = train_ppo(resumed, 256, budget_s=60)
    assert run.timesteps >= model.num_timesteps + 256
