"""Bundles with a combined graph (``decide.onnx``): loaded only when it computes exactly
what the two separate graphs compute; anything else is a one-line ``BundleError``."""

from __future__ import annotations

from pathlib import Path

import pytest
from kits.onnx_graphs import mask_mixing_policy_model, policy_model, sidebet_model, write_bundle

from rugsd.strategy.bundle import DECIDE_FILE, MANIFEST_FILE, BundleError, load_bundle
from rugsd.training.decide_graph import combine_graphs


def _refusal(folder: Path) -> str:
    with pytest.raises(BundleError) as info:
        load_bundle(folder)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"bundle {folder}: ")
    return msg


def _replace_decide(folder: Path, data: bytes) -> None:
    (folder / DECIDE_FILE).write_bytes(data)


def test_a_bundle_with_the_combined_graph_loads_it_on_the_shared_row(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path / "b", decide=True))
    assert bundle.manifest.decide_file == DECIDE_FILE and bundle.decide is not None
    assert bundle.decide.row is bundle.obs_row is bundle.sidebet.row
    assert not bundle.obs_row.any()  # the load-time probes leave the row as they found it


def test_a_bundle_without_the_field_loads_with_two_sessions(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", decide=False)
    assert not (folder / DECIDE_FILE).exists()
    assert '"decide_file": null' in (folder / MANIFEST_FILE).read_text()
    assert load_bundle(folder).decide is None


def test_a_combined_graph_of_another_sidebet_model_is_refused(tmp_path: Path) -> None:
    pol = policy_model(seed=0).SerializeToString()
    folder = write_bundle(tmp_path / "b", policy=pol, sidebet=sidebet_model(seed=1), decide=True)
    _replace_decide(folder, combine_graphs(pol, sidebet_model(seed=2).SerializeToString()))
    msg = _refusal(folder)
    assert f"{DECIDE_FILE} disagrees with policy.onnx/sidebet.onnx on probe row" in msg


def test_a_combined_graph_of_another_policy_is_refused(tmp_path: Path) -> None:
    side = sidebet_model(seed=1).SerializeToString()
    folder = write_bundle(tmp_path / "b", policy=policy_model(seed=0), sidebet=side, decide=True)
    _replace_decide(folder, combine_graphs(policy_model(seed=5).SerializeToString(), side))
    assert "disagrees" in _refusal(folder)


def test_a_policy_whose_logits_read_the_sidebet_bit_cannot_use_the_combined_graph(
    tmp_path: Path,
) -> None:
    # the combined graph equals the two graphs, but running it before SIDEBET is cleared
    # would change the other logits: refused (the two-graph bundle of it still loads)
    graphs = {"policy": mask_mixing_policy_model(), "sidebet": sidebet_model(seed=1)}
    msg = _refusal(write_bundle(tmp_path / "b", decide=True, **graphs))
    assert "logits depend on the SIDEBET mask bit" in msg
    assert load_bundle(write_bundle(tmp_path / "two", decide=False, **graphs)).decide is None


def test_a_missing_combined_file_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", decide=True)
    (folder / DECIDE_FILE).unlink()
    assert _refusal(folder).endswith(f"missing {DECIDE_FILE}")


def test_a_corrupt_combined_file_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", decide=True)
    _replace_decide(folder, b"\x08\x07not an onnx graph" * 10)
    assert f"cannot load {DECIDE_FILE}" in _refusal(folder)


def test_a_combined_file_with_a_bad_signature_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", decide=True)
    _replace_decide(folder, (folder / "policy.onnx").read_bytes())  # no p_rug output
    assert "decide: no output named 'p_rug'" in _refusal(folder)


def test_a_combined_file_outside_the_folder_is_refused(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", decide=False, decide_file="../decide.onnx")
    assert "must be a file name in the folder" in _refusal(folder)
