"""``DatasetWriter`` (records straight to Parquet): files per N games, atomic writes,
readable by DuckDB. The daemon's own dataset is exported from the journal
(``test_journal_export.py``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rugsd.daemon.journal import (
    DatasetWriter,
    DecisionRecord,
    GameRecord,
    TickRecord,
)
from rugsd.daemon.journal.dataset import write_atomic
from rugsd.daemon.journal.records import features_bytes, features_from_bytes


def _files(root: Path, kind: str) -> list[Path]:
    return sorted((root / kind).glob("*.parquet"))


def _count(root: Path, kind: str, extra: str = "") -> int:
    glob = str(root / kind / "*.parquet")
    return duckdb.execute(f"SELECT COUNT(*) FROM read_parquet('{glob}') {extra}").fetchone()[0]


def test_session_is_written_one_file_set_per_n_games(tmp_path: Path, make_session) -> None:
    s = make_session(n_games=7)
    root = tmp_path / "dataset"
    writer = DatasetWriter(root, games_per_file=3)
    for rec in s.records:
        if isinstance(rec, TickRecord | DecisionRecord | GameRecord):
            writer.write(rec)
    after_games = len(_files(root, "ticks"))
    writer.close()

    assert after_games == 2  # 6 complete games -> 2 files; the 7th waits for close()
    assert len(_files(root, "ticks")) == 3
    assert len(_files(root, "decisions")) == 3
    assert len(_files(root, "games")) == 3
    assert _count(root, "ticks") == s.ticks
    assert _count(root, "decisions") == len(s.decisions)
    assert _count(root, "games") == 7
    per_file = [
        pq.read_table(f).column("game_id").unique().to_pylist() for f in _files(root, "ticks")
    ]
    assert [len(g) for g in per_file] == [3, 3, 1]
    assert not list(root.rglob("*.tmp"))  # atomic: no temp files left


def test_file_names_sort_by_time(tmp_path: Path, make_session) -> None:
    s = make_session(n_games=5)
    writer = DatasetWriter(tmp_path, games_per_file=1)
    for rec in s.records:
        if isinstance(rec, TickRecord | GameRecord):
            writer.write(rec)
    writer.close()
    names = [f.name for f in _files(tmp_path, "ticks")]
    firsts = [
        duckdb.execute(f"SELECT MIN(ts_ms) FROM read_parquet('{f}')").fetchone()[0]
        for f in _files(tmp_path, "ticks")
    ]
    assert len(names) == 5
    assert firsts == sorted(firsts)
    assert all(n.startswith("part-") and n.endswith(f"-{s.run_id}.parquet") for n in names)


def test_decision_columns_round_trip_features_and_probabilities(tmp_path: Path) -> None:
    feats = (0.1, 2.0, -3.5)
    rows = [
        DecisionRecord("r", 0, 10, "g", 0, "active", 1.0, "h", feats, (0.25, 0.75), 0.1,
                       "buy", 10**6, 0, "order", "", "o1", "active"),
        DecisionRecord("r", 1, 11, "g", 1, "active", 1.1, "h", features_bytes(feats), None,
                       None, "wait", 0, 0, "none", "", None, "active"),
        DecisionRecord("r", 2, 12, "g", 2, "active", 1.2, "h", None, None, None, "sell", 0,
                       50, "refused", "no_position", None, "reducing"),
    ]  # fmt: skip
    writer = DatasetWriter(tmp_path, games_per_file=1)
    for r in rows:
        writer.write(r)
    writer.close()
    got = duckdb.execute(
        f"SELECT seq, features, action_probs, p_rug, reason, order_id FROM "
        f"read_parquet('{tmp_path}/decisions/*.parquet') ORDER BY seq"
    ).fetchall()
    f32 = list(features_from_bytes(features_bytes(feats)))
    assert got == [
        (0, f32, [0.25, 0.75], 0.1, "", "o1"),
        (1, f32, None, None, "", None),
        (2, None, None, None, "no_position", None),
    ]


def test_games_without_a_game_record_still_roll_into_files(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, games_per_file=2)
    for g in range(5):  # a feed that never reports game ends
        for t in range(4):
            writer.write(TickRecord("r", g * 100 + t, f"g{g}", t, 1.0, "active"))
    before_close = _count(tmp_path, "ticks") if _files(tmp_path, "ticks") else 0
    writer.close()
    assert before_close > 0
    assert _count(tmp_path, "ticks") == 20
    assert _count(tmp_path, "ticks", "WHERE game_id = 'g4'") == 4


def test_writer_counts_bad_records_instead_of_failing(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, games_per_file=1)
    writer.write(object())  # type: ignore[arg-type]
    writer.close()
    assert writer.counters["bad_records"] == 1
    assert _files(tmp_path, "ticks") == []


def test_keep_features_false_leaves_the_column_null(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, games_per_file=1, keep_features=False)
    writer.write(DecisionRecord("r", 0, 1, "g", 0, "active", 1.0, "h", (1.0,), None, None,
                                "wait", 0, 0, "none", "", None, "active"))  # fmt: skip
    writer.close()
    q = f"SELECT features, features_hash FROM read_parquet('{tmp_path}/decisions/*.parquet')"
    assert duckdb.execute(q).fetchall() == [(None, "h")]


def test_failed_atomic_write_leaves_neither_temp_nor_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "part-1-r.parquet"
    target.mkdir()  # rename onto a non-empty directory fails after the data was written
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        write_atomic(pa.table({"a": [1, 2, 3]}), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part-1-r.parquet"]
    assert target.is_dir()


def test_two_runs_replaying_the_same_games_keep_separate_rows(tmp_path: Path, make_session) -> None:
    a = make_session(run_id="run-a", n_games=2)
    b = make_session(run_id="run-b", n_games=2)  # same seed: same game ids
    writer = DatasetWriter(tmp_path, games_per_file=10)
    for rec in [*a.records, *b.records]:
        if isinstance(rec, TickRecord | GameRecord):
            writer.write(rec)
    writer.close()
    games = duckdb.execute(
        f"SELECT run_id, COUNT(*) FROM read_parquet('{tmp_path}/games/*.parquet') "
        "GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert games == [("run-a", 2), ("run-b", 2)]
    assert _count(tmp_path, "ticks") == a.ticks + b.ticks


def test_numpy_features_and_probabilities_reach_parquet(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, games_per_file=1)
    writer.write(DecisionRecord("r", 0, 1, "g", 0, "active", np.float64(1.5), "h",
                                np.array([1.0, 2.0], dtype=np.float32),
                                np.array([0.5, 0.5]), np.float32(0.25), "wait", 0, 0, "none",
                                "", None, "active"))  # fmt: skip
    writer.close()
    q = f"SELECT price, features, action_probs, p_rug FROM read_parquet('{tmp_path}/decisions/*')"
    assert duckdb.execute(q).fetchall() == [(1.5, [1.0, 2.0], [0.5, 0.5], 0.25)]
