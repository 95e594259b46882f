"""The env PPO trains on, as ``rugsd retrain`` builds it.

``make_train_env(games, n_envs, seed, processes, **env_kw)``: the single ``RugsEnv`` for
``n_envs == 1`` (``[training] n_envs``), else the vectorised env — ``RugsVecEnv`` in this
process, or with ``processes`` > 1 (``[training] env_processes``, resolved by
``env_processes``: one per CPU by default) the same slots on that many processes
(``ProcVecEnv``). Every choice plays the same games with the same decisions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from stable_baselines3.common.vec_env import VecEnv

from rugsd.training.env import RugsEnv
from rugsd.training.episodes import GameSpec
from rugsd.training.vecenv import RugsVecEnv
from rugsd.training.vecprocs import ProcVecEnv


def env_processes(n_envs: int, configured: int) -> int:
    """How many processes step ``n_envs`` games: ``configured`` (``[training]
    env_processes``), or for 0 one per CPU this process may use, at most one per 32
    games (a smaller part does not repay its worker's messages)."""
    if configured > 0:
        return min(configured, n_envs)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, n_envs // 32))


def make_train_env(games: Sequence[GameSpec], n_envs: int, *, seed: int = 0,
                   processes: int = 1, **env_kw) -> VecEnv | RugsEnv:
    """The env PPO trains on: ``RugsEnv`` (reset with ``seed``) for ``n_envs == 1``,
    ``RugsVecEnv`` for one process, else ``ProcVecEnv`` (the same slots on ``processes``
    processes; close it when done)."""
    if n_envs == 1:
        env = RugsEnv(games, **env_kw)
        env.reset(seed=seed)
        return env
    if processes > 1:
        return ProcVecEnv(games, n_envs, processes, seed=seed, **env_kw)
    return RugsVecEnv(games, n_envs, seed=seed, **env_kw)
