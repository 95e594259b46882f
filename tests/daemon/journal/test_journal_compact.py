"""Retention: decisions and ticks past ``retention_days`` move to Parquet day files and
leave sqlite, in bounded resumable steps; reports, recovery and training see exactly
the same data afterwards; a crash at any step loses and duplicates nothing."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
from pathlib import Path

import duckdb
import pytest

from rugsd.daemon.cli_journal import add_parser
from rugsd.daemon.journal import Journal, KillEvent, TickRecord, open_journal
from rugsd.daemon.journal.compact import Compactor, cutoff_ms, reclaim
from rugsd.daemon.journal.dayfiles import DAY_MS
from rugsd.daemon.journal.export import export_days
from rugsd.daemon.journal.recovery import restore
from rugsd.daemon.journal.report import build_report
from rugsd.training.dataset import games_from_dataset

NOW = 1_763_000_000_000 - 1_763_000_000_000 % DAY_MS + DAY_MS // 2  # noon UTC
AGES = (12, 9, 8, 3, 0)  # days before NOW of each run
KEPT_TABLES = ("runs", "orders", "fills", "positions", "games", "kill_events")


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rugsd")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def history(tmp_path: Path, make_session) -> Path:
    """A data dir with five runs spread over twelve days."""
    with open_journal(tmp_path) as journal:
        for i, age in enumerate(AGES):
            s = make_session(run_id=f"run-{age}d", seed=20 + i, n_games=4,
                             start_ts=NOW - age * DAY_MS - 3_600_000)
            journal.write_many(s.records)
        journal.write(KillEvent("run-9d", NOW - 9 * DAY_MS, "cli", "old kill"))
    return tmp_path


def _rows(db: Path, table: str, where: str = "1=1") -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY rowid").fetchall()
    finally:
        conn.close()


def _parquet(root: Path, kind: str) -> list[tuple]:
    files = [str(f) for f in (root / kind).glob("*.parquet")]
    if not files:
        return []
    return duckdb.execute("SELECT * FROM read_parquet(?) ORDER BY ALL", [files]).fetchall()


def _no_dataset_figures(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("dataset", "warnings")}


def test_days_past_retention_leave_sqlite_for_day_files(history: Path) -> None:
    db = history / "journal.sqlite"
    ticks_before = _rows(db, "ticks")
    kept_before = {t: _rows(db, t) for t in KEPT_TABLES}
    cutoff = cutoff_ms(NOW, 7)

    with Journal(db) as journal:
        stats = Compactor(journal, history / "dataset", retention_days=7).run_all(NOW)

    assert stats.days_archived == 3  # 12, 9 and 8 days ago: exported and pruned
    assert stats.days_exported == 1  # 3 days ago: closed, exported, kept in sqlite
    assert _rows(db, "ticks", f"ts_ms < {cutoff}") == []
    assert _rows(db, "decisions", f"ts_ms < {cutoff}") == []
    assert _rows(db, "ticks") == [t for t in ticks_before if t[1] >= cutoff]
    assert {t: _rows(db, t) for t in KEPT_TABLES} == kept_before  # recovery's tables
    closed = sorted(t for t in ticks_before if t[1] < NOW - NOW % DAY_MS)  # not today's
    assert _parquet(history / "dataset", "ticks") == closed
    assert len({f.name for f in (history / "dataset" / "ticks").glob("day-*.parquet")}) == 4


def test_report_recovery_and_training_see_the_same_data_after_compaction(
    history: Path,
) -> None:
    db = history / "journal.sqlite"
    with Journal(db) as journal:
        export_days(journal.conn, history / "dataset")  # training reads the export
        state = restore(journal, history / "run", now_ms=NOW)
    reports = {since: build_report(history, since) for since in
               (None, NOW - 10 * DAY_MS, NOW - 5 * DAY_MS, NOW - DAY_MS)}
    games = games_from_dataset(history)

    with Journal(db) as journal:
        before = journal.count("decisions")
        Compactor(journal, history / "dataset", retention_days=2).run_all(NOW)
        after_state = restore(journal, history / "run", now_ms=NOW)
        assert journal.count("decisions") < before / 2  # most of them left sqlite

    assert after_state == state
    for since, before in reports.items():
        after = build_report(history, since)
        assert _no_dataset_figures(after) == _no_dataset_figures(before), since
        assert after["dataset"]["ticks"]["rows"] == before["dataset"]["ticks"]["rows"]
    assert [g.game_id for g in games_from_dataset(history)] == [g.game_id for g in games]


def test_bounded_calls_resume_and_end_where_one_full_run_ends(
    history: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    twin = tmp_path_factory.mktemp("twin")
    (twin / "journal.sqlite").write_bytes((history / "journal.sqlite").read_bytes())
    calls = 0
    with Journal(history / "journal.sqlite") as journal:
        compactor = Compactor(journal, history / "dataset", retention_days=7, batch_rows=100)
        pruned_each = []
        while not compactor.run(budget_ms=0.001, now_ms=NOW):  # one step per call
            pruned_each.append(compactor.stats.rows_pruned)
            calls += 1
            assert calls < 20_000
    with Journal(twin / "journal.sqlite") as journal:
        Compactor(journal, twin / "dataset", retention_days=7).run_all(NOW)

    steps = [b - a for a, b in zip([0, *pruned_each], pruned_each, strict=False)]
    assert calls > 20 and max(steps) <= 100  # never more than batch_rows per call
    for table in ("ticks", "decisions"):
        assert _rows(history / "journal.sqlite", table) == _rows(twin / "journal.sqlite", table)
    for kind in ("ticks", "decisions", "games"):
        assert _parquet(history / "dataset", kind) == _parquet(twin / "dataset", kind)


def test_a_crash_after_the_export_loses_and_duplicates_nothing(history: Path) -> None:
    db = history / "journal.sqlite"
    closed = sorted(t for t in _rows(db, "ticks") if t[1] < NOW - NOW % DAY_MS)
    with Journal(db) as journal:
        crashed = Compactor(journal, history / "dataset", retention_days=7, batch_rows=50)
        # run until the first day file is published and its pruning has begun...
        while crashed.stats.rows_pruned == 0:
            crashed.run(budget_ms=0.001, now_ms=NOW)
        # ...then the process dies (its in-memory state is gone); a new one carries on
        Compactor(journal, history / "dataset", retention_days=7).run_all(NOW)

    assert _parquet(history / "dataset", "ticks") == closed


def test_the_newest_row_is_kept_so_rowids_never_repeat(tmp_path: Path, make_session) -> None:
    s = make_session(n_games=2, start_ts=NOW - 20 * DAY_MS)  # daemon stopped for weeks
    with open_journal(tmp_path) as journal:
        journal.write_many(s.records)
        Compactor(journal, tmp_path / "dataset", retention_days=7).run_all(NOW)
        left = journal.conn.execute("SELECT COUNT(*), MAX(rowid) FROM ticks").fetchone()
        journal.write(TickRecord("late", NOW - 20 * DAY_MS + 5, "g-late", 0, 1.0, "active"))
        journal.flush()
        new_rowid = journal.conn.execute("SELECT MAX(rowid) FROM ticks").fetchone()[0]
        journal.write(TickRecord("now", NOW, "g-now", 0, 1.0, "active"))
        Compactor(journal, tmp_path / "dataset", retention_days=7).run_all(NOW)

    assert left == (1, s.ticks)  # only the newest row stayed
    assert new_rowid == s.ticks + 1  # above every archived rowid
    exported = _parquet(tmp_path / "dataset", "ticks")
    assert len(exported) == s.ticks + 1 and len(set(exported)) == len(exported)


def test_reclaim_hands_freed_pages_back(history: Path) -> None:
    db = history / "journal.sqlite"
    with Journal(db) as journal:
        Compactor(journal, history / "dataset", retention_days=1).run_all(NOW)
        journal.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = db.stat().st_size
        free = journal.conn.execute("PRAGMA freelist_count").fetchone()[0]
        done = reclaim(journal)
        after_free = journal.conn.execute("PRAGMA freelist_count").fetchone()[0]
    assert free > 0 and after_free == 0
    assert done.startswith("incremental_vacuum")
    assert db.stat().st_size < before


def test_a_failure_is_counted_and_backs_off_never_raised(history: Path) -> None:
    (history / "dataset").write_text("not a folder")
    with Journal(history / "journal.sqlite") as journal:
        compactor = Compactor(journal, history / "dataset", retention_days=7)
        first = compactor.run(budget_ms=50, now_ms=NOW)
        second = compactor.run(budget_ms=50, now_ms=NOW)
        count = journal.count("ticks")
    assert (first, second) == (False, False)
    assert compactor.stats.errors == 1 and compactor.stats.calls == 1  # second call skipped
    assert count == len(_rows(history / "journal.sqlite", "ticks"))  # nothing pruned


def test_compact_cli_reports_sizes_and_refuses_a_running_daemon(history: Path, capsys) -> None:
    conn = sqlite3.connect(history / "journal.sqlite")
    conn.execute("UPDATE ticks SET ts_ms = ts_ms - 400 * 86400000")  # make them old
    conn.commit()
    conn.close()
    run_dir = history / "run"
    run_dir.mkdir()
    (run_dir / "rugsd.pid").write_text(f"{os.getpid()}\n")  # a live process
    refused = _cli(["compact", "--data-dir", str(history)])
    err = capsys.readouterr().err
    (run_dir / "rugsd.pid").unlink()

    rc = _cli(["compact", "--data-dir", str(history), "--json"])
    out = json.loads(capsys.readouterr().out)

    assert refused == 1 and "stop it" in err and err.count("\n") == 1
    assert rc == 0
    assert out["rows_pruned"] > 0 and out["journal_bytes_after"] < out["journal_bytes_before"]


def test_compact_cli_refuses_a_corrupt_journal_in_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "journal.sqlite").write_bytes(b"\x00garbage" * 500)
    rc = _cli(["compact", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("rugsd compact: journal") and "corrupt" in err
    assert err.count("\n") == 1
