"""Shared by the decision benchmarks: an SB3 MaskablePPO policy and its ONNX twin.

Not a benchmark itself (``bench/run.py`` skips modules starting with ``_``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rugsd.strategy.actions import N_ACTIONS
from rugsd.strategy.features import N_FEATURES
from tests.kits.onnx_graphs import policy_model, sidebet_model, write_bundle

HIDDEN = [64, 64]


def sb3_twin(tmp: Path):
    """(MaskablePPO model, torch sidebet, bundle folder with the same weights in ONNX)."""
    import gymnasium as gym
    import torch
    from sb3_contrib import MaskablePPO

    torch.set_num_threads(1)

    class _Env(gym.Env):
        observation_space = gym.spaces.Box(-np.inf, np.inf, (N_FEATURES,), np.float32)
        action_space = gym.spaces.Discrete(N_ACTIONS)

        def reset(self, *, seed=None, options=None):
            return np.zeros(N_FEATURES, np.float32), {}

        def step(self, action):
            return np.zeros(N_FEATURES, np.float32), 0.0, True, False, {}

        def action_masks(self):
            return np.ones(N_ACTIONS, bool)

    model = MaskablePPO("MlpPolicy", _Env(), seed=0, device="cpu",
                        policy_kwargs={"net_arch": {"pi": HIDDEN, "vf": HIDDEN}})
    pol = model.policy
    linears = [m for m in pol.mlp_extractor.policy_net if isinstance(m, torch.nn.Linear)]
    linears.append(pol.action_net)
    layers = [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
              for m in linears]
    side = torch.nn.Sequential(torch.nn.Linear(N_FEATURES, 1), torch.nn.Sigmoid())
    side_layers = [(side[0].weight.detach().numpy().T.copy(),
                    side[0].bias.detach().numpy().copy())]
    folder = write_bundle(tmp / "sb3twin", policy=policy_model(layers=layers),
                          sidebet=sidebet_model(layers=side_layers))
    return model, side, folder
