"""``combine_graphs`` / ``add_decide_graph``: the combined ``decide.onnx`` is built from the
two graphs unchanged, added to old bundles without touching them, and refused (with the
bundle left as it was) when the loader would not accept it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
import pytest
from kits.onnx_graphs import mask_mixing_policy_model, policy_model, sidebet_model, write_bundle

from rugsd.daemon.dirs import packaged_models_dir
from rugsd.strategy.bundle import (
    DECIDE_FILE,
    MANIFEST_FILE,
    POLICY_FILE,
    SIDEBET_FILE,
    BundleError,
    load_bundle,
    read_manifest,
    resolve_current,
)
from rugsd.training.decide_graph import add_decide_graph, combine_graphs


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_add_decide_graph_upgrades_an_old_bundle_and_touches_nothing_else(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "old", decide=False)
    before, man_before = _digests(folder), read_manifest(folder)
    assert load_bundle(folder).decide is None

    add_decide_graph(folder)

    after = _digests(folder)
    assert set(after) == set(before) | {DECIDE_FILE}
    assert after[POLICY_FILE] == before[POLICY_FILE] and after[SIDEBET_FILE] == before[SIDEBET_FILE]
    man = read_manifest(folder)
    assert man.decide_file == DECIDE_FILE
    assert man.model_dump(exclude={"decide_file"}) == man_before.model_dump(exclude={"decide_file"})
    assert load_bundle(folder).decide is not None


def test_add_decide_graph_leaves_the_bundle_as_it_was_when_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", decide=False, policy=mask_mixing_policy_model())
    before = _digests(folder)
    with pytest.raises(BundleError, match="SIDEBET mask bit"):
        add_decide_graph(folder)
    assert _digests(folder) == before
    assert load_bundle(folder).decide is None


def test_graphs_of_different_opsets_are_not_combined() -> None:
    side = sidebet_model()
    side.opset_import[0].version = 18  # the policy is opset 17: an op's meaning may differ
    with pytest.raises(ValueError, match="opsets"):
        combine_graphs(policy_model().SerializeToString(), side.SerializeToString())


def test_a_sidebet_graph_with_another_input_is_not_combined() -> None:
    side = sidebet_model(obs_name="x").SerializeToString()
    with pytest.raises(ValueError, match="sidebet graph inputs"):
        combine_graphs(policy_model().SerializeToString(), side)


def test_the_combined_graph_keeps_both_graphs_nodes_and_weights() -> None:
    pol, side = policy_model(seed=3), sidebet_model(seed=4)
    combined = onnx.load_from_string(
        combine_graphs(pol.SerializeToString(), side.SerializeToString()))
    assert [i.name for i in combined.graph.input] == ["obs", "mask"]
    assert [o.name for o in combined.graph.output] == ["logits", "p_rug"]
    assert len(combined.graph.node) == len(pol.graph.node) + len(side.graph.node)
    assert {t.name for t in combined.graph.initializer} == (
        {f"policy/{t.name}" for t in pol.graph.initializer}
        | {f"sidebet/{t.name}" for t in side.graph.initializer})


def test_the_shipped_bundles_combined_graph_is_built_from_its_two_graphs() -> None:
    folder = resolve_current(packaged_models_dir())
    assert folder is not None
    rebuilt = combine_graphs((folder / POLICY_FILE).read_bytes(), (folder / SIDEBET_FILE).read_bytes())
    assert rebuilt == (folder / DECIDE_FILE).read_bytes()
    assert '"decide_file": "decide.onnx"' in (folder / MANIFEST_FILE).read_text()
