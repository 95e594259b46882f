"""Ticks are journaled in sqlite at the decisions' cadence, and every write either commits
or raises ``JournalWriteError`` — disk full keeps the batch, a record sqlite cannot
store is dropped alone and never blocks the kill event behind it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from rugsd.daemon.journal import (
    DecisionRecord,
    GameRecord,
    Journal,
    JournalWriteError,
    KillEvent,
    OrderRecord,
    TickRecord,
)


def _tick(i: int, game: str = "g1") -> TickRecord:
    return TickRecord("r1", 1000 + 250 * i, game, i, 1.0 + i / 100, "active")


def _decision(i: int, intent_amount: int = 0) -> DecisionRecord:
    return DecisionRecord("r1", i, 1000 + 250 * i, "g1", i, "active", 1.0, "h", None, None,
                          None, "wait", intent_amount, 0, "none", "", None, "active")


def _on_disk(db: Path, table: str) -> int:
    """Rows another process would see (a separate connection)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_ticks_commit_with_the_decisions_batch(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    now = [0.0]
    with Journal(db, batch_size=1000, flush_interval_ms=1000, clock=lambda: now[0]) as journal:
        for i in range(3):
            journal.write(_tick(i))
            journal.write(_decision(i))
        pending = (_on_disk(db, "ticks"), _on_disk(db, "decisions"))
        now[0] = 1.0  # the batch is one second old: the next record commits it
        journal.write(_tick(3))
        committed = (_on_disk(db, "ticks"), _on_disk(db, "decisions"))
        assert journal.records(TickRecord) == [_tick(i) for i in range(4)]
    assert pending == (0, 0)
    assert committed == (4, 3)


def test_the_timer_commits_a_batch_when_the_feed_goes_silent(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    now = [0.0]
    with Journal(db, flush_interval_ms=1000, clock=lambda: now[0]) as journal:
        journal.write(_tick(0))
        journal.flush_due()
        early = _on_disk(db, "ticks")
        now[0] = 1.5  # no record arrives; only the daemon's 100 ms timer runs
        journal.flush_due()
        late = _on_disk(db, "ticks")
    assert (early, late) == (0, 1)


def test_a_game_end_commits_all_of_its_ticks(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    with Journal(db, batch_size=10**6, flush_interval_ms=10**9) as journal:
        journal.write_many(_tick(i) for i in range(40))
        journal.write(TickRecord("r1", 20_000, "g1", 40, 0.01, "rugged"))
        journal.write(GameRecord("r1", "g1", 40, 1.4, None, 20_000))
        on_disk = _on_disk(db, "ticks")
    assert on_disk == 41


def test_disk_full_raises_and_keeps_the_batch_for_the_next_attempt(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    with Journal(db, batch_size=10**6, flush_interval_ms=10**9) as journal:
        journal.write(_tick(0))
        journal.flush()
        pages = journal.conn.execute("PRAGMA page_count").fetchone()[0]
        journal.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
        journal.write_many(_tick(i) for i in range(1, 3000))
        with pytest.raises(JournalWriteError, match="full"):
            journal.flush()
        with pytest.raises(JournalWriteError):  # an order is refused: it must not be sent
            journal.record_order_intent(OrderRecord("o1", "r1", 1, "g1", 1, "buy", 1, 0,
                                                    "sent", ""))
        errors = journal.counters["write_errors"]
        journal.conn.execute("PRAGMA max_page_count = 1073741823")  # space again
        journal.flush()
        ticks = journal.count("ticks")
    assert errors == 2
    assert ticks == 3000  # nothing lost while the disk was full


def test_a_value_sqlite_cannot_store_never_blocks_the_kill_event_behind_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "j.sqlite"
    with Journal(db, batch_size=10**6, flush_interval_ms=10**9) as journal:
        journal.write(_decision(0))
        journal.write(_decision(1, intent_amount=10**30))  # beyond sqlite's 64-bit integers
        journal.write(_decision(2))
        with pytest.raises(JournalWriteError, match="could not be journaled"):
            journal.write(KillEvent("r1", 5, "auto", "journal write failed"))
        journal.write(KillEvent("r1", 6, "auto", "journal write failed"))  # the retry lands
        seqs = [d.seq for d in journal.records(DecisionRecord)]
        kills = journal.records(KillEvent)
        bad = journal.counters["bad_records"]
    assert seqs == [0, 2]
    assert [k.ts_ms for k in kills] == [6]
    assert bad == 1


def test_writing_to_a_closed_journal_raises_the_journal_error(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    journal.close()
    with pytest.raises(JournalWriteError, match="closed"):
        journal.write(KillEvent("r1", 1, "cli", "x"))


def test_a_full_disk_logs_one_line_per_outage_and_counts_every_failed_flush(
    tmp_path: Path,
) -> None:
    # Arrange: a full disk under a journal whose batch is due on every tick (as live)
    db = tmp_path / "j.sqlite"
    now = [0.0]
    with Journal(db, batch_size=10**6, flush_interval_ms=1000, clock=lambda: now[0]) as journal:
        journal.write(_tick(0))
        journal.flush()
        pages = journal.conn.execute("PRAGMA page_count").fetchone()[0]
        journal.conn.execute(f"PRAGMA max_page_count = {pages}")
        journal.write_many(_tick(i) for i in range(1, 3000))  # pending: more than fits
        with capture_logs() as logs:
            # Act: 20 ticks while the disk stays full, then space again, then a new outage
            now[0] = 10.0  # the batch is due: every tick tries to flush it
            for i in range(3000, 3020):
                with pytest.raises(JournalWriteError):
                    journal.write(_tick(i))
            during = journal.counters.copy()
            journal.conn.execute("PRAGMA max_page_count = 1073741823")
            journal.write(_tick(3020))
            pages = journal.conn.execute("PRAGMA page_count").fetchone()[0]
            journal.conn.execute(f"PRAGMA max_page_count = {pages}")
            journal.write_many(_tick(i) for i in range(3021, 6000))
            now[0] = 20.0
            for i in range(6000, 6005):
                with pytest.raises(JournalWriteError):
                    journal.write(_tick(i))
        after = journal.counters.copy()
        journal.conn.execute("PRAGMA max_page_count = 1073741823")
    # Assert: one error line per outage, one line when it ends; every failure counted
    events = [(e["event"], e.get("failed_flushes")) for e in logs
              if e["event"].startswith("journal_batch_write")]
    assert events == [("journal_batch_write_failed", None),
                      ("journal_batch_write_recovered", 20),
                      ("journal_batch_write_failed", None)]
    assert during["write_errors"] == 20 and during["batch_write_outages"] == 1
    assert after["write_errors"] == 25 and after["batch_write_outages"] == 2
