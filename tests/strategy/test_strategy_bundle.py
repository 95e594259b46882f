"""Bundle loading: real onnxruntime sessions on generated graphs; refusals are one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from kits.onnx_graphs import policy_model, sidebet_model, write_bundle

from rugsd.strategy.actions import ACTION_NAMES, N_ACTIONS
from rugsd.strategy.bundle import (
    MANIFEST_FILE,
    POLICY_FILE,
    SIDEBET_FILE,
    BundleError,
    load_bundle,
    make_manifest,
    resolve_current,
)
from rugsd.strategy.features import FEATURE_NAMES, N_FEATURES, schema_hash


def _refusal(path: Path) -> str:
    with pytest.raises(BundleError) as info:
        load_bundle(path)
    msg = str(info.value)
    assert "\n" not in msg, msg
    return msg


def _edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / MANIFEST_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_loads_valid_bundle_and_runs_both_models(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "v1", version="v1", sidebet_usable=False, git_commit="abc")
    bundle = load_bundle(folder)
    assert bundle.manifest.version == "v1"
    assert bundle.manifest.feature_schema_hash == schema_hash()
    assert bundle.manifest.actions == list(ACTION_NAMES)
    assert bundle.sidebet_usable is False
    feats = np.linspace(-1, 1, N_FEATURES, dtype=np.float32)
    logits = bundle.policy.logits(feats, [True] * N_ACTIONS)
    assert logits.shape == (N_ACTIONS,) and np.isfinite(logits).all()
    p = bundle.sidebet.p_rug(feats)
    assert 0.0 < p < 1.0
    assert bundle.policy.row is bundle.sidebet.row is bundle.obs_row


def test_single_row_path_equals_batch_path(tmp_path: Path) -> None:
    bundle = load_bundle(write_bundle(tmp_path / "b", seed=3))
    rng = np.random.default_rng(0)
    obs = rng.standard_normal((16, N_FEATURES)).astype(np.float32)
    mask = rng.random((16, N_ACTIONS)) < 0.6
    batch = bundle.policy.logits_batch(obs, mask)
    probs = bundle.sidebet.p_rug_batch(obs)
    for i in range(16):
        np.testing.assert_allclose(bundle.policy.logits(obs[i], mask[i]), batch[i], rtol=1e-6)
        assert bundle.sidebet.p_rug(obs[i]) == pytest.approx(float(probs[i]), rel=1e-6)
    assert (batch[~mask] <= -1e8).all()  # the mask is folded into the graph


def test_bool_mask_graph_is_accepted(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", policy=policy_model(mask_dtype="bool"))
    bundle = load_bundle(folder)
    mask = [True, False, True, False, True, False, True, False]
    logits = bundle.policy.logits(np.zeros(N_FEATURES, np.float32), mask)
    assert (logits[1::2] <= -1e8).all() and (logits[0::2] > -1e8).all()


def test_refuses_schema_hash_mismatch_naming_both_hashes(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    _edit_manifest(folder, feature_schema_hash="0123456789abcdef")
    msg = _refusal(folder)
    assert "0123456789abcdef" in msg and schema_hash() in msg


def test_refuses_changed_feature_names_even_with_matching_hash(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    _edit_manifest(folder, feature_names=list(FEATURE_NAMES[:-1]))
    assert "feature schema" in _refusal(folder)


def test_refuses_different_action_list(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    _edit_manifest(folder, actions=list(ACTION_NAMES[:-1]))
    assert "action list" in _refusal(folder)


def test_refuses_corrupt_onnx_bytes(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    (folder / POLICY_FILE).write_bytes(b"\x08\x07garbage-not-a-model" * 10)
    msg = _refusal(folder)
    assert "cannot load policy.onnx" in msg


@pytest.mark.parametrize("missing", [POLICY_FILE, SIDEBET_FILE, MANIFEST_FILE])
def test_refuses_missing_file(tmp_path: Path, missing: str) -> None:
    folder = write_bundle(tmp_path / "b")
    (folder / missing).unlink()
    assert f"missing {missing}" in _refusal(folder)


def test_refuses_missing_folder(tmp_path: Path) -> None:
    assert "not a folder" in _refusal(tmp_path / "nope")


def test_refuses_corrupt_manifest_json(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    (folder / MANIFEST_FILE).write_text("{not json")
    assert "corrupt manifest.json" in _refusal(folder)


def test_refuses_manifest_missing_a_field(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    data = json.loads((folder / MANIFEST_FILE).read_text())
    del data["sidebet_usable"]
    (folder / MANIFEST_FILE).write_text(json.dumps(data))
    assert "sidebet_usable" in _refusal(folder)


def test_refuses_policy_with_wrong_obs_width(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", policy=policy_model(n_features=N_FEATURES + 1))
    msg = _refusal(folder)
    assert "policy" in msg and "obs" in msg and str(N_FEATURES) in msg


def test_refuses_policy_with_wrong_action_count(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", policy=policy_model(n_actions=N_ACTIONS - 1))
    assert "mask" in _refusal(folder)


def test_refuses_sidebet_with_wrong_obs_width(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", sidebet=sidebet_model(n_features=N_FEATURES - 2))
    assert "sidebet" in _refusal(folder)


def test_refuses_renamed_inputs(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", policy=policy_model(obs_name="x"))
    assert "no input named 'obs'" in _refusal(folder)


def test_manifest_may_name_other_tensors(tmp_path: Path) -> None:
    folder = write_bundle(
        tmp_path / "b",
        policy=policy_model(obs_name="x", mask_name="valid", logits_name="out"),
        manifest=make_manifest(
            "named", sidebet_usable=True, obs_input="x", mask_input="valid", logits_output="out"
        ),
        sidebet=sidebet_model(obs_name="x"),
    )
    assert load_bundle(folder).policy.obs_name == "x"


def test_resolve_current_follows_symlink_or_pointer_file(tmp_path: Path) -> None:
    models = tmp_path / "models"
    write_bundle(models / "v7")
    assert resolve_current(models) is None
    os.symlink(models / "v7", models / "current")
    assert resolve_current(models) == (models / "v7").resolve()
    (models / "current").unlink()
    (models / "current").write_text("v7\n")
    assert resolve_current(models) == (models / "v7").resolve()
    (models / "current").write_text("v8\n")
    assert resolve_current(models) is None
