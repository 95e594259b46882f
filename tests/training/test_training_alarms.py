"""Behaviour alarms and the promotion rule, on real ONNX bundles and rule-like policies
replayed on the daemon's path (its default configuration) over simulated games."""

from __future__ import annotations

import pytest
from kits.onnx_graphs import biased_policy_model, constant_sidebet_model, write_bundle

from rugsd.daemon.config import Settings, StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.strategy.actions import ActionTable
from rugsd.strategy.base import Decision
from rugsd.strategy.bundle import load_bundle
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.strategy.rules import NeverStrategy, PresaleTargetStrategy
from rugsd.training.episodes import session_events
from rugsd.training.evaluate import alarms, compare, evaluate_strategies
from rugsd.training.promotion import decide

TABLE = ActionTable.from_config(StrategyConfig())


def _toy(tmp_path, name: str, preferred: list[int]) -> OnnxStrategy:
    folder = write_bundle(tmp_path / name, policy=biased_policy_model(preferred),
                          sidebet=constant_sidebet_model(0.18), sidebet_usable=False)
    return OnnxStrategy(load_bundle(folder), StrategyConfig())


class Churn:
    """Buy 0.001 SOL when flat, sell everything when holding: every tick."""

    name = "churn"

    def decide(self, view, account, features=None) -> Decision:
        if view.phase is Phase.ACTIVE and account.qty > 0:
            return Decision(TABLE.intents[6])
        return Decision(TABLE.intents[1])


class PresaleStacker:
    """Buy 0.01 SOL at every presale decision; hold to the rug."""

    name = "stacker"

    def decide(self, view, account, features=None) -> Decision:
        return Decision(TABLE.intents[3] if view.phase is Phase.PRESALE else TABLE.intents[0])


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, sim_heldout):
    tmp = tmp_path_factory.mktemp("toys")
    strategies = {
        "wait_only": _toy(tmp, "wait", [0]),
        "always_sell": _toy(tmp, "sell", [6, 5, 4, 0]),
        "always_buy": _toy(tmp, "buy", [3, 0]),
        "churn": Churn(),
        "stacker": PresaleStacker(),
        "rule": PresaleTargetStrategy(StrategyConfig()),
        "never": NeverStrategy(),
    }
    games = sim_heldout[:25]
    return evaluate_strategies(strategies, lambda: session_events(games), Settings())


def _first_bundle(rows, sessions, name: str) -> tuple[bool, str, list[str]]:
    rows_alarms = alarms(rows[name])
    comparisons = {"never": compare(sessions[name].results, sessions["never"].results)}
    promoted, reason = decide(blocking=rows_alarms, comparisons=comparisons, first=True)
    return promoted, reason, rows_alarms


def test_a_policy_that_never_opens_positions_is_blocked(evaluated):
    rows, _ = evaluated

    assert any(a.startswith("no_positions") for a in alarms(rows["wait_only"]))
    assert any(a.startswith("no_positions") for a in alarms(rows["always_sell"]))


def test_a_policy_that_needs_the_risk_gate_to_stop_it_is_blocked(evaluated):
    rows, _ = evaluated

    found = alarms(rows["always_buy"])

    assert rows["always_buy"]["top_non_wait_action"] == "buy_large"
    assert rows["always_buy"]["refused_share"] > 0.5
    assert any(a.startswith("dominant_action") for a in found)
    assert any(a.startswith("risk_refusals") for a in found)


def test_the_churning_policy_is_rejected_by_the_gate(evaluated):
    rows, sessions = evaluated

    promoted, reason, found = _first_bundle(rows, sessions, "churn")

    assert rows["churn"]["orders_per_game"] > 10
    assert any(a.startswith("churn") for a in found)
    assert any(a.startswith("risk_refusals") for a in found)  # 30 orders/min: rate limit
    assert not promoted and "churn" in reason


def test_the_presale_stacking_policy_is_rejected_by_the_gate(evaluated):
    rows, sessions = evaluated

    promoted, reason, found = _first_bundle(rows, sessions, "stacker")

    assert rows["stacker"]["orders_refused"].get("max_position", 0) > 0
    assert any(a.startswith("risk_refusals") for a in found)
    assert not promoted and "risk_refusals" in reason


def test_the_rule_strategy_trips_no_alarm(evaluated):
    rows, _ = evaluated

    assert alarms(rows["rule"]) == []
    assert rows["rule"]["positions_opened"] == 25
    assert rows["rule"]["refused_share"] == 0.0


def test_reward_up_while_heldout_roi_down_is_blocked(evaluated):
    rows, _ = evaluated

    found = alarms(rows["rule"], reward_trend_up=True, roi_start=rows["rule"]["roi"] + 0.01)

    assert any(a.startswith("reward_up_roi_down") for a in found)


def test_failed_leakage_check_is_blocking(evaluated):
    rows, _ = evaluated

    assert any(a.startswith("leakage") for a in alarms(rows["rule"], leakage={"ok": False}))


def test_promotion_refuses_a_bundle_worse_than_the_current_one(evaluated):
    _, sessions = evaluated
    candidate, current = sessions["always_buy"].results, sessions["rule"].results
    comparisons = {"current": compare(candidate, current),
                   "never": compare(candidate, sessions["never"].results)}

    promoted, reason = decide(blocking=[], comparisons=comparisons, first=False)

    assert not promoted and "current" in reason


def test_first_bundle_needs_not_to_be_significantly_worse_than_never_trading():
    win = {"diff_per_game": 1.0, "ci95": [0.5, 1.5], "beats": True}
    tie = {"diff_per_game": 0.1, "ci95": [-0.1, 0.3], "beats": False}
    worse = {"diff_per_game": -0.2, "ci95": [-0.3, -0.1], "beats": False}

    assert decide(blocking=[], comparisons={"current": win, "never": win}, first=False)[0]
    assert not decide(blocking=[], comparisons={"current": win, "never": tie}, first=False)[0]
    assert not decide(blocking=["no_positions"], comparisons={"current": win}, first=False)[0]
    first_ok, reason = decide(blocking=[], comparisons={"never": tie}, first=True)
    assert first_ok and "does NOT beat never-trading" in reason
    refused, why = decide(blocking=[], comparisons={"never": worse}, first=True)
    assert not refused and "significantly worse than never trading" in why
