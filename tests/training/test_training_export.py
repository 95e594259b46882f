"""Policy: behaviour cloning against SB3, logits-only ONNX export with parity to torch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from kits.onnx_graphs import constant_sidebet_model

from rugsd.strategy.bundle import load_bundle, make_manifest, save_bundle
from rugsd.training.env import RugsEnv
from rugsd.training.export import export_policy, parity
from rugsd.training.policy import (
    behaviour_clone,
    load_checkpoint,
    make_model,
    obs_stats,
    rule_demos,
    train_ppo,
)


@pytest.fixture(scope="module")
def cloned(sim_train):
    env = RugsEnv(sim_train, allow_sidebet=False, shuffle=False)
    demos = rule_demos(env, 40)
    mean, std = obs_stats(demos.obs)
    model = make_model(RugsEnv(sim_train, allow_sidebet=False), mean, std, seed=0, n_steps=256)
    stats = behaviour_clone(model, demos, epochs=15, budget_s=20)
    return model, demos, stats


def test_behaviour_cloning_learns_the_rule_strategy(cloned):
    _, demos, stats = cloned

    assert set(np.unique(demos.actions)) == {0, 3, 6}  # wait, buy_large, sell_100
    assert stats["accuracy"] > 0.95
    assert stats["per_action_accuracy"][3] > 0.9  # the presale buy is learnt


def test_export_matches_torch_on_1000_heldout_observations(cloned, sim_heldout):
    model, _, _ = cloned
    held = rule_demos(RugsEnv(sim_heldout, allow_sidebet=False, shuffle=False), 15)
    assert len(held) >= 1000

    data = export_policy(model.policy)
    result = parity(model.policy, data, held.obs[:1000], held.masks[:1000])

    onnx.checker.check_model(onnx.load_from_string(data))
    assert result.rows == 1000 and result.argmax_equal and result.max_prob_diff <= 1e-5


def test_exported_bundle_loads_and_masks_invalid_actions(cloned, tmp_path):
    model, demos, _ = cloned
    data = export_policy(model.policy)
    man = make_manifest("t-1", sidebet_usable=False)
    folder = save_bundle(tmp_path / "b", data, constant_sidebet_model(0.18).SerializeToString(),
                         man)

    bundle = load_bundle(folder)
    logits = bundle.policy.logits_batch(demos.obs[:50], demos.masks[:50])

    assert logits.shape == (50, 8)
    assert np.all(logits[~demos.masks[:50]] <= -1e8)


def test_ppo_resumes_from_its_checkpoint(cloned, sim_train, tmp_path):
    model, _, _ = cloned
    ckpt = tmp_path / "ppo.zip"
    run = train_ppo(model, 256, budget_s=60, ckpt=ckpt)
    assert ckpt.is_file() and run.timesteps >= 256

    loaded = load_checkpoint(ckpt, RugsEnv(sim_train, allow_sidebet=False))
    assert loaded is not None
    again, prev = loaded
    run2 = train_ppo(again, 256, budget_s=60, ckpt=ckpt, run=prev)

    assert run2.resumed and run2.timesteps >= run.timesteps + 256
