"""Vectorised training env: N one-path games stepped at once behind SB3's ``VecEnv``.

Each of the N slots is a ``rugsd.training.env.RugsEnv`` — the daemon's own decision core,
the real event cadence (41 presale decisions, one per tick), the paper venue's pending
fills, the risk gate and the feature clock — so a slot plays exactly what the single env
plays on the same seed (slot i is seeded ``seed + i``; ``tests/training`` proves it
decision for decision and reward for reward). What the batch buys is on SB3's side:
one policy forward pass, one mask query and one rollout-buffer write per N decisions
instead of per decision, which is where MaskablePPO spent most of its time with one env
(``bench/training.py`` measures both side by side).

``make_train_env(games, n_envs, seed, **env_kw)`` is what ``rugsd retrain`` uses
(``[training] n_envs``; 1 gives the plain single env).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv

from rugsd.training.env import RugsEnv
from rugsd.training.episodes import GameSpec


class RugsVecEnv(DummyVecEnv):
    """``n_envs`` ``RugsEnv`` slots (each behind SB3's ``Monitor`` for episode figures),
    stepped together; auto-reset on termination as every SB3 ``VecEnv`` does (the final
    observation is in ``infos[i]["terminal_observation"]``)."""

    def __init__(self, games: Sequence[GameSpec], n_envs: int, *, seed: int = 0,
                 **env_kw) -> None:
        """``env_kw`` as ``RugsEnv``; slot ``i`` is reset with seed ``seed + i``."""
        if n_envs < 1:
            raise ValueError("n_envs must be at least 1")
        games = list(games)
        super().__init__([lambda: Monitor(RugsEnv(games, **env_kw)) for _ in range(n_envs)])
        self.rugs = [m.env for m in self.envs]  # the RugsEnv slots (unwrapped)
        self._masks = np.ones((n_envs, self.action_space.n), dtype=bool)
        self.seed(seed)

    def reset(self) -> np.ndarray:
        obs = super().reset()
        self._masks = np.stack([info["action_mask"] for info in self.reset_infos])
        return obs

    def step_wait(self):
        # DummyVecEnv's loop without its deep copy of the infos (each slot returns fresh
        # dicts); every slot's mask is taken from the info of its step or reset, which
        # is what ``RugsEnv.action_masks()`` returns at the decision now pending
        buf = self.buf_obs[None]
        for i, mon in enumerate(self.envs):
            obs, reward, terminated, truncated, info = mon.step(self.actions[i])
            done = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            mask = info["action_mask"]
            if done:
                info["terminal_observation"] = obs
                obs, self.reset_infos[i] = mon.reset()
                mask = self.reset_infos[i]["action_mask"]
            self.buf_rews[i] = reward
            self.buf_dones[i] = done
            self.buf_infos[i] = info
            buf[i] = obs
            self._masks[i] = mask
        return buf.copy(), self.buf_rews.copy(), self.buf_dones.copy(), list(self.buf_infos)

    def action_masks(self) -> np.ndarray:
        """``(n_envs, N_ACTIONS)`` valid actions at each slot's pending decision."""
        return self._masks.copy()

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs):
        # MaskablePPO asks every slot for its mask through ``env_method("action_masks")``
        # once per step: answered from the masks the slots reported
        if method_name == "action_masks" and not method_args and not method_kwargs:
            return list(self._masks[self._get_indices(indices)])
        return super().env_method(method_name, *method_args, indices=indices,
                                  **method_kwargs)


def make_train_env(games: Sequence[GameSpec], n_envs: int, *, seed: int = 0,
                   **env_kw) -> RugsEnv | RugsVecEnv:
    """The env PPO trains on: ``RugsEnv`` (reset with ``seed``) for ``n_envs == 1``,
    else ``RugsVecEnv``."""
    if n_envs == 1:
        env = RugsEnv(games, **env_kw)
        env.reset(seed=seed)
        return env
    return RugsVecEnv(games, n_envs, seed=seed, **env_kw)
