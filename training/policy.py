"""The policy: MaskablePPO (sb3-contrib) on ``RugsEnv``, warm-started by behaviour cloning.

- Observation normalisation lives in the network (``NormExtractor``: training-set mean
  and std, clipped), so the exported ONNX graph carries it.
- Behaviour cloning in plain torch against the SB3 policy (``evaluate_actions`` with the
  action masks): demonstrations come from the rule strategy
  (``rugsd.strategy.rules.PresaleTargetStrategy``) played through the same env, and from
  human ``ButtonEvent`` Parquet files (``rugsd.training.demos``) when there are any. The two
  are *mixed* (``mix_demos``): the human pairs are up-weighted so that they carry
  ``HUMAN_SHARE`` (half) of the loss, at most ``MAX_HUMAN_WEIGHT`` times a rule pair —
  a few hundred presses are not drowned by the rule's ~10⁵ decisions, and a tiny
  capture cannot take over.
- PPO runs within a wall-clock budget, saves a checkpoint every ``checkpoint_every``
  steps (atomic replace) and resumes from it. Seeds are fixed; one torch thread (the
  nets are tiny, threads only add overhead on 2 cores).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import structlog
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import VecEnv
from torch import nn

from rugsd.daemon.config import StrategyConfig
from rugsd.strategy.actions import N_ACTIONS, SIDEBET_INDEX, WAIT_INDEX, ActionTable
from rugsd.strategy.intents import Intent
from rugsd.strategy.rules import PresaleTargetStrategy
from rugsd.training.env import RugsEnv
from rugsd.training.sidebet import Normalise

log = structlog.get_logger(__name__)

Progress = Callable[[int, int], None]
HUMAN_SHARE = 0.5
MAX_HUMAN_WEIGHT = 20.0


class NormExtractor(BaseFeaturesExtractor):
    """Fixed observation normalisation as the first layer of the policy."""

    def __init__(self, observation_space: gym.spaces.Box, mean: Sequence[float],
                 std: Sequence[float]) -> None:
        super().__init__(observation_space, features_dim=int(observation_space.shape[0]))
        self.norm = Normalise(np.asarray(mean, np.float32), np.asarray(std, np.float32))

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Normalised observations."""
        return self.norm(observations)


def obs_stats(obs: np.ndarray) -> tuple[list[float], list[float]]:
    """Mean and std per feature (constant features get std 1: left as they are)."""
    x = obs.astype(np.float64)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    return mean.tolist(), std.tolist()


def intent_index(intent: Intent, table: ActionTable) -> int | None:
    """The action index whose intent matches ``intent`` (action, amount, percentage)."""
    for i, it in enumerate(table.intents):
        if (it.action, it.amount, it.percentage) == (intent.action, intent.amount,
                                                      intent.percentage):
            return i
    return None


@dataclass(slots=True)
class Demos:
    """Demonstrations: observations, chosen actions, masks."""

    obs: np.ndarray
    actions: np.ndarray
    masks: np.ndarray
    unmatched: int = 0
    weights: np.ndarray | None = None  # per-pair loss weight (None: all 1)

    def __len__(self) -> int:
        return int(self.actions.shape[0])


def rule_demos(env: RugsEnv, n_games: int, cfg: StrategyConfig | None = None) -> Demos:
    """Play the rule strategy through ``env`` for ``n_games`` episodes; record its choices.

    A rule intent the risk gate refused is recorded as WAIT (what a policy that knows
    its budgets does there: the refusal changed nothing either), so behaviour cloning
    starts from a policy that does not lean on the gate.
    """
    cfg = cfg or StrategyConfig()
    obs_l, act_l, mask_l = [], [], []
    unmatched = 0
    for g in range(n_games):
        expert = PresaleTargetStrategy(cfg)
        obs, _ = env.reset(options={"game_index": g % len(env.games)})
        done = False
        while not done:
            mask = env.action_masks()
            core = env.core
            intent = expert.decide(core.view, core.account, obs).intent
            a = intent_index(intent, env.table)
            if a is None or not mask[a]:
                unmatched += a is None
                a = WAIT_INDEX
            refused = env.refused
            obs_l.append(obs)
            mask_l.append(mask)
            obs, _, term, trunc, _ = env.step(a)
            act_l.append(WAIT_INDEX if env.refused > refused else a)
            done = term or trunc
    return Demos(np.array(obs_l, np.float32), np.array(act_l, np.int64),
                 np.array(mask_l, bool), unmatched)


def human_demos(path: str | Path | None, *, data_dir: Path | None = None,
                recordings: Sequence[Path] = (), cfg: StrategyConfig | None = None
                ) -> tuple[Demos | None, dict]:
    """Human demonstrations (``rugsd.training.demos``) under ``path``: (demos or None, summary).

    ``path`` is a ButtonEvent folder (``DIR`` or ``DIR/button_events``) or file; price
    paths come from its ``human_ticks``, ``data_dir``'s dataset and ``recordings``.
    """
    if path is None or not Path(path).exists():
        return None, {"pairs": 0, "source": None if path is None else str(path),
                      "note": "no demonstrations"}
    from rugsd.training.demos import build_demos

    found = build_demos(Path(path), data_dir=data_dir, recordings=recordings, cfg=cfg)
    summary = found.summary() | {"source": str(path)}
    if not found.pairs:
        return None, summary
    obs, actions, masks = found.arrays()
    return Demos(obs, actions, masks), summary


