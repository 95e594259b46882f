"""Tiny, valid ONNX graphs and bundles for tests and benchmarks (needs the ``onnx`` package,
which only the ``dev`` and ``train`` extras install: this kit lives under ``tests/`` so that
no runtime module can import it).

The shipped default bundle (``models/current``) is a trained model; these graphs are small,
reproducible stand-ins whose behaviour a test controls. They obey the same graph contracts
as trained models (see ``rugsd.strategy.bundle``):

- policy: ``obs`` float32 [N, F] and ``mask`` (float32 or bool) [N, A] → ``logits``
  float32 [N, A]; an MLP (``tanh`` between layers, default one linear layer) whose
  output is replaced by ``-1e9`` where the mask is 0 (the mask folded into the graph);
- sidebet: ``obs`` float32 [N, F] → ``p_rug`` float32 [N, 1] = sigmoid(obs · w + b).

``nan=True`` makes a graph emit NaN (policy: every unmasked logit; sidebet: p_rug) to
test the non-finite hold. Weights come from ``numpy.random.default_rng(seed)`` so every
graph is reproducible. Tests import it as ``kits.onnx_graphs`` (pytest puts ``tests/`` on
``sys.path``); benchmarks as ``tests.kits.onnx_graphs`` (``bench/run.py`` runs from the
project root).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from rugsd.strategy.actions import N_ACTIONS
from rugsd.strategy.bundle import Manifest, make_manifest, save_bundle
from rugsd.strategy.features import N_FEATURES
from rugsd.training.decide_graph import combine_graphs

OPSET = 17
IR_VERSION = 8  # old enough for every onnxruntime >= 1.14
MASKED_LOGIT = -1e9

Layer = tuple[np.ndarray, np.ndarray]  # (weights [in, out], bias [out])


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rugsd-testing"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def random_layers(sizes: Sequence[int], seed: int = 0, scale: float = 0.3) -> list[Layer]:
    """Random dense layers for ``sizes`` = [in, hidden..., out] (reproducible by seed)."""
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.standard_normal((a, b)) * scale).astype(np.float32),
            (rng.standard_normal(b) * scale).astype(np.float32),
        )
        for a, b in pairwise(sizes)
    ]


def _mlp(layers: Sequence[Layer], x: str, prefix: str) -> tuple[list, list, str]:
    """Gemm (+ tanh between layers) nodes for ``layers`` reading tensor ``x``."""
    nodes, inits = [], []
    for i, (w, b) in enumerate(layers):
        wn, bn, yn = f"{prefix}_w{i}", f"{prefix}_b{i}", f"{prefix}_y{i}"
        inits += [
            numpy_helper.from_array(np.asarray(w, np.float32), wn),
            numpy_helper.from_array(np.asarray(b, np.float32), bn),
        ]
        nodes.append(helper.make_node("Gemm", [x, wn, bn], [yn]))
        x = yn
        if i < len(layers) - 1:
            nodes.append(helper.make_node("Tanh", [x], [f"{yn}_act"]))
            x = f"{yn}_act"
    return nodes, inits, x


def policy_model(
    n_features: int = N_FEATURES,
    n_actions: int = N_ACTIONS,
    *,
    seed: int = 0,
    layers: Sequence[Layer] | None = None,
    mask_dtype: Literal["float", "bool"] = "float",
    nan: bool = False,
    fold_mask: bool = True,
    obs_name: str = "obs",
    mask_name: str = "mask",
    logits_name: str = "logits",
) -> onnx.ModelProto:
    """A policy graph: MLP logits, masked entries replaced by ``MASKED_LOGIT``.

    ``fold_mask=False`` builds a non-conforming graph that takes the mask but ignores it
    (to prove the strategy masks again on its side).
    """
    layers = list(layers) if layers is not None else random_layers([n_features, n_actions], seed)
    nodes, inits, raw = _mlp(layers, obs_name, "pi")
    if nan:
        inits.append(numpy_helper.from_array(np.array([np.nan], np.float32), "nan_c"))
        nodes.append(helper.make_node("Add", [raw, "nan_c"], ["raw_nan"]))
        raw = "raw_nan"
    if mask_dtype == "float":
        inits.append(numpy_helper.from_array(np.array([0.5], np.float32), "half"))
        nodes.append(helper.make_node("Greater", [mask_name, "half"], ["mask_b"]))
        mask_b = "mask_b"
    else:
        mask_b = mask_name
    inits.append(numpy_helper.from_array(np.array([MASKED_LOGIT], np.float32), "masked"))
    if fold_mask:
        nodes.append(helper.make_node("Where", [mask_b, raw, "masked"], [logits_name]))
    else:  # consume the mask without effect: Where(mask, raw, raw)
        nodes.append(helper.make_node("Where", [mask_b, raw, raw], [logits_name]))
    mtype = TensorProto.FLOAT if mask_dtype == "float" else TensorProto.BOOL
    graph = helper.make_graph(
        nodes,
        "policy",
        [
            helper.make_tensor_value_info(obs_name, TensorProto.FLOAT, ["N", n_features]),
            helper.make_tensor_value_info(mask_name, mtype, ["N", n_actions]),
        ],
        [helper.make_tensor_value_info(logits_name, TensorProto.FLOAT, ["N", n_actions])],
        inits,
    )
    return _model(graph)


def sidebet_model(
    n_features: int = N_FEATURES,
    *,
    seed: int = 1,
    layers: Sequence[Layer] | None = None,
    nan: bool = False,
    obs_name: str = "obs",
    p_rug_name: str = "p_rug",
) -> onnx.ModelProto:
    """A logistic sidebet graph: p_rug = sigmoid(MLP(obs)) of shape [N, 1]."""
    layers = list(layers) if layers is not None else random_layers([n_features, 1], seed, 0.05)
    nodes, inits, z = _mlp(layers, obs_name, "sb")
    if nan:
        inits.append(numpy_helper.from_array(np.array([np.nan], np.float32), "nan_c"))
        nodes.append(helper.make_node("Add", [z, "nan_c"], ["z_nan"]))
        z = "z_nan"
    nodes.append(helper.make_node("Sigmoid", [z], [p_rug_name]))
    graph = helper.make_graph(
        nodes,
        "sidebet",
        [helper.make_tensor_value_info(obs_name, TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info(p_rug_name, TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    return _model(graph)


def constant_sidebet_model(p: float, n_features: int = N_FEATURES) -> onnx.ModelProto:
    """A sidebet graph that always answers ``p`` (zero weights, bias logit(p))."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    w = np.zeros((n_features, 1), np.float32)
    b = np.array([np.log(p / (1 - p))], np.float32)
    return sidebet_model(n_features, layers=[(w, b)])


