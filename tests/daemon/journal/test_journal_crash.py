"""Crash safety: a writer killed with SIGKILL loses nothing that was committed.

A real child process writes a simulated session into the journal, then the tail of a
crash (a fill without its position snapshot, an order intent without a fill, a kill
event, decisions and ticks still pending in the batch), announces it is done and
blocks; the test kills it with ``kill -9`` and restores from a fresh ``Journal``.
"""

from __future__ import annotations

import importlib.util
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from rugsd.daemon.journal import DecisionRecord, Journal, KillEvent, OrderRecord, TickRecord
from rugsd.daemon.journal.recovery import mark_open_orders_unknown, restore

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

CHILD = r"""
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("journal_fixtures", sys.argv[1])
fx = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = fx
spec.loader.exec_module(fx)
from rugsd.daemon.journal import Journal, KillEvent, OrderRecord
from rugsd.daemon.journal.records import DecisionRecord, TickRecord

s = fx.simulate(n_games=5)
records, _, _ = fx.crash_tail(s)
journal = Journal(sys.argv[2], batch_size=100_000, flush_interval_ms=10**12)
journal.write_many(s.records)
for rec in records:
    if isinstance(rec, OrderRecord):
        assert journal.record_order_intent(rec)
    else:
        journal.write(rec)
journal.write(KillEvent(s.run_id, records[-1].ts_ms + 1, "signal", "SIGTERM"))
last = s.decisions[-1]
for i in range(3):  # pending in the batch: lost with the process, by design
    journal.write(DecisionRecord(s.run_id, 10_000 + i, last.ts_ms + 99_000, last.game_id, 0,
                                 "active", 1.0, "h", None, None, None, "wait", 0, 0, "none", "",
                                 None, "active"))
    journal.write(TickRecord(s.run_id, last.ts_ms + 99_000 + i, "unfinished", i, 1.0, "active"))
print("ready", flush=True)
time.sleep(120)
"""


def _run_and_kill(db: Path) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(HERE / "conftest.py"), str(db)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout=60)
        line = proc.stdout.readline() if ready else ""
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"child not ready: {line!r}\n{err}")
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _fixtures():
    """The fixture module the child uses (loaded by path: conftest is not importable)."""
    spec = importlib.util.spec_from_file_location("journal_fixtures", HERE / "conftest.py")
    fx = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = fx
    spec.loader.exec_module(fx)
    return fx


def test_sigkilled_writer_restores_latest_account_and_open_order(tmp_path) -> None:
    # Arrange: what the child writes, computed here in this process
    fx = _fixtures()
    s = fx.simulate(n_games=5)
    _, expected_account, open_order = fx.crash_tail(s)
    db = tmp_path / "journal.sqlite"

    # Act
    rc = _run_and_kill(db)
    journal = Journal(db)
    state = restore(journal, tmp_path / "run")

    # Assert
    assert rc == -signal.SIGKILL
    assert state.account == expected_account
    assert state.fills_rolled_forward == 1 and state.consistent
    assert state.open_orders == [open_order]
    assert state.kill_latched
    assert state.last_run_id == s.run_id

    def key(d: DecisionRecord) -> tuple:
        return (d.seq, d.ts_ms, d.game_id, d.intent_action, d.verdict, d.reason, d.order_id)

    # every decision committed with a later immediate write survived; the 3 still
    # pending in the batch died with the process (the documented bound)
    assert [key(d) for d in journal.records(DecisionRecord)] == [key(d) for d in s.decisions]
    assert journal.records(KillEvent)[0].source == "signal"
    journal.close()


def test_recovered_open_orders_are_never_resent_and_can_be_marked_unknown(tmp_path) -> None:
    db = tmp_path / "journal.sqlite"
    _run_and_kill(db)
    with Journal(db) as journal:
        state = restore(journal, tmp_path / "run")
        resend = journal.record_order_intent(state.open_orders[0])
        marked = mark_open_orders_unknown(journal, state, ts_ms=1)
        again = restore(journal, tmp_path / "run")
        statuses = {o.order_id: o.status for o in journal.records(OrderRecord)}
    assert resend is False
    assert marked == 1
    assert again.open_orders == []
    assert statuses["tail-o2"] == "unknown"
    assert statuses["tail-o1"] == "sent"  # filled but never marked: not open (has a fill)


def test_sigkilled_writer_keeps_every_tick_of_every_ended_game(tmp_path) -> None:
    fx = _fixtures()
    s = fx.simulate(n_games=5)
    expected = Counter(r.game_id for r in s.records if isinstance(r, TickRecord))
    db = tmp_path / "journal.sqlite"

    _run_and_kill(db)
    conn = sqlite3.connect(db)
    try:
        got = Counter(dict(conn.execute("SELECT game_id, COUNT(*) FROM ticks GROUP BY 1")))
    finally:
        conn.close()

    # the batch was never full: only game ends and immediate writes committed it, and
    # each ended game's ticks went with its GameRecord; the unfinished game's three
    # ticks were still pending (the documented bound: one batch)
    assert got == expected
    assert "unfinished" not in got
