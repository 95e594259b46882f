"""The control-plane snapshot built from a real decision core: the model panel's outputs
belong to the decision they are shown with, and the decision log of the current game
survives any number of WAITs (a TUI attaching mid-game sees the whole game so far)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

_CORE_HELPERS = Path(__file__).resolve().parents[1] / "core"
if str(_CORE_HELPERS) not in sys.path:
    sys.path.insert(0, str(_CORE_HELPERS))

from core_helpers import (
    ScriptedStrategy,
    buy_then_hold,
    events_of,
    make_test_core,
    sim_games,
)
from kits.onnx_graphs import policy_model, write_bundle

from rugsd.daemon.config import Settings
from rugsd.daemon.control.protocol import parse_snapshot
from rugsd.daemon.core.decision import DecisionCore, LastDecision
from rugsd.daemon.core.inputs import OperatorAction, OperatorInput
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import sol_to_lamports
from rugsd.daemon.runtime.snapshot import (
    RECENT_DECISIONS,
    DecisionWindow,
    build_snapshot,
)
from rugsd.strategy.actions import ACTION_NAMES, N_ACTIONS
from rugsd.strategy.features import N_FEATURES
from rugsd.strategy.intents import Action, Intent
from rugsd.strategy.registry import build_strategy

BUY_SMALL = 1


def _snapshot(core: DecisionCore, window: DecisionWindow) -> dict:
    return build_snapshot(core, seq=1, now_ms=0, daemon={}, feed={}, execution={},
                          decisions=window, kill_latched=False)


def _step_all(core: DecisionCore, window: DecisionWindow, events, until=None) -> None:
    """Step the core as the daemon does, feeding the window its latest decision."""
    for ev in events:
        core.step(ev)
        d = core.last_decision
        if d is not None and (not window or window[-1] is not d):
            window.append(d)
        if until is not None and until(core):
            return


def _buying_onnx_core(tmp_path: Path) -> DecisionCore:
    """A real ONNX bundle whose policy prefers buy_small, then wait."""
    w = np.zeros((N_FEATURES, N_ACTIONS), np.float32)
    b = np.zeros(N_ACTIONS, np.float32)
    b[BUY_SMALL], b[0] = 2.0, 1.0
    folder = write_bundle(tmp_path / "b", policy=policy_model(layers=[(w, b)]))
    settings = Settings()
    settings.strategy.name = "onnx"
    return make_test_core(build_strategy(settings, folder))


def test_snapshot_model_outputs_are_those_of_the_decision_shown(tmp_path: Path) -> None:
    core = _buying_onnx_core(tmp_path)
    window = DecisionWindow()
    events = events_of(sim_games(2, 5, max_ticks=80))
    # play until the policy holds a position in the active phase
    _step_all(core, window, events,
              until=lambda c: c.account.qty > 0 and c.view.phase is Phase.ACTIVE)
    snap = _snapshot(core, window)
    model = snap["model"]
    decision = model["decision"]
    assert decision["tick"] == core.view.tick and decision["game_id"] == core.view.game_id
    probs = model["action_probs"]
    assert probs is not None and len(probs) == len(ACTION_NAMES)
    chosen = model["action_index"]
    assert probs[chosen] == max(probs)
    assert decision["source"].endswith(f":{ACTION_NAMES[chosen]}")

    # the operator flattens: the next decision is the risk layer's sell, not the model's
    ts = core.view.ts_ms
    core.step(OperatorInput(ts, OperatorAction.FLATTEN, source="test", who="pytest"))
    rest = [ev for ev in events if ev.ts_ms > ts]
    _step_all(core, window, rest, until=lambda c: c.last_decision.intent.source == "risk:flatten")
    snap = _snapshot(core, window)
    model = snap["model"]
    assert model["decision"]["intent"] == "sell 100%"
    assert model["decision"]["source"] == "risk:flatten"
    # before the fix the panel kept the policy's outputs of an earlier tick here
    assert model["action_probs"] is None and model["p_rug"] is None
    assert model["action_index"] is None
    parsed, problems = parse_snapshot(snap)
    assert problems == [] and parsed.model.decision.intent == "sell 100%"


def test_snapshot_decision_log_keeps_the_games_orders_past_the_recent_window() -> None:
    core = make_test_core(ScriptedStrategy(buy_then_hold(sol_to_lamports(0.01))))
    window = DecisionWindow()
    games = sim_games(3, 11, max_ticks=400)
    events = events_of(games)
    first = games[0].game_id
    # well into the first game: its presale buy is older than the last 50 decisions
    _step_all(core, window, events,
              until=lambda c: c.view.game_id == first and c.view.tick >= RECENT_DECISIONS + 20)
    snap = _snapshot(core, window)
    assert all(d["verdict"] == "none" for d in snap["decisions"]), "only WAITs are recent"
    log = snap["decision_log"]
    assert [(d["intent"], d["verdict"], d["game_id"]) for d in log] == [
        ("buy 0.010", "order", first)]
    assert log[0]["order_id"] and log[0]["repeat"] == 1
    parsed, problems = parse_snapshot(snap)
    assert problems == [] and parsed.decision_log[0].order_id == log[0]["order_id"]


def _d(game: str, tick: int, verdict: str, reason: str = "",
       intent: Intent | None = None) -> LastDecision:
    intent = intent or Intent(Action.BUY, amount=sol_to_lamports(0.01), source="t")
    order = f"o-{game}-{tick}" if verdict == "order" else None
    return LastDecision(tick * 250, game, tick, intent, verdict, reason, order)


def test_decision_window_merges_repeated_refusals_and_keeps_two_games() -> None:
    window = DecisionWindow()
    sell = Intent(Action.SELL, percentage=100, source="t")
    rows = [_d("g1", 0, "order")]
    rows += [_d("g1", t, "refused", "max_position") for t in range(1, 30)]
    rows += [_d("g1", 30, "refused", "max_position", sell), _d("g1", 31, "none")]
    rows += [_d("g1", 32, "refused", "max_position")]
    for d in rows:
        window.append(d)
    log = [row.as_dict() for row in window.log]
    assert [(r["tick"], r["verdict"], r["repeat"], r["last_tick"]) for r in log] == [
        (0, "order", 1, 0), (1, "refused", 29, 29), (30, "refused", 1, 30),
        (32, "refused", 1, 32)]
    assert window[-1].tick == 32 and len(window) == len(rows)

    window.append(_d("g2", 0, "order"))
    window.append(_d("g3", 0, "order"))
    assert {row.first.game_id for row in window.log} == {"g2", "g3"}, "two games kept"


def test_snapshot_counts_combined_model_calls_that_fell_back(tmp_path: Path, monkeypatch) -> None:
    core = _buying_onnx_core(tmp_path)
    decide = core.strategy.bundle.decide
    assert decide is not None  # the kit bundle carries decide.onnx
    window = DecisionWindow()
    events = events_of(sim_games(1, 6, max_ticks=30))
    _step_all(core, window, events[:60])
    assert _snapshot(core, window)["model"]["fallbacks"] == 0

    def boom(*args):
        raise RuntimeError("onnxruntime exploded")

    monkeypatch.setattr(decide, "run", boom)
    decisions = core.stats["decisions"]
    _step_all(core, window, events[60:120])
    snap = _snapshot(core, window)
    made = core.stats["decisions"] - decisions
    # every model decision since fell back to the two graphs, and still decided
    assert made > 0 and snap["model"]["fallbacks"] == made
    assert snap["model"]["action_probs"] is not None and snap["model"]["non_finite"] == 0
    parsed, problems = parse_snapshot(snap)
    assert problems == [] and parsed.model.fallbacks == made
