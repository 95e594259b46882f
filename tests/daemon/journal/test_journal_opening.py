"""Opening the journal at start: a missing, empty, corrupt or foreign journal is refused in
one line with a recovery hint (never a silent fresh 1 SOL account); ``--new-journal``
starts fresh on purpose and keeps the old file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rugsd.daemon.journal import (
    DatasetWriter,
    FillRecord,
    JournalOpenError,
    PositionSnapshot,
    TickRecord,
    open_journal,
)
from rugsd.daemon.journal.opening import MARKER_FILE
from rugsd.daemon.journal.recovery import restore

POSITION = PositionSnapshot("r1", 1, "g1", 3, 7 * 10**8, 0, 0, -3 * 10**8, 10**9, None, None,
                            None, None)


def _journal_with_history(data_dir: Path) -> Path:
    with open_journal(data_dir) as journal:
        journal.write(POSITION)
        for i in range(2000):  # enough pages that corruption lands in table data
            journal.write(TickRecord("r1", 1000 + i, "g1", i, 1.0 + i / 1000, "active"))
    return data_dir / "journal.sqlite"


def _refusal(data_dir: Path) -> str:
    with pytest.raises(JournalOpenError) as info:
        open_journal(data_dir)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_first_start_creates_the_journal_and_its_marker(tmp_path: Path) -> None:
    with open_journal(tmp_path) as journal:
        assert journal.opened.created
    assert (tmp_path / MARKER_FILE).is_file()
    assert not list(tmp_path.glob(".journal.sqlite.creating*"))  # built aside, renamed in


def test_deleted_journal_is_refused_instead_of_a_fresh_account(tmp_path: Path) -> None:
    db = _journal_with_history(tmp_path)
    db.unlink()
    db.with_name(db.name + "-wal").unlink(missing_ok=True)

    text = _refusal(tmp_path)

    assert "missing" in text and MARKER_FILE in text and "--new-journal" in text
    assert not db.exists()  # nothing was created in its place


def test_missing_journal_next_to_a_dataset_is_refused(tmp_path: Path) -> None:
    # a data dir from before the marker: its Parquet dataset shows it has run
    writer = DatasetWriter(tmp_path / "dataset", games_per_file=1)
    writer.write(TickRecord("r1", 1, "g1", 0, 1.0, "active"))
    writer.close()

    text = _refusal(tmp_path)

    assert "missing" in text and "dataset/ticks/part-" in text


def test_empty_journal_file_is_refused(tmp_path: Path) -> None:
    db = _journal_with_history(tmp_path)
    db.write_bytes(b"")

    text = _refusal(tmp_path)

    assert "empty" in text and "--new-journal" in text
    assert db.stat().st_size == 0  # not turned into a new database


def test_journal_without_tables_is_refused_as_empty(tmp_path: Path) -> None:
    (tmp_path / MARKER_FILE).write_text("x")
    sqlite3.connect(tmp_path / "journal.sqlite").execute("PRAGMA user_version = 0").close()
    conn = sqlite3.connect(tmp_path / "journal.sqlite")
    conn.execute("CREATE TABLE other (x)")  # an sqlite file, but not a journal
    conn.close()

    assert "empty" in _refusal(tmp_path)


def test_garbage_journal_is_refused_as_corrupt(tmp_path: Path) -> None:
    db = _journal_with_history(tmp_path)
    db.write_bytes(b"this is not a database" * 100)

    text = _refusal(tmp_path)

    assert "corrupt" in text and "backup" in text


def test_mid_file_corruption_is_found_at_start(tmp_path: Path) -> None:
    db = _journal_with_history(tmp_path)
    raw = bytearray(db.read_bytes())
    page = 4096
    assert len(raw) > 8 * page
    for p in range(2, len(raw) // page):  # scribble over every b-tree page header
        raw[p * page : p * page + 8] = b"\xff" * 8
    db.write_bytes(bytes(raw))

    text = _refusal(tmp_path)

    assert "corrupt" in text and ".recover" in text


def test_a_damaged_page_fails_the_quick_check(tmp_path: Path) -> None:
    db = _journal_with_history(tmp_path)
    raw = bytearray(db.read_bytes())
    raw[3 * 4096 + 3] ^= 0x07  # the cell count of one b-tree page: the file still opens
    db.write_bytes(bytes(raw))

    text = _refusal(tmp_path)

    assert "corrupt (quick_check: Page" in text


def test_journal_that_never_checkpointed_opens_from_its_wal(tmp_path: Path) -> None:
    db = _journal_with_history(tmp_path)
    # what a kill -9 of an old daemon before its first checkpoint leaves behind
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("INSERT INTO fills (run_id, ts_ms, game_id, tick, kind, price, qty, amount, "
                 "realised, balance_after) VALUES ('r1', 2, 'g1', 4, 'buy', 1.0, 1, 1, 0, 1)")
    wal = db.with_name(db.name + "-wal")
    assert wal.stat().st_size > 0
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "journal.sqlite").write_bytes(db.read_bytes())
    (copy / "journal.sqlite-wal").write_bytes(wal.read_bytes())
    conn.close()

    with open_journal(copy) as journal:
        fills = journal.records(FillRecord)

    assert len(fills) == 1


def test_new_journal_sets_the_old_one_aside_and_starts_fresh(tmp_path: Path) -> None:
    db = _journal_with_history(tmp_path)
    db.write_bytes(b"garbage" * 1000)

    with open_journal(tmp_path, new_journal=True) as journal:
        opened = journal.opened
        state = restore(journal, tmp_path / "run")

    assert opened.created and opened.new_journal
    assert opened.replaced is not None and opened.replaced.read_bytes() == b"garbage" * 1000
    assert opened.replaced.name.startswith("journal.replaced-")
    assert state.account is None  # a fresh account, as asked
    with open_journal(tmp_path) as again:  # and from then on it is the journal
        assert not again.opened.created


def test_new_journal_keeps_a_healthy_journal_too(tmp_path: Path) -> None:
    _journal_with_history(tmp_path)

    with open_journal(tmp_path, new_journal=True) as journal:
        replaced = journal.opened.replaced

    assert replaced is not None
    with open_journal(tmp_path, new_journal=False) as fresh:
        assert restore(fresh, tmp_path / "run").account is None
    kept = sqlite3.connect(replaced)
    assert kept.execute("SELECT balance FROM positions").fetchall() == [(7 * 10**8,)]
    kept.close()
