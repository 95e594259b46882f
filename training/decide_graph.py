"""The combined ``decide.onnx`` graph: policy and sidebet side by side in one graph.

The daemon runs both models on every tick; each onnxruntime call has a fixed cost of a
few µs, so a bundle also carries one graph holding both: inputs ``obs`` [N, F] and
``mask`` [N, A] (the policy's), outputs ``logits`` [N, A] and ``p_rug`` [N, 1]. The two
subgraphs are copied unchanged (node and initializer names prefixed ``policy/`` and
``sidebet/`` so they cannot collide; the shared ``obs`` input and the outputs keep their
names), so onnxruntime computes exactly what the two separate graphs compute — the
bundle loader checks that bit for bit at load and refuses a combined graph that differs.

Needs the ``onnx`` package (``train`` extra): the graph is built when a bundle is written
(``rugsd.training.pipeline``) or added to an existing bundle (``add_decide_graph``); the
daemon only loads it.
"""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from onnx import compose, helper

from rugsd.strategy.bundle import (
    DECIDE_FILE,
    MANIFEST_FILE,
    POLICY_FILE,
    SIDEBET_FILE,
    load_bundle,
    read_manifest,
)


def _opsets(model: onnx.ModelProto) -> dict[str, int]:
    return {op.domain: op.version for op in model.opset_import}


def combine_graphs(
    policy: bytes,
    sidebet: bytes,
    *,
    obs: str = "obs",
    logits: str = "logits",
    p_rug: str = "p_rug",
) -> bytes:
    """One checked ONNX graph computing both ``policy`` and ``sidebet`` on a shared ``obs``.

    Raises ``ValueError`` when the graphs cannot be combined without changing what they
    compute (different opsets, a sidebet input other than ``obs``, missing outputs).
    """
    pol = onnx.load_from_string(policy)
    side = onnx.load_from_string(sidebet)
    side_inputs = [i.name for i in side.graph.input]
    if side_inputs != [obs]:
        raise ValueError(f"sidebet graph inputs {side_inputs}, want [{obs!r}]")
    if obs not in [i.name for i in pol.graph.input]:
        raise ValueError(f"policy graph has no input {obs!r}")
    if [o.name for o in pol.graph.output] != [logits]:
        raise ValueError(f"policy graph outputs {[o.name for o in pol.graph.output]}, want [{logits!r}]")
    if [o.name for o in side.graph.output] != [p_rug]:
        raise ValueError(f"sidebet graph outputs {[o.name for o in side.graph.output]}, want [{p_rug!r}]")
    # one opset for both: an operator's meaning can change between opset versions
    pol_ops, side_ops = _opsets(pol), _opsets(side)
    if any(pol_ops.get(d, v) != v for d, v in side_ops.items()):
        raise ValueError(f"policy opsets {pol_ops} != sidebet opsets {side_ops}")
    pol_p = compose.add_prefix(pol, "policy/", rename_inputs=False, rename_outputs=False)
    side_p = compose.add_prefix(side, "sidebet/", rename_inputs=False, rename_outputs=False)
    graph = helper.make_graph(
        [*pol_p.graph.node, *side_p.graph.node],
        "decide",
        list(pol_p.graph.input),
        [*pol_p.graph.output, *side_p.graph.output],
        initializer=[*pol_p.graph.initializer, *side_p.graph.initializer],
        value_info=[*pol_p.graph.value_info, *side_p.graph.value_info],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in {**side_ops, **pol_ops}.items()],
        ir_version=max(pol.ir_version, side.ir_version),
        producer_name="rugsd-decide",
        functions=[*pol_p.functions, *side_p.functions],
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


def add_decide_graph(folder: str | Path) -> Path:
    """Add ``decide.onnx`` to an existing bundle folder (its two graphs stay untouched).

    The manifest is rewritten atomically with ``decide_file`` set (every other field as
    it was), then the bundle is loaded, which verifies the combined graph against the
    two separate ones; on a refusal the manifest is restored and ``BundleError`` raised.
    """
    folder = Path(folder)
    man = read_manifest(folder)
    combined = combine_graphs(
        (folder / POLICY_FILE).read_bytes(),
        (folder / SIDEBET_FILE).read_bytes(),
        obs=man.obs_input,
        logits=man.logits_output,
        p_rug=man.p_rug_output,
    )
    (folder / DECIDE_FILE).write_bytes(combined)
    path = folder / MANIFEST_FILE
    before = path.read_text()
    _write_atomic(path, man.model_copy(update={"decide_file": DECIDE_FILE}).model_dump_json(indent=2) + "\n")
    try:
        load_bundle(folder)
    except Exception:
        _write_atomic(path, before)
        (folder / DECIDE_FILE).unlink()
        raise
    return folder


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
