"""Reward-hacking alarms and the promotion rule, on real ONNX bundles through the core."""

from __future__ import annotations

import pytest

from rugsd.daemon.config import StrategyConfig
from rugsd.strategy.bundle import load_bundle
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.strategy.rules import NeverStrategy, PresaleTargetStrategy
from rugsd.strategy.testing import biased_policy_model, constant_sidebet_model, write_bundle
from rugsd.training.evaluate import alarms, compare, evaluate_strategies
from rugsd.training.promotion import decide


def _toy(tmp_path, name: str, preferred: list[int]) -> OnnxStrategy:
    folder = write_bundle(tmp_path / name, policy=biased_policy_model(preferred),
                          sidebet=constant_sidebet_model(0.18), sidebet_usable=False)
    return OnnxStrategy(load_bundle(folder), StrategyConfig())


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, sim_heldout):
    tmp = tmp_path_factory.mktemp("toys")
    strategies = {
        "wait_only": _toy(tmp, "wait", [0]),
        "always_sell": _toy(tmp, "sell", [6, 5, 4, 0]),
        "always_buy": _toy(tmp, "buy", [3, 0]),
        "rule": PresaleTargetStrategy(StrategyConfig()),
        "never": NeverStrategy(),
    }
    return evaluate_strategies(strategies, sim_heldout[:25])


def test_a_policy_that_never_opens_positions_is_blocked(evaluated):
    rows, _ = evaluated

    assert any(a.startswith("no_positions") for a in alarms(rows["wait_only"]))
    assert any(a.startswith("no_positions") for a in alarms(rows["always_sell"]))


def test_a_policy_with_one_dominant_action_is_blocked(evaluated):
    rows, _ = evaluated

    found = alarms(rows["always_buy"])

    assert rows["always_buy"]["top_non_wait_action"] == "buy_large"
    assert any(a.startswith("dominant_action") for a in found)


def test_the_rule_strategy_trips_no_alarm(evaluated):
    rows, _ = evaluated

    assert alarms(rows["rule"]) == []
    assert rows["rule"]["positions_opened"] == 25


def test_reward_up_while_heldout_roi_down_is_blocked(evaluated):
    rows, _ = evaluated

    found = alarms(rows["rule"], reward_trend_up=True, roi_start=rows["rule"]["roi"] + 0.01)

    assert any(a.startswith("reward_up_roi_down") for a in found)


def test_failed_leakage_check_is_blocking(evaluated):
    rows, _ = evaluated

    assert any(a.startswith("leakage") for a in alarms(rows["rule"], leakage={"ok": False}))


def test_promotion_refuses_a_bundle_worse_than_the_current_one(evaluated):
    _, results = evaluated
    candidate, current = results["always_buy"], results["rule"]
    comparisons = {"current": compare(candidate, current), "never": compare(candidate,
                                                                            results["never"])}

    promoted, reason = decide(blocking=[], comparisons=comparisons, first=False,
                              vs_rule=compare(candidate, current))

    assert not promoted and "current" in reason


def test_promotion_needs_every_ci_to_exclude_zero():
    win = {"diff_per_game": 1.0, "ci95": [0.5, 1.5], "beats": True}
    tie = {"diff_per_game": 0.1, "ci95": [-0.1, 0.3], "beats": False}

    assert decide(blocking=[], comparisons={"current": win, "never": win}, first=False,
                  vs_rule=win)[0]
    assert not decide(blocking=[], comparisons={"current": win, "never": tie}, first=False,
                      vs_rule=win)[0]
    assert not decide(blocking=["no_positions"], comparisons={"current": win}, first=False,
                      vs_rule=win)[0]
    first_ok, reason = decide(blocking=[], comparisons={"never": tie}, first=True, vs_rule=tie)
    assert first_ok and "does NOT beat never-trading" in reason