def without_sidebet(demos: Demos) -> tuple[Demos, int]:
    """Drop SIDEBET pairs and mask SIDEBET (an unusable sidebet model never bets)."""
    keep = demos.actions != SIDEBET_INDEX
    masks = demos.masks[keep].copy()
    masks[:, SIDEBET_INDEX] = False
    weights = None if demos.weights is None else demos.weights[keep]
    return (Demos(demos.obs[keep], demos.actions[keep], masks, demos.unmatched, weights),
            int((~keep).sum()))


def mix_demos(rule: Demos, human: Demos | None, share: float = HUMAN_SHARE,
              max_weight: float = MAX_HUMAN_WEIGHT) -> tuple[Demos, float]:
    """Rule and human pairs together; (demos, weight of one human pair)."""
    if human is None or len(human) == 0:
        return rule, 0.0
    if len(rule) == 0:
        return human, 1.0
    w = min(max_weight, max(1.0, share / (1 - share) * len(rule) / len(human)))
    weights = np.concatenate([np.ones(len(rule)), np.full(len(human), w)])
    return Demos(np.concatenate([rule.obs, human.obs]).astype(np.float32),
                 np.concatenate([rule.actions, human.actions]),
                 np.concatenate([rule.masks, human.masks]), rule.unmatched, weights), w


PPO_HYPERPARAMETERS = {"learning_rate": 1e-4, "gamma": 0.995, "gae_lambda": 0.95,
                       "ent_coef": 0.003, "clip_range": 0.1}
"""MaskablePPO's defaults here (``[training.sweep]`` draws trials around them)."""


# environment steps per PPO update (all of a vec env's slots together): SB3's PPO default;
# with ``[training] n_envs`` 128 each slot plays 16 decisions of it, and the value
# function bootstraps where a slot's segment ends mid-game
ROLLOUT_STEPS = 2048


