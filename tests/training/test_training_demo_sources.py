"""Where demonstrations come from: a tick file that cannot be read is skipped with one
log line and a counter; the readable ones still give their games' price paths."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from structlog.testing import capture_logs

from rugsd.training.demo_sources import load_paths


def _ticks(path: Path, game: str, n: int) -> Path:
    rows = {"run_id": ["run-1"] * (n + 1), "game_id": [game] * (n + 1),
            "tick": list(range(n + 1)), "price": [1.0 + t / 100 for t in range(n)] + [0.01],
            "phase": ["active"] * n + ["rugged"], "ts_ms": [1000 + 250 * t for t in range(n + 1)]}
    pq.write_table(pa.table(rows), path)
    return path


def test_an_unreadable_tick_file_is_skipped_counted_and_logged_once(tmp_path: Path) -> None:
    # Arrange: one good file, one truncated, one that is not Parquet at all
    good = _ticks(tmp_path / "a.parquet", "g-good", 5)
    truncated = tmp_path / "b.parquet"
    truncated.write_bytes(_ticks(tmp_path / "full.parquet", "g-cut", 5).read_bytes()[:40])
    junk = tmp_path / "c.parquet"
    junk.write_text("not parquet\n")
    stats: Counter = Counter()
    # Act
    with capture_logs() as logs:
        paths, watched = load_paths([good, truncated, junk], stats=stats)
    # Assert: the good file's game is complete; the bad ones are counted, one line each
    assert sorted(paths) == ["g-good"] and paths["g-good"].complete
    assert watched == {("run-1", "g-good"): (0, 4)}
    assert stats["unreadable_tick_files"] == 2
    lines = [e for e in logs if e["event"] == "demo_tick_file_unreadable"]
    assert [e["path"] for e in lines] == [str(truncated), str(junk)]
    assert all("\n" not in e["error"] for e in lines)
