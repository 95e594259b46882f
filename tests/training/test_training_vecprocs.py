"""The multi-process vectorised env is the in-process one on more cores: the same slots,
seeds, observations, masks, rewards, terminations and infos step for step; MaskablePPO
trains on it; a failing or dead worker raises (never hangs) and close() stops them all."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from rugsd.training.dataset import simulated_games
from rugsd.training.policy import make_model, train_ppo
from rugsd.training.train_env import env_processes, make_train_env
from rugsd.training.vecenv import RugsVecEnv
from rugsd.training.vecprocs import ProcVecEnv, WorkerError, split

N = 6


@pytest.fixture(scope="module")
def games():
    return simulated_games(40, seed=3)


def _same_info(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if key == "episode":  # "t" is wall-clock time
            assert (value["r"], value["l"]) == (b[key]["r"], b[key]["l"])
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, b[key])
        else:
            assert value == b[key], key


@pytest.mark.parametrize(("n", "processes"), [(1, 1), (6, 4), (7, 3), (128, 2), (3, 5)])
def test_split_covers_every_slot_once_in_order(n, processes):
    parts = split(n, processes)
    assert [i for lo, hi in parts for i in range(lo, hi)] == list(range(n))
    assert len(parts) == min(n, processes)
    sizes = [hi - lo for lo, hi in parts]
    assert max(sizes) - min(sizes) <= 1


def test_env_processes_uses_the_cpus_for_big_envs_only():
    cpus = len(os.sched_getaffinity(0))
    assert env_processes(128, 0) == min(cpus, 4)
    assert env_processes(4, 0) == 1  # too few games to repay a worker
    assert env_processes(8, 3) == 3 and env_processes(2, 5) == 2
    assert isinstance(make_train_env(simulated_games(3, seed=1), 2, processes=1), RugsVecEnv)


def test_proc_env_equals_the_in_process_env_step_for_step(games):
    ref = RugsVecEnv(games, N, seed=5)
    env = ProcVecEnv(games, N, 3, seed=5)
    try:
        np.testing.assert_array_equal(env.reset(), ref.reset())
        for a, b in zip(env.reset_infos, ref.reset_infos, strict=True):
            _same_info(a, b)
        rng = np.random.default_rng(0)
        episodes = 0
        for _ in range(400):
            masks = ref.action_masks()
            np.testing.assert_array_equal(env.action_masks(), masks)
            np.testing.assert_array_equal(np.stack(env.env_method("action_masks")), masks)
            actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
            got, want = env.step(actions), ref.step(actions)
            for g, w in zip(got[:3], want[:3], strict=True):
                np.testing.assert_array_equal(g, w)
            for a, b in zip(got[3], want[3], strict=True):
                _same_info(a, b)
            episodes += int(want[2].sum())
        assert episodes >= N  # every part finished games and reset its slots
        # per-slot access reaches the worker that holds the slot
        assert env.get_attr("refused") == ref.get_attr("refused")
        assert env.env_method("action_masks", indices=[5])[0].tolist() == masks[5].tolist()
    finally:
        env.close()


def test_maskable_ppo_trains_on_the_proc_env(games):
    env = make_train_env(games, 4, seed=1, processes=2)
    try:
        assert isinstance(env, ProcVecEnv)
        model = make_model(env, [0.0] * env.observation_space.shape[0],
                           [1.0] * env.observation_space.shape[0], n_steps=128)
        run = train_ppo(model, 256, budget_s=60)
        assert run.timesteps >= 256 and model.n_envs == 4
    finally:
        env.close()
    assert all(not w.proc.is_alive() for w in env.workers)


def test_a_worker_error_raises_with_its_text_and_the_env_goes_on(games):
    env = ProcVecEnv(games, 4, 2, seed=0)
    try:
        env.reset()
        with pytest.raises(WorkerError, match=r"env worker 1: AttributeError.*no_such_method"):
            env.env_method("no_such_method", indices=[3])
        env.step(np.zeros(4, dtype=np.int64))  # WAIT is always valid
    finally:
        env.close()
        env.close()  # twice is fine


def test_a_dead_worker_raises_instead_of_hanging(games):
    env = ProcVecEnv(games, 4, 2, seed=0)
    try:
        env.reset()
        worker = env.workers[0]
        os.kill(worker.proc.pid, signal.SIGKILL)
        worker.proc.join(10)
        with pytest.raises(WorkerError, match="env worker 1 stopped"):
            env.step(np.zeros(4, dtype=np.int64))
    finally:
        env.close()