def make_model(env: gym.Env | VecEnv, mean: Sequence[float], std: Sequence[float],
               seed: int = 0, n_steps: int = ROLLOUT_STEPS, **hyper: float) -> MaskablePPO:
    """A fresh MaskablePPO with the normalising extractor and a small MLP.

    ``n_steps`` is the rollout size per update across all of a ``VecEnv``'s slots (each
    slot collects ``n_steps // num_envs``), so a vectorised env trains with the same
    rollout, batch and epochs as the single env; ``hyper`` overrides
    ``PPO_HYPERPARAMETERS``."""
    torch.set_num_threads(1)
    unknown = set(hyper) - set(PPO_HYPERPARAMETERS)
    if unknown:
        raise ValueError(f"unknown PPO hyperparameters: {', '.join(sorted(unknown))}")
    kwargs = {
        "features_extractor_class": NormExtractor,
        "features_extractor_kwargs": {"mean": list(mean), "std": list(std)},
        "net_arch": {"pi": [64, 64], "vf": [64, 64]},
        "activation_fn": nn.Tanh,
    }
    per_env = max(2, n_steps // (env.num_envs if isinstance(env, VecEnv) else 1))
    return MaskablePPO(
        "MlpPolicy", env, n_steps=per_env, batch_size=256, n_epochs=4, seed=seed,
        device="cpu", verbose=0, policy_kwargs=kwargs, **(PPO_HYPERPARAMETERS | hyper),
    )


def behaviour_clone(model: MaskablePPO, demos: Demos, *, epochs: int = 20,
                    budget_s: float = 60.0, seed: int = 0, batch: int = 512,
                    progress: Progress | None = None) -> dict:
    """Fit the policy's actor to the demos (masked log-likelihood); returns accuracy."""
    policy = model.policy
    policy.set_training_mode(True)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(policy.parameters(), lr=1e-3)
    obs = torch.from_numpy(demos.obs)
    act = torch.from_numpy(demos.actions)
    masks = torch.from_numpy(demos.masks)
    # rare actions (a buy or a sell among ~200 waits per game) weigh as much as waits
    counts = np.bincount(demos.actions, minlength=N_ACTIONS).astype(np.float64)
    weights = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    per = weights[demos.actions]
    if demos.weights is not None:  # e.g. human pairs weighted up (``mix_demos``)
        per = per * demos.weights
    w = torch.from_numpy(per / per.mean()).float() if len(demos) else torch.zeros(0)
    n = len(demos)
    total = max(1, epochs * ((n + batch - 1) // batch))
    done = 0
    t0 = time.monotonic()
    for _ in range(epochs):
        perm = torch.from_numpy(rng.permutation(n))
        for lo in range(0, n, batch):
            idx = perm[lo : lo + batch]
            _, logp, _ = policy.evaluate_actions(obs[idx], act[idx], action_masks=masks[idx])
            loss = -(w[idx] * logp).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if progress is not None:
                progress(done, total)
        if time.monotonic() - t0 > budget_s:
            break
    policy.set_training_mode(False)
    with torch.no_grad():
        pred = []
        for lo in range(0, n, 4096):
            dist = policy.get_distribution(obs[lo : lo + 4096], action_masks=masks[lo : lo + 4096])
            pred.append(dist.distribution.probs.argmax(dim=1).numpy())
    pred = np.concatenate(pred) if pred else np.zeros(0, np.int64)
    per_class = {
        int(a): float((pred[demos.actions == a] == a).mean())
        for a in np.unique(demos.actions)
    }
    return {"samples": n, "accuracy": float((pred == demos.actions).mean()) if n else 0.0,
            "per_action_accuracy": per_class, "seconds": time.monotonic() - t0}


@dataclass(slots=True)
class PPORun:
    """What a PPO run did."""

    timesteps: int = 0
    seconds: float = 0.0
    episode_rewards: list[float] = field(default_factory=list)
    resumed: bool = False


class _Budget(BaseCallback):
    """Stops at the deadline, records episode rewards, checkpoints periodically."""

    def __init__(self, deadline: float, ckpt: Path | None, every: int, run: PPORun,
                 total: int, progress: Progress | None) -> None:
        super().__init__()
        self.deadline, self.ckpt, self.every = deadline, ckpt, every
        self.run, self.total, self.progress = run, total, progress
        self._last_save = 0

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            ep = info.get("episode")
            if ep is not None:
                self.run.episode_rewards.append(float(ep["r"]))
        if self.progress is not None:
            self.progress(min(self.num_timesteps, self.total), self.total)
        if self.ckpt is not None and self.num_timesteps - self._last_save >= self.every:
            save_checkpoint(self.model, self.ckpt, self.run)
            self._last_save = self.num_timesteps
        return time.monotonic() < self.deadline


def save_checkpoint(model: MaskablePPO, ckpt: Path, run: PPORun) -> None:
    """Write ``ckpt`` (zip) and its rewards sidecar atomically."""
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    tmp = ckpt.with_name(ckpt.stem + "-tmp.zip")
    model.save(tmp)
    os.replace(tmp, ckpt)
    side = ckpt.with_suffix(".json")
    side_tmp = side.with_suffix(".json.tmp")
    side_tmp.write_text(json.dumps({"timesteps": int(model.num_timesteps),
                                    "episode_rewards": run.episode_rewards}))
    os.replace(side_tmp, side)


def load_checkpoint(ckpt: Path, env: gym.Env | VecEnv,
                    n_steps: int = ROLLOUT_STEPS) -> tuple[MaskablePPO, PPORun] | None:
    """Resume from ``ckpt`` if it exists, with a rollout of ``n_steps`` across ``env``'s
    slots (as ``make_model``): SB3 keeps the checkpoint's per-slot rollout, which with
    another number of slots would be another rollout size."""
    if not ckpt.is_file():
        return None
    model = MaskablePPO.load(ckpt, env=env, device="cpu")
    per_env = max(2, n_steps // model.n_envs)
    if model.n_steps != per_env:
        model.n_steps = per_env
        model.rollout_buffer = model.rollout_buffer_class(
            per_env, model.observation_space, model.action_space, model.device,
            gamma=model.gamma, gae_lambda=model.gae_lambda, n_envs=model.n_envs,
            **model.rollout_buffer_kwargs)
    run = PPORun(resumed=True)
    side = ckpt.with_suffix(".json")
    if side.is_file():
        run.episode_rewards = list(json.loads(side.read_text()).get("episode_rewards", []))
    return model, run


def train_ppo(model: MaskablePPO, total_steps: int, *, budget_s: float,
              ckpt: Path | None = None, checkpoint_every: int = 8192,
              run: PPORun | None = None, progress: Progress | None = None) -> PPORun:
    """Continue PPO for up to ``total_steps`` more steps or ``budget_s`` seconds."""
    run = run or PPORun()
    t0 = time.monotonic()
    start = int(model.num_timesteps)
    cb = _Budget(t0 + budget_s, ckpt, checkpoint_every, run, start + total_steps, progress)
    if total_steps > 0 and budget_s > 0:
        model.learn(total_timesteps=total_steps, callback=cb,
                    reset_num_timesteps=start == 0, progress_bar=False)
    if ckpt is not None:
        save_checkpoint(model, ckpt, run)
    run.timesteps = int(model.num_timesteps)
    run.seconds = time.monotonic() - t0
    return run


def reward_trend(rewards: Sequence[float]) -> dict:
    """First vs last fifth of the training episode rewards (mean, SOL)."""
    r = np.asarray(rewards, dtype=np.float64)
    if r.size < 10:
        return {"episodes": int(r.size), "first": None, "last": None, "up": False}
    k = max(1, r.size // 5)
    first, last = float(r[:k].mean()), float(r[-k:].mean())
    se = float(np.sqrt(r[:k].var() / k + r[-k:].var() / k))
    return {"episodes": int(r.size), "first": first, "last": last,
            "up": bool(last - first > 2 * se)}
