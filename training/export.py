"""ONNX export of the trained models (logits-only policy, sidebet probability).

The policy graph is not SB3's distribution: it is ``normalise → MLP → action logits``
with the action mask folded in (invalid entries ``MASKED_LOGIT``), inputs ``obs``
float32 [N, 40] and ``mask`` float32 [N, 8] (1 = valid), output ``logits`` float32
[N, 8] — the contract of ``rugsd.strategy.bundle``. Exported with torch's default (dynamo)
exporter, one self-contained file (``external_data=False``), checked by
``onnx.checker`` and compared with torch on held-out observations (``parity``).
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import onnx
import torch
from torch import nn

from rugsd.strategy.actions import N_ACTIONS
from rugsd.strategy.features import N_FEATURES
from rugsd.strategy.onnx_runtime import make_session

MASKED_LOGIT = -1e9
OPSET = 18


def to_onnx_bytes(
    module: nn.Module,
    example: tuple[torch.Tensor, ...],
    input_names: list[str],
    output_names: list[str],
) -> bytes:
    """Export ``module`` (batch dim dynamic on every input) to checked ONNX bytes."""
    module = module.eval()
    batch = torch.export.Dim("N", min=1)
    shapes = {name: {0: batch} for name in input_names}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module, example, input_names=input_names, output_names=output_names,
            dynamic_shapes=shapes, external_data=False, dynamo=True, opset_version=OPSET,
            verbose=False,
        )
    buf = io.BytesIO()
    program.save(buf)
    data = buf.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    return data


class LogitsPolicy(nn.Module):
    """``obs, mask → logits`` of a trained SB3 actor (feature extractor holds the norm)."""

    def __init__(self, extractor: nn.Module, policy_net: nn.Module, action_net: nn.Module):
        super().__init__()
        self.extractor = extractor
        self.policy_net = policy_net
        self.action_net = action_net

    def forward(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Masked logits (invalid actions → ``MASKED_LOGIT``)."""
        z = self.action_net(self.policy_net(self.extractor(obs)))
        return torch.where(mask > 0.5, z, torch.full_like(z, MASKED_LOGIT))


def logits_module(policy) -> LogitsPolicy:
    """The actor half of an SB3 actor-critic policy as a logits module (shared weights)."""
    extractor = policy.pi_features_extractor
    return LogitsPolicy(extractor, policy.mlp_extractor.policy_net, policy.action_net).eval()


def export_policy(policy) -> bytes:
    """ONNX bytes of ``policy`` (an SB3 maskable actor-critic policy)."""
    module = logits_module(policy).cpu()
    example = (torch.zeros(2, N_FEATURES), torch.ones(2, N_ACTIONS))
    return to_onnx_bytes(module, example, ["obs", "mask"], ["logits"])


@dataclass(frozen=True, slots=True)
class Parity:
    """ONNX vs torch on the same rows."""

    rows: int
    argmax_equal: bool
    max_prob_diff: float

    @property
    def ok(self) -> bool:
        """Argmax identical and probabilities within 1e-5."""
        return self.argmax_equal and self.max_prob_diff <= 1e-5


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def parity(policy, onnx_bytes: bytes, obs: np.ndarray, masks: np.ndarray) -> Parity:
    """Compare the exported graph with the torch actor on ``obs``/``masks``."""
    module = logits_module(policy).cpu()
    o = np.ascontiguousarray(obs, dtype=np.float32)
    m = np.ascontiguousarray(masks, dtype=np.float32)
    with torch.no_grad():
        ref = module(torch.from_numpy(o), torch.from_numpy(m)).numpy()
    sess = make_session(onnx_bytes)
    got = sess.run(["logits"], {"obs": o, "mask": m})[0]
    pr, pg = _softmax(ref.astype(np.float64)), _softmax(got.astype(np.float64))
    return Parity(
        rows=int(o.shape[0]),
        argmax_equal=bool(np.array_equal(ref.argmax(axis=1), got.argmax(axis=1))),
        max_prob_diff=float(np.max(np.abs(pr - pg))) if o.shape[0] else 0.0,
    )
