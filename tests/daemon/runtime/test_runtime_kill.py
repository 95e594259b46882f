"""The kill switch of a running ``rugsd run --paper`` (real subprocess, embedded simulator
at x20): every trigger stops new entries at once, flattens the open position, is visible
in ``rugsd status --json``, and the latch survives a restart until ``rugsd arm``."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable

import pytest
from daemon_proc import DaemonProc, now_ms, rugsd, wait_for

from rugsd.risk.killswitch import kill_file_path, latch_path

# hold every position until the rug (or the risk shell's flattening sell)
HOLD = {"RUGSD_STRATEGY__TARGET_MULTIPLE": "1000", "RUGSD_STRATEGY__MAX_HOLD_TICKS": "5000"}
ENTRY = "('buy', 'sidebet')"


def _holding_in_active(d: DaemonProc) -> bool:
    snap = d.snapshot()
    return (snap["game"]["phase"] == "active" and snap["game"]["tick"] >= 1
            and snap["account"]["qty"] > 0)


def _trigger(d: DaemonProc, how: str) -> None:
    if how == "cli":
        done = rugsd("kill", "--data-dir", str(d.data_dir), "--reason", "pytest cli")
        assert done.returncode == 0, done.stderr
        assert "KILLED" in done.stdout
    elif how == "sigusr1":
        os.kill(d.pid, signal.SIGUSR1)
    elif how == "kill-file":
        kill_file_path(d.run_dir).write_text("pytest kill file\n")
    elif how == "control":
        answer = d.command("kill", {"reason": "pytest control"})
        assert answer["type"] == "result" and answer["ok"], answer
        assert answer["risk"]["state"] == "KILLED"
    else:
        raise AssertionError(how)


EXPECTED_SOURCE = {"cli": {"control", "signal", "file"}, "sigusr1": {"signal"}, "kill-file": {"file"},
                   "control": {"control"}}


@pytest.mark.parametrize("how", ["cli", "sigusr1", "kill-file", "control"])
def test_runtime_kill_from_each_trigger_stops_entries_and_flattens(
    daemons: Callable[..., DaemonProc], how: str
) -> None:
    d = daemons(env=HOLD)
    d.wait_ready()
    wait_for(lambda: _holding_in_active(d), 20, "a position in the active phase", d.alive)
    entries_before = d.query(f"SELECT count(*) FROM orders WHERE action IN {ENTRY}")[0][0]
    assert entries_before >= 1
    t_trigger = now_ms()

    _trigger(d, how)

    rows = wait_for(lambda: d.query("SELECT ts_ms, source, reason FROM kill_events"), 5,
                    "the kill event in the journal", d.alive)
    kill_ts, source, _reason = rows[0]
    assert len(rows) == 1
    assert source in EXPECTED_SOURCE[how]
    # the next entry the strategy asks for (next presale) is refused as killed
    wait_for(lambda: d.query(
        "SELECT count(*) FROM decisions WHERE ts_ms > ? AND intent_action IN "
        f"{ENTRY} AND verdict = 'refused' AND reason = 'state_killed'", (kill_ts,))[0][0],
        25, "an entry refused after the kill", d.alive)
    wait_for(lambda: d.query("SELECT qty FROM positions ORDER BY id DESC LIMIT 1")[0][0] == 0,
             10, "a flat position", d.alive)

    late_entries = d.query(f"SELECT order_id, ts_ms FROM orders WHERE action IN {ENTRY} "
                           "AND ts_ms > ?", (kill_ts,))
    assert late_entries == []
    after = d.query("SELECT action, percentage, ts_ms FROM orders WHERE ts_ms > ?", (kill_ts,))
    assert all(a == "sell" and p == 100 for a, p, _ in after), after
    flattened = d.query("SELECT count(*) FROM decisions WHERE ts_ms >= ? AND intent_action = "
                        "'sell' AND intent_percentage = 100 AND verdict = 'order'", (kill_ts,))
    rug_sold = d.query("SELECT count(*) FROM fills WHERE ts_ms >= ? AND kind = 'rug_sell'",
                       (kill_ts,))
    held = d.query("SELECT qty FROM positions WHERE ts_ms <= ? ORDER BY id DESC LIMIT 1",
                   (kill_ts,))
    if held and held[0][0] > 0:  # (the CLI starts slowly: the game may have ended by then)
        # the position is closed by the flattening sell, unless the rug came first
        assert flattened[0][0] >= 1 or rug_sold[0][0] >= 1
    assert latch_path(d.run_dir).exists()
    status = rugsd("status", "--json", "--data-dir", str(d.data_dir))
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["trading_state"] == "KILLED" and report["kill_latched"] is True
    last_entry = d.query(f"SELECT max(ts_ms) FROM orders WHERE action IN {ENTRY}")[0][0]
    note = ""
    if how in ("cli", "kill-file"):  # from the kill file's write (after the CLI's start-up)
        written = kill_file_path(d.run_dir).stat().st_mtime_ns // 1_000_000
        note = f" ({kill_ts - written} ms after the kill file was written)"
    print(f"kill via {how}: trigger->kill {kill_ts - t_trigger} ms{note}, last entry order "
          f"{kill_ts - last_entry} ms before the kill, held at the kill: {bool(held and held[0][0] > 0)}, "
          f"flatten sell: {flattened[0][0]}")


def test_runtime_kill_latch_survives_restart_until_arm(
    daemons: Callable[..., DaemonProc],
) -> None:
    fast = {"RUGSD_STRATEGY__MAX_HOLD_TICKS": "3"}
    first = daemons(env=fast)
    first.wait_ready()
    wait_for(lambda: first.query("SELECT count(*) FROM orders")[0][0], 20, "a first order",
             first.alive)
    answer = first.command("kill", {"reason": "pytest restart"})
    assert answer["risk"]["state"] == "KILLED"
    assert first.stop() == 0

    second = daemons(data_dir=first.data_dir, env=fast)
    answer = second.wait_ready()
    assert answer["risk"]["state"] == "KILLED"
    run_id = second.run_id()
    wait_for(lambda: second.query(
        "SELECT count(*) FROM decisions WHERE run_id = ? AND intent_action = 'buy' AND "
        "reason = 'state_killed'", (run_id,))[0][0], 25, "a refused entry after the restart",
        second.alive)
    # nothing but the flattening sell of a position carried over from the first run
    orders = second.query("SELECT action, percentage FROM orders WHERE run_id = ?", (run_id,))
    assert all(o == ("sell", 100) for o in orders), orders

    refused = rugsd("arm", "--data-dir", str(second.data_dir))  # stdin is not a terminal
    assert refused.returncode == 2
    assert second.snapshot()["risk"]["state"] == "KILLED"

    armed = rugsd("arm", "--yes", "--data-dir", str(second.data_dir))
    assert armed.returncode == 0, armed.stderr
    assert "armed" in armed.stdout
    assert not latch_path(second.run_dir).exists()
    wait_for(lambda: second.snapshot()["risk"]["state"] == "ACTIVE", 5,
             "the running daemon to notice the arm", second.alive)
    wait_for(lambda: second.query(
        "SELECT count(*) FROM orders WHERE run_id = ? AND action = 'buy'", (run_id,))[0][0],
        25, "a buy after arming", second.alive)
    assert second.stop() == 0

    offline = rugsd("kill", "--data-dir", str(second.data_dir), "--reason", "offline")
    assert offline.returncode == 3 and "no running daemon" in offline.stdout
    assert "NO RUNNING DAEMON ACKNOWLEDGED" in offline.stderr
    status = rugsd("status", "--json", "--data-dir", str(second.data_dir))
    assert status.returncode == 3
    assert json.loads(status.stdout)["trading_state"] == "KILLED"
    armed = rugsd("arm", "--yes", "--data-dir", str(second.data_dir))  # no daemon running
    assert armed.returncode == 0 and "armed" in armed.stdout
    status = rugsd("status", "--json", "--data-dir", str(second.data_dir))
    assert json.loads(status.stdout)["kill_latched"] is False
