"""The Parquet dataset is exported from the journal into one file per kind and UTC day:
equal to the journal's rows, idempotent, incremental, rebuildable, safe with a damaged
file and with a concurrent writer."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from rugsd.daemon.cli_journal import add_parser
from rugsd.daemon.journal import (
    DatasetError,
    DecisionRecord,
    GameRecord,
    Journal,
    TickRecord,
    open_journal,
)
from rugsd.daemon.journal.dayfiles import (
    DAY_MS,
    DECISIONS,
    dataset_lock,
    day_label,
    read_day_file,
)
from rugsd.daemon.journal.export import DayExport, export_days

# 23:58 UTC: the session's games straddle midnight
NEAR_MIDNIGHT = 1_700_000_000_000 - 1_700_000_000_000 % DAY_MS + DAY_MS - 120_000


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rugsd")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def _parquet(root: Path, kind: str, cols: str, order: str) -> list[tuple]:
    files = sorted(str(f) for f in (root / kind).glob("*.parquet"))
    if not files:
        return []
    return duckdb.execute(f"SELECT {cols} FROM read_parquet(?) ORDER BY {order}",
                          [files]).fetchall()


@pytest.fixture
def journal_dir(tmp_path: Path, make_session) -> tuple[Path, object]:
    s = make_session(n_games=6, start_ts=NEAR_MIDNIGHT)
    with open_journal(tmp_path) as journal:
        journal.write_many(s.records)
    return tmp_path, s


def test_export_writes_the_journals_rows_as_one_file_per_day(journal_dir) -> None:
    data_dir, s = journal_dir
    with Journal(data_dir / "journal.sqlite") as journal:
        summary = export_days(journal.conn, data_dir / "dataset")
        ticks = journal.records(TickRecord)
        decisions = journal.records(DecisionRecord)

    root = data_dir / "dataset"
    days = {day_label(NEAR_MIDNIGHT), day_label(NEAR_MIDNIGHT + DAY_MS)}
    assert {f.name for f in (root / "ticks").glob("*.parquet")} == {f"day-{d}.parquet"
                                                                   for d in days}
    assert summary.files_written == {"ticks": 2, "decisions": 2, "games": 2}
    assert len(ticks) == s.ticks
    assert _parquet(root, "ticks", "*", "ts_ms, tick") == [
        (t.run_id, t.ts_ms, t.game_id, t.tick, t.price, t.phase) for t in ticks]
    exported = _parquet(root, "decisions", "seq, features, action_probs, p_rug, reason",
                        "seq")
    assert exported == [(d.seq, list(d.features), list(d.action_probs), d.p_rug, d.reason)
                        for d in decisions]
    games = _parquet(root, "games", "game_id, rug_tick, server_seed", "ended_ts_ms")
    assert games == [(g.game_id, g.rug_tick, g.server_seed) for g in s.games]


def test_exporting_again_changes_nothing_then_appends_late_rows(journal_dir) -> None:
    data_dir, s = journal_dir
    root = data_dir / "dataset"
    with Journal(data_dir / "journal.sqlite") as journal:
        export_days(journal.conn, root)
        first = {f: f.stat().st_mtime_ns for f in root.rglob("*.parquet")}
        again = export_days(journal.conn, root)
        unchanged = {f: f.stat().st_mtime_ns for f in root.rglob("*.parquet")} == first
        # a replay adds rows to a day that already has its file
        late = [TickRecord("replay-1", NEAR_MIDNIGHT + 1000 + i, "late-game", i, 2.0, "active")
                for i in range(7)]
        journal.write_many(late)
        journal.flush()
        more = export_days(journal.conn, root)

    assert again.files_written == {"ticks": 0, "decisions": 0, "games": 0}
    assert unchanged
    assert more.files_written["ticks"] == 1 and more.rows_written["ticks"] == 7
    assert len(_parquet(root, "ticks", "*", "ts_ms")) == s.ticks + 7  # appended, no duplicate


def test_a_deleted_dataset_is_rebuilt_identically(journal_dir) -> None:
    data_dir, _ = journal_dir
    root = data_dir / "dataset"
    with Journal(data_dir / "journal.sqlite") as journal:
        export_days(journal.conn, root)
        before = {k: _parquet(root, k, "*", "ALL") for k in ("ticks", "decisions", "games")}
        for f in root.rglob("*.parquet"):
            f.unlink()
        export_days(journal.conn, root)
    assert {k: _parquet(root, k, "*", "ALL") for k in before} == before


def test_a_revealed_seed_rewrites_that_days_games_file(tmp_path: Path) -> None:
    with open_journal(tmp_path) as journal:
        journal.write(GameRecord("r1", "g1", 40, 3.0, None, NEAR_MIDNIGHT))
        export_days(journal.conn, tmp_path / "dataset")
        journal.write(GameRecord("r1", "g1", 40, 3.0, "seed!", NEAR_MIDNIGHT + 10))
        summary = export_days(journal.conn, tmp_path / "dataset")
    assert summary.files_written["games"] == 1
    assert _parquet(tmp_path / "dataset", "games", "game_id, server_seed", "1") == [
        ("g1", "seed!")]


def test_an_unreadable_day_file_is_set_aside_and_exported_again(journal_dir) -> None:
    data_dir, s = journal_dir
    root = data_dir / "dataset"
    with Journal(data_dir / "journal.sqlite") as journal:
        export_days(journal.conn, root)
        bad = min((root / "ticks").glob("day-*.parquet"))
        bad.write_bytes(b"PAR1 broken")
        export_days(journal.conn, root)
    assert read_day_file(bad).rows > 0
    assert [p.name for p in (root / "ticks").glob(f"{bad.name}.unreadable-*")]
    assert len(_parquet(root, "ticks", "*", "ts_ms")) == s.ticks


def test_a_day_is_written_in_bounded_row_groups(journal_dir) -> None:
    data_dir, _ = journal_dir
    with Journal(data_dir / "journal.sqlite") as journal:
        job = DayExport(journal.conn, data_dir / "dataset", DECISIONS,
                        NEAR_MIDNIGHT - NEAR_MIDNIGHT % DAY_MS + DAY_MS, batch_rows=50)
        steps = 0
        total = journal.conn.execute(
            "SELECT COUNT(*) FROM decisions WHERE ts_ms >= ? AND ts_ms < ?",
            (job.day, job.day + DAY_MS)).fetchone()[0]
        while not job.step():
            steps += 1
            assert job.rows_written == total or not job.path.exists()  # whole, or absent
    meta = pq.ParquetFile(job.path).metadata
    assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) <= 50
    assert steps >= meta.num_rows // 50 - 1
    assert read_day_file(job.path).max_rowid == job.upto


def test_export_refuses_while_another_writer_holds_the_dataset(journal_dir) -> None:
    data_dir, _ = journal_dir
    with (Journal(data_dir / "journal.sqlite") as journal, dataset_lock(data_dir / "dataset"),
          pytest.raises(DatasetError, match="busy")):
        export_days(journal.conn, data_dir / "dataset", lock_timeout_s=0.2)


def test_export_cli_prints_a_summary_and_json(journal_dir, capsys) -> None:
    data_dir, s = journal_dir
    rc = _cli(["export", "--data-dir", str(data_dir), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["kinds"]["ticks"]["rows"] == s.ticks
    assert out["kinds"]["decisions"]["files_written"] == 2


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_export_cli_fails_in_one_line(tmp_path: Path, capsys, damage: str) -> None:
    if damage == "garbage":
        (tmp_path / "journal.sqlite").write_bytes(b"not sqlite at all" * 300)
    rc = _cli(["export", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.count("\n") == 1 and err.startswith("rugsd export: ")
    assert "Traceback" not in err
