"""The persisted kill latch and the kill file, on a real file system in tmp_path."""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_helpers import T0

from rugsd.risk.killswitch import (
    ArmResult,
    KillLatch,
    arm,
    check_kill_file,
    current_kill,
    kill_file_path,
    latch_path,
    latch_present,
    pid_alive,
    pid_path,
    poll_kill_file,
    read_latch,
    read_pid,
    run_dir_of,
    trip,
    write_kill_file,
    write_latch,
)
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import RiskState, TradingState

LATCH = KillLatch(T0, "cli:op@host", ReasonCode.OPERATOR_KILL.value, "model misbehaving")


def test_latch_is_written_as_json_with_who_when_why_and_no_temp_files(tmp_path):
    run = run_dir_of(tmp_path)

    write_latch(run, LATCH)

    data = json.loads(latch_path(run).read_text())
    assert data == {"ts_ms": T0, "who": "cli:op@host", "reason": "operator_kill",
                    "detail": "model misbehaving"}
    assert sorted(p.name for p in run.iterdir()) == ["kill.latch"]


def test_latch_survives_a_restart(tmp_path):
    run = run_dir_of(tmp_path)
    state, _ = RiskState().on_feed_event(T0)
    state, change = state.kill(T0, ReasonCode.DRAWDOWN_LIMIT, "dd 0.31 SOL")
    trip(run, KillLatch(change.ts_ms, "daemon", change.reason.value, change.detail))

    # "restart": new objects, only the run dir in common
    found = read_latch(run_dir_of(tmp_path))
    fresh, change = RiskState().restore_kill(T0 + 60_000, found.describe())

    assert found == KillLatch(T0, "daemon", "drawdown_limit", "dd 0.31 SOL")
    assert fresh.trading_state is TradingState.KILLED
    assert change.reason is ReasonCode.KILL_LATCH_RESTORED


def test_trip_keeps_the_first_latch(tmp_path):
    run = run_dir_of(tmp_path)
    first = trip(run, LATCH)
    second = trip(run, KillLatch(T0 + 5, "kill-file", "kill_file"))
    assert first == second == LATCH == read_latch(run)


def test_arm_needs_the_right_token(tmp_path):
    run = run_dir_of(tmp_path)
    write_latch(run, LATCH)
    write_kill_file(run, "stop")

    assert arm(run, "000000" if LATCH.token != "000000" else "111111") is ArmResult.WRONG_TOKEN
    assert arm(run, "") is ArmResult.WRONG_TOKEN
    assert latch_present(run) and check_kill_file(run)

    assert arm(run, f" {LATCH.token.lower()}\n") is ArmResult.ARMED
    assert not latch_present(run) and not check_kill_file(run)
    assert arm(run, LATCH.token) is ArmResult.NOT_KILLED


def test_token_is_short_and_follows_the_latch_contents():
    assert len(LATCH.token) == 6 and LATCH.token == LATCH.token.upper()
    other = KillLatch(T0 + 1, LATCH.who, LATCH.reason, LATCH.detail)
    assert other.token != LATCH.token


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**62), st.text(max_size=40), st.text(max_size=20), st.text(max_size=200))
def test_any_latch_round_trips_with_the_same_token(ts_ms, who, reason, detail):
    import tempfile
    from pathlib import Path

    latch = KillLatch(ts_ms, who, reason, detail)
    with tempfile.TemporaryDirectory() as tmp:
        write_latch(Path(tmp), latch)
        back = read_latch(Path(tmp))
    assert back == latch and back.token == latch.token


def test_an_unreadable_latch_still_means_killed_and_can_be_armed(tmp_path):
    run = run_dir_of(tmp_path)
    run.mkdir()
    latch_path(run).write_text("{not json")

    found = read_latch(run)

    assert found is not None and "malformed" in found.detail
    assert arm(run, found.token) is ArmResult.ARMED
    assert read_latch(run) is None


def test_the_kill_file_trips_the_latch_and_is_kept(tmp_path):
    run = run_dir_of(tmp_path)
    assert not check_kill_file(run) and poll_kill_file(run, T0) is None

    run.mkdir()
    kill_file_path(run).touch()  # what `touch DATA_DIR/run/KILL` does
    latch = poll_kill_file(run, T0 + 100)

    assert check_kill_file(run)
    assert latch == KillLatch(T0 + 100, "kill-file", "kill_file", "")
    assert read_latch(run) == latch
    assert poll_kill_file(run, T0 + 200) == latch  # idempotent, first latch kept


def test_a_kill_file_without_latch_is_a_kill_that_arm_clears(tmp_path):
    run = run_dir_of(tmp_path)
    write_kill_file(run, "from cron")

    kill = current_kill(run)

    assert kill is not None and kill.reason == "kill_file"
    assert arm(run, kill.token) is ArmResult.ARMED
    assert current_kill(run) is None


def test_pid_file_helpers(tmp_path):
    run = run_dir_of(tmp_path)
    assert read_pid(run) is None
    run.mkdir()
    pid_path(run).write_text("garbage")
    assert read_pid(run) is None
    pid_path(run).write_text(f"{os.getpid()}\n")
    assert read_pid(run) == os.getpid() and pid_alive(os.getpid())
    assert not pid_alive(2**22 + 12345)  # above the default pid_max
