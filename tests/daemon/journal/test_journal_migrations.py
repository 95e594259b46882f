"""Schema versions: today's unversioned journals migrate cleanly to exactly the schema of
a new journal, keep every row, and a journal from a newer rugsd is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rugsd.daemon.journal import (
    DecisionRecord,
    FillRecord,
    Journal,
    JournalOpenError,
    KillEvent,
    TickRecord,
    migrations,
    open_journal,
)
from rugsd.daemon.journal.migrations import SCHEMA_VERSION
from rugsd.daemon.journal.recovery import restore

V1_DUMP = Path(__file__).parent / "data" / "journal_v1.sql"


def _v1_journal(path: Path) -> Path:
    """A journal as rugsd wrote it before versioning (dump made by that code)."""
    conn = sqlite3.connect(path)
    conn.executescript(V1_DUMP.read_text())
    conn.close()
    return path


def _schema(path: Path) -> dict[str, object]:
    """Tables (columns, types, not-null, pk), indexes and strictness, comparable."""
    conn = sqlite3.connect(path)
    try:
        out: dict[str, object] = {}
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
        for name, sql in tables:
            cols = conn.execute(f"PRAGMA table_info({name})").fetchall()
            out[name] = ([(c[1], c[2], c[3], c[5]) for c in cols], sql.rstrip().endswith("STRICT"))
        out["indexes"] = sorted(conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'").fetchall())
        return out
    finally:
        conn.close()


def _rows(path: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        conn.close()


def test_v1_journal_fixture_is_unversioned_and_has_no_ticks(tmp_path: Path) -> None:
    db = _v1_journal(tmp_path / "journal.sqlite")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert migrations.version_of(conn) == 1
    assert "ticks" not in migrations.tables_of(conn)
    conn.close()


def test_todays_journal_migrates_to_the_schema_of_a_new_one(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    old = _v1_journal(tmp_path / "old" / "journal.sqlite")
    before = {t: _rows(old, t) for t in ("runs", "decisions", "fills", "positions", "orders",
                                         "games", "risk_events", "kill_events",
                                         "operator_commands")}
    with open_journal(old.parent) as journal:
        opened = journal.opened
    Journal(tmp_path / "new.sqlite").close()

    assert (opened.schema_from, opened.schema_version) == (1, SCHEMA_VERSION)
    assert _schema(old) == _schema(tmp_path / "new.sqlite")
    assert {t: _rows(old, t) for t in before} == before  # every row kept, unchanged
    conn = sqlite3.connect(old)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_migrated_journal_restores_the_same_account_and_takes_ticks(tmp_path: Path) -> None:
    db = _v1_journal(tmp_path / "journal.sqlite")
    # what recovery made of the old journal, read without migrating it
    legacy = sqlite3.connect(db)
    fills = legacy.execute("SELECT balance_after FROM fills ORDER BY id DESC LIMIT 1").fetchone()
    legacy.close()

    with open_journal(tmp_path) as journal:
        state = restore(journal, tmp_path / "run")
        journal.write(TickRecord(state.last_run_id, 1, "g-new", 0, 1.0, "active"))
        journal.flush()
        ticks = journal.records(TickRecord)
        n_decisions = len(journal.records(DecisionRecord))

    assert state.account is not None and state.account.balance == fills[0]
    assert state.kill_latched  # the fixture's kill event outlived the migration
    assert ticks == [TickRecord("run-a", 1, "g-new", 0, 1.0, "active")]
    assert n_decisions == 116


def test_migrating_twice_is_a_no_op(tmp_path: Path) -> None:
    _v1_journal(tmp_path / "journal.sqlite")
    open_journal(tmp_path).close()
    with open_journal(tmp_path) as journal:
        assert (journal.opened.schema_from, journal.schema_version) == (SCHEMA_VERSION,) * 2


def test_a_failed_migration_leaves_the_old_version_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _v1_journal(tmp_path / "journal.sqlite")

    def broken(conn: sqlite3.Connection) -> None:
        migrations._v1_to_v2(conn)  # the DDL runs, then the step fails
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(migrations._STEPS, 1, broken)
    with pytest.raises(JournalOpenError):
        Journal(db)

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert "ticks" not in migrations.tables_of(conn)  # rolled back with the step
    conn.close()


def test_a_journal_from_a_newer_rugsd_is_refused_in_one_line(tmp_path: Path) -> None:
    Journal(tmp_path / "journal.sqlite").close()
    conn = sqlite3.connect(tmp_path / "journal.sqlite")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with pytest.raises(JournalOpenError) as info:
        open_journal(tmp_path)

    assert "newer" in str(info.value) and "\n" not in str(info.value)


def test_new_journal_uses_incremental_auto_vacuum(tmp_path: Path) -> None:
    with open_journal(tmp_path) as journal:
        mode = journal.conn.execute("PRAGMA auto_vacuum").fetchone()[0]
        journal.write(FillRecord(None, "r", 1, "g", 0, "buy", 1.0, 1, 1, 0, 1))
    assert mode == 2  # INCREMENTAL


def test_a_table_or_index_the_specs_add_is_created_without_a_step(tmp_path: Path) -> None:
    # what a merge that adds a table (and no migration step) meets in existing journals
    Journal(tmp_path / "journal.sqlite").close()
    conn = sqlite3.connect(tmp_path / "journal.sqlite")
    conn.execute("DROP TABLE kill_events")
    conn.execute("DROP INDEX idx_ticks_ts_ms")
    conn.close()

    with open_journal(tmp_path) as journal:
        journal.write(KillEvent("r1", 1, "cli", "after the drop"))

    assert _schema(tmp_path / "journal.sqlite") == _schema(_fresh(tmp_path))


def _fresh(tmp_path: Path) -> Path:
    path = tmp_path / "fresh.sqlite"
    Journal(path).close()
    return path
