"""Vectorised training env: N one-path games stepped at once behind SB3's ``VecEnv``.

Each of the N slots is a ``rugsd.training.env.RugsEnv`` — the daemon's own decision core,
the real event cadence (41 presale decisions, one per tick), the paper venue's pending
fills, the risk gate and the feature clock — so a slot plays exactly what the single env
plays on the same seed (slot i is seeded ``seed + i``; ``tests/training`` proves it
decision for decision and reward for reward). What the batch buys is on SB3's side:
one policy forward pass, one mask query and one rollout-buffer write per N decisions
instead of per decision, which is where MaskablePPO spent most of its time with one env
(``bench/training.py`` measures both side by side). The slots are not wrapped in SB3's
``Monitor``: the vec env reports each finished episode's ``info["episode"]`` itself
(``r`` return, ``l`` length, ``t`` seconds since the env was built), as ``Monitor``
would, without a wrapper call per step.

``rugsd.training.train_env.make_train_env`` picks the env ``rugsd retrain`` trains on:
this one, the single env, or the same slots on several processes
(``rugsd.training.vecprocs.ProcVecEnv``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv

from rugsd.training.env import EventCache, RugsEnv
from rugsd.training.episodes import GameSpec


class SlotMasks:
    """A vec env's masks as its slots reported them at their last step or reset
    (``_masks``, a row per slot): ``action_masks()`` answers from them, and so does the
    ``env_method("action_masks")`` MaskablePPO makes once per step, instead of asking
    every slot again."""

    _masks: np.ndarray

    def action_masks(self) -> np.ndarray:
        """``(n_envs, N_ACTIONS)`` valid actions at each slot's pending decision."""
        return self._masks.copy()

    def masks_asked(self, method_name: str, args: tuple, kwargs: dict, indices) -> list | None:
        """The answer to ``env_method(method_name, ...)`` if it asks for the masks, else None."""
        if method_name == "action_masks" and not args and not kwargs:
            return list(self._masks[self._get_indices(indices)])  # type: ignore[attr-defined]
        return None


class RugsVecEnv(SlotMasks, DummyVecEnv):
    """``n_envs`` ``RugsEnv`` slots (episode figures in ``info["episode"]``, as SB3's
    ``Monitor`` gives them), stepped together; auto-reset on termination as every SB3
    ``VecEnv`` does (the final observation is in ``infos[i]["terminal_observation"]``)."""

    def __init__(self, games: Sequence[GameSpec], n_envs: int, *, seed: int = 0,
                 **env_kw) -> None:
        """``env_kw`` as ``RugsEnv``; slot ``i`` is reset with seed ``seed + i``."""
        if n_envs < 1:
            raise ValueError("n_envs must be at least 1")
        games = list(games)
        events = EventCache(games)  # one copy of each game's event stream for all slots
        super().__init__([lambda: RugsEnv(games, events=events, **env_kw)
                          for _ in range(n_envs)])
        self.rugs: list[RugsEnv] = self.envs  # type: ignore[assignment]
        self._masks = np.ones((n_envs, self.action_space.n), dtype=bool)
        self._returns = [0.0] * n_envs  # this episode's reward so far, per slot
        self._lengths = [0] * n_envs
        self._t0 = time.time()
        self.seed(seed)

    def reset(self) -> np.ndarray:
        obs = super().reset()
        self._returns = [0.0] * self.num_envs
        self._lengths = [0] * self.num_envs
        self._masks = np.stack([info["action_mask"] for info in self.reset_infos])
        return obs

    def step_wait(self):
        # DummyVecEnv's loop without its deep copy of the infos (each slot returns fresh
        # dicts); every slot's mask is taken from the info of its step or reset, which
        # is what ``RugsEnv.action_masks()`` returns at the decision now pending
        buf, masks, infos = self.buf_obs[None], self._masks, self.buf_infos
        returns, lengths = self._returns, self._lengths
        rewards = [0.0] * self.num_envs
        dones = [False] * self.num_envs
        for i, (env, action) in enumerate(zip(self.rugs, self.actions.tolist(), strict=True)):
            obs, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            mask = info["action_mask"]
            returns[i] += reward
            lengths[i] += 1
            if done:
                info["episode"] = {"r": round(returns[i], 6), "l": lengths[i],
                                   "t": round(time.time() - self._t0, 6)}
                returns[i], lengths[i] = 0.0, 0
                info["terminal_observation"] = obs
                obs, self.reset_infos[i] = env.reset()
                mask = self.reset_infos[i]["action_mask"]
            rewards[i] = reward
            dones[i] = done
            infos[i] = info
            buf[i] = obs
            masks[i] = mask
        return (buf.copy(), np.array(rewards, dtype=np.float32), np.array(dones, dtype=bool),
                list(infos))

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs):
        asked = self.masks_asked(method_name, method_args, method_kwargs, indices)
        if asked is not None:
            return asked
        return super().env_method(method_name, *method_args, indices=indices,
                                  **method_kwargs)
