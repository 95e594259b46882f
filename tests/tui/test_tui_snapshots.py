"""Visual regression: SVG snapshots of the TUI (pytest-textual-snapshot) from fixed data.

The app runs unconnected and is fed ``example_snapshot()``, so nothing in the picture
depends on clocks or sockets. Baselines live in ``tests/tui/__snapshots__/``; refresh
them with ``pytest tests/tui/test_tui_snapshots.py --snapshot-update`` after an intended
change (and look at the report first).
"""

from __future__ import annotations

import copy

from rugsd.daemon.control.protocol import example_snapshot
from rugsd.tui.app import RugsdTui

OFFLINE_REASON = "no control socket at rugsd-data/run/control.sock (daemon not running?)"


def _app() -> RugsdTui:
    return RugsdTui("/nonexistent/run/control.sock", who="tui:snap@test", connect=False)


def _feed(snapshot: dict | None = None, offline: bool = False, keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        if snapshot is not None:
            pilot.app.apply_snapshot(snapshot)
        if offline:
            pilot.app.set_offline(OFFLINE_REASON, 4)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()

    return run_before


def test_tui_snapshot_normal_80x24(snap_compare):
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_feed(example_snapshot()))


def test_tui_snapshot_killed_80x24(snap_compare):
    snap = copy.deepcopy(example_snapshot())
    snap["risk"].update(state="KILLED", kill_latched=True)
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_feed(snap))


def test_tui_snapshot_venue_integrity_80x24(snap_compare):
    snap = copy.deepcopy(example_snapshot())
    snap["risk"].update(state="HALTED")
    snap["risk"]["flags"]["venue_integrity"] = True
    snap["audit"].update(verified=131, path_mismatch=1, last_mismatch={
        "game_id": "20260101-9c41d07e2b5a8f13", "result": "path_mismatch",
        "detail": "tick 57 (live): price 1.2357, the seed gives 1.2345678",
        "tick": 57, "expected": 1.2345678, "observed": 1.2357})
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_feed(snap))


def test_tui_snapshot_disconnected_80x24(snap_compare):
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_feed(None, offline=True))


def test_tui_snapshot_normal_160x48(snap_compare):
    assert snap_compare(_app(), terminal_size=(160, 48), run_before=_feed(example_snapshot()))


def test_tui_snapshot_killed_160x48(snap_compare):
    snap = copy.deepcopy(example_snapshot())
    snap["risk"].update(state="KILLED", kill_latched=True)
    assert snap_compare(_app(), terminal_size=(160, 48), run_before=_feed(snap))


def test_tui_snapshot_candles_80x24(snap_compare):
    assert snap_compare(_app(), terminal_size=(80, 24),
                        run_before=_feed(example_snapshot(), keys=("c",)))


def test_tui_snapshot_candles_160x48(snap_compare):
    assert snap_compare(_app(), terminal_size=(160, 48),
                        run_before=_feed(example_snapshot(), keys=("c",)))


def test_tui_snapshot_kill_dialog_80x24(snap_compare):
    assert snap_compare(_app(), terminal_size=(80, 24),
                        run_before=_feed(example_snapshot(), keys=("k",)))


def test_tui_snapshot_flatten_by_risk_has_no_model_outputs_80x24(snap_compare):
    """The model panel shows the risk layer's sell as the decision, without the policy's
    outputs of an earlier tick."""
    snap = copy.deepcopy(example_snapshot())
    flatten = {"ts_ms": 1_767_225_600_250, "game_id": snap["game"]["game_id"], "tick": 121,
               "intent": "sell 100%", "source": "risk:flatten", "verdict": "order",
               "reason": "", "order_id": "o-106"}
    snap["model"].update(action_probs=None, p_rug=None, action_index=None, decision=flatten)
    snap["decision_log"].append(flatten)
    snap["risk"].update(state="REDUCING")
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_feed(snap))
