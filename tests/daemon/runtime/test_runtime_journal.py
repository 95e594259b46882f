"""The journal of a real ``rugsd run --paper`` process: ``kill -9`` keeps every finished
game's ticks; a missing, empty or corrupt journal stops the start in one line;
``--new-journal`` starts fresh on purpose and journals it; days past the retention
window are compacted between games while the daemon trades."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from daemon_proc import BASE_ENV, PYTHON, DaemonProc, clean_env, query, wait_for

from rugsd.daemon.journal import DecisionRecord, TickRecord, open_journal
from rugsd.daemon.journal.dayfiles import DAY_MS


class FlaggedDaemon(DaemonProc):
    """``rugsd run --paper`` with extra command-line flags."""

    def __init__(self, *args, flags: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flags = flags

    def start(self) -> DaemonProc:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "rugsd.daemon.cli", "run", "--paper", "--data-dir",
             str(self.data_dir), *self.flags],
            stdout=self._log, stderr=subprocess.STDOUT, env=clean_env(self.env),
            start_new_session=True)
        return self


def _finished_games(d: DaemonProc) -> list[tuple[str, int]]:
    return d.query("SELECT game_id, MAX(rug_tick) FROM games GROUP BY game_id")


def test_kill9_keeps_the_ticks_of_every_finished_game(daemons: Callable[..., DaemonProc]) -> None:
    d = daemons(env={"RUGSD_STRATEGY__NAME": "never",
                     "RUGSD_JOURNAL__DECISION_FLUSH_INTERVAL_MS": "1000"})
    d.wait_ready()
    wait_for(lambda: len(_finished_games(d)) >= 4, 60, "four finished games", d.alive)

    d.kill9()

    games = _finished_games(d)
    first_seen = d.query("SELECT game_id FROM ticks ORDER BY rowid LIMIT 1")[0][0]
    assert len(games) >= 4
    for game_id, rug_tick in games:
        rows = d.query("SELECT tick, phase FROM ticks WHERE game_id = ? ORDER BY tick",
                       (game_id,))
        ticks = [t for t, _ in rows]
        start = 0 if game_id != first_seen else ticks[0]  # joined the first one midway
        assert ticks == list(range(start, rug_tick + 1)), game_id
        assert rows[-1][1] == "rugged"


def _refused_start(data_dir: Path, port: int) -> subprocess.CompletedProcess:
    env = {**BASE_ENV, "RUGSD_SIM__PORT": str(port),
           "RUGSD_FEED__URL": f"http://127.0.0.1:{port}"}
    return subprocess.run(
        [PYTHON, "-m", "rugsd.daemon.cli", "run", "--paper", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60, env=clean_env(env), check=False)


def _history(data_dir: Path) -> Path:
    with open_journal(data_dir) as journal:
        journal.write(TickRecord("old-run", 1, "g0", 0, 1.0, "active"))
    return data_dir / "journal.sqlite"


@pytest.mark.parametrize("damage", ["deleted", "emptied", "garbage"])
def test_a_lost_or_corrupt_journal_stops_the_start_in_one_line(
    tmp_path: Path, free_port: int, damage: str
) -> None:
    db = _history(tmp_path / "data")
    if damage == "deleted":
        db.unlink()
    elif damage == "emptied":
        db.write_bytes(b"")
    else:
        db.write_bytes(b"\x13\x37" * 10_000)

    t0 = time.monotonic()
    done = _refused_start(tmp_path / "data", free_port)

    assert done.returncode == 1, done.stderr[-2000:]
    err_lines = [line for line in done.stderr.splitlines() if line.startswith("rugsd run:")]
    assert len(err_lines) == 1 and "--new-journal" in err_lines[0]
    assert {"deleted": "missing", "emptied": "empty", "garbage": "corrupt"}[damage] in (
        err_lines[0])
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "data" / "run" / "rugsd.pid").exists()
    assert time.monotonic() - t0 < 30  # refused before any venue was opened
    if damage != "deleted":
        assert db.exists() and db.stat().st_size == (0 if damage == "emptied" else 20_000)


def test_new_journal_starts_fresh_and_journals_that_it_did(tmp_path: Path,
                                                           free_port: int) -> None:
    data = tmp_path / "data"
    db = _history(data)
    db.write_bytes(b"corrupted" * 1000)
    d = FlaggedDaemon(data, free_port, flags=("--new-journal",))
    try:
        d.start()
        d.wait_ready()
        rows = wait_for(lambda: d.query(
            "SELECT command, result FROM operator_commands WHERE command = 'new_journal'"),
            20, "the new_journal command", d.alive)
        assert d.stop() == 0
    finally:
        d.close()
    kept = list(data.glob("journal.replaced-*.sqlite"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"corrupted" * 1000
    assert rows[0][1] == f"ok: previous journal kept as {kept[0].name}"
    # the next plain start uses the new journal
    assert query(data / "journal.sqlite", "SELECT COUNT(*) FROM runs")[0][0] == 1


def test_days_past_retention_are_compacted_between_games(daemons: Callable[..., DaemonProc],
                                                         tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = int(time.time() * 1000) - 10 * DAY_MS
    with open_journal(data) as journal:  # ten days ago: 3000 ticks and decisions
        for i in range(3000):
            journal.write(TickRecord("old-run", old + i, "old-game", i, 1.0, "active"))
            journal.write(DecisionRecord("old-run", i, old + i, "old-game", i, "active", 1.0,
                                         "h", None, None, None, "wait", 0, 0, "none", "",
                                         None, "active"))
    d = daemons(data_dir=data, env={"RUGSD_JOURNAL__COMPACT_BATCH_ROWS": "500",
                                    "RUGSD_JOURNAL__COMPACT_BUDGET_MS": "50"})
    d.wait_ready()

    wait_for(lambda: not d.query("SELECT 1 FROM decisions WHERE run_id = 'old-run' LIMIT 1"),
             90, "the old decisions to leave the journal", d.alive)
    wait_for(lambda: not d.query("SELECT 1 FROM ticks WHERE run_id = 'old-run' LIMIT 1"),
             90, "the old ticks to leave the journal", d.alive)
    decided = d.query("SELECT COUNT(*) FROM decisions")[0][0]
    wait_for(lambda: d.query("SELECT COUNT(*) FROM decisions")[0][0] > decided, 20,
             "more decisions", d.alive)  # still trading

    for kind in ("ticks", "decisions"):
        files = [str(f) for f in (data / "dataset" / kind).glob("day-*.parquet")]
        rows = duckdb.execute("SELECT COUNT(*) FROM read_parquet(?) WHERE run_id = 'old-run'",
                              [files]).fetchone()[0]
        assert rows == 3000, kind
    line = next(e for e in d.log_events() if e.get("event") == "journal day archived")
    assert line["level"] == "info"
    assert d.stop() == 0