def biased_policy_model(
    preferred: Sequence[int],
    n_features: int = N_FEATURES,
    n_actions: int = N_ACTIONS,
    *,
    fold_mask: bool = True,
) -> onnx.ModelProto:
    """A policy that ignores obs and ranks actions by ``preferred`` (first = best)."""
    w = np.zeros((n_features, n_actions), np.float32)
    b = np.zeros(n_actions, np.float32)
    for rank, action in enumerate(preferred):
        b[action] = float(len(preferred) - rank)
    return policy_model(n_features, n_actions, layers=[(w, b)], fold_mask=fold_mask)


def mask_mixing_policy_model(
    n_features: int = N_FEATURES, n_actions: int = N_ACTIONS, seed: int = 0
) -> onnx.ModelProto:
    """logits = obs·W + mask·M: every logit depends on every mask bit (the mask is NOT
    folded in entry by entry, as trained policies do; the combined graph cannot serve it)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n_features, n_actions)).astype(np.float32)
    m = rng.standard_normal((n_actions, n_actions)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["obs", "W"], ["a"]),
         helper.make_node("MatMul", ["mask", "M"], ["b"]),
         helper.make_node("Add", ["a", "b"], ["logits"])],
        "mask_mixing_policy",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["N", n_features]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", n_actions])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", n_actions])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(m, "M")],
    )
    return _model(graph)


def write_bundle(
    path: str | Path,
    *,
    policy: onnx.ModelProto | bytes | None = None,
    sidebet: onnx.ModelProto | bytes | None = None,
    sidebet_usable: bool = True,
    seed: int = 0,
    version: str = "test-0",
    manifest: Manifest | None = None,
    decide: bool | None = None,
    **manifest_fields: Any,
) -> Path:
    """Write a complete bundle folder (random tiny graphs unless given) and return it.

    ``decide``: True also writes the combined graph (``decide.onnx``), as training does;
    False writes a bundle of the older format (two graphs only); None (default) writes
    it when the two graphs can be combined (a test's deliberately broken graphs cannot)."""
    pol = policy if policy is not None else policy_model(seed=seed)
    side = sidebet if sidebet is not None else sidebet_model(seed=seed + 1)
    man = manifest or make_manifest(
        version,
        sidebet_usable=sidebet_usable,
        metrics={"note": "synthetic test graphs"},
        data_range={"source": "tests/kits/onnx_graphs.py"},
        **manifest_fields,
    )
    pol_bytes, side_bytes = _bytes(pol), _bytes(side)
    combined = None
    if decide is not False:
        try:
            combined = combine_graphs(pol_bytes, side_bytes, obs=man.obs_input,
                                      logits=man.logits_output, p_rug=man.p_rug_output)
        except Exception:
            if decide:
                raise
    return save_bundle(path, pol_bytes, side_bytes, man, combined)


def _bytes(model: onnx.ModelProto | bytes) -> bytes:
    return model if isinstance(model, bytes) else model.SerializeToString()
