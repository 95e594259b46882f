"""Storage figures of the journal (helper of ``bench/journal.py``): bytes per game and per
day at real time, before and after compaction, compaction and report times over 30 days,
start-up checks, and what ``kill -9`` loses.

Sizes come from the real thing: ``N_RECORDINGS`` real recordings replayed through the
real decision core (the committed ONNX bundle) into a journal, exactly as
``rugsd replay`` journals them. Real time: a game lasts its mean rug tick x 250 ms plus
the 15 s cooldown (DESIGN.md), which gives the games per day.

The 30 days are synthesised from those real games (their rows, with times, run and game
ids moved), a day at a time at the real-time rate, with the daemon's compaction run at
the end of each day (retention 7 days): the data dir ends as a 30-day-old daemon's would.
"""

from __future__ import annotations

import os
import random
import selectors
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rugsd.daemon.config import JournalConfig, Settings
from rugsd.daemon.journal import Journal
from rugsd.daemon.journal.compact import Compactor, reclaim
from rugsd.daemon.journal.dayfiles import DAY_MS
from rugsd.daemon.journal.export import export_days
from rugsd.daemon.journal.opening import integrity
from rugsd.daemon.journal.report import build_report
from rugsd.daemon.runtime.replay import replay

RECORDINGS = Path(__file__).resolve().parents[1].parent / "shared/data/real/recordings"
N_RECORDINGS = 100
COOLDOWN_MS = 15_000
TICK_MS = 250
RETENTION_DAYS = 7
CFG = JournalConfig()  # the daemon's defaults
PRUNED = ("decisions", "ticks")
# synthetic ids as long as the real ones
RUN_ID = "run-20261201-000000-a1b2c3"


def _size(path: Path) -> int:
    return path.stat().st_size + sum(
        p.stat().st_size for p in (path.with_name(path.name + s) for s in ("-wal",))
        if p.exists())


def _tree_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*.parquet"))


@dataclass
class Profile:
    """What real games cost, and the rows to clone them from."""

    games: int
    game_ms: float  # mean wall time of one game at real time (active + cooldown)
    journal_bytes: int
    journal_kept_bytes: int  # tables and indexes compaction never prunes
    dataset_bytes: int
    templates: list[dict[str, list[tuple]]]  # per game: table -> rows (ts relative)

    @property
    def games_per_day(self) -> float:
        return DAY_MS / self.game_ms


def real_profile(root: Path) -> Profile:
    """Replay real recordings into ``root`` and measure what each game costs."""
    files = sorted(RECORDINGS.glob("*.jsonl"))[:N_RECORDINGS]
    replay(files, Settings(), root)
    db = root / "journal.sqlite"
    conn = sqlite3.connect(db)
    try:
        games = conn.execute("SELECT COUNT(DISTINCT game_id) FROM games").fetchone()[0]
        mean_rug = conn.execute("SELECT AVG(rug_tick) FROM games").fetchone()[0]
        sizes = dict(conn.execute(
            "SELECT CASE WHEN tbl_name IN ('decisions', 'ticks') THEN 'pruned' ELSE 'kept' END,"
            " SUM(pgsize) FROM dbstat JOIN sqlite_master ON dbstat.name = sqlite_master.name "
            "GROUP BY 1").fetchall())
        templates = _templates(conn)
    finally:
        conn.close()
    export_days(sqlite3.connect(db), root / "dataset")
    return Profile(games, mean_rug * TICK_MS + COOLDOWN_MS, _size(db), sizes.get("kept", 0),
                   _tree_size(root / "dataset"), templates)


_COLUMNS = {  # table -> (column list, index of ts, index of game_id, index of run_id)
    "ticks": ("run_id, ts_ms, game_id, tick, price, phase", 1, 2, 0),
    "decisions": (("run_id, seq, ts_ms, game_id, tick, phase, price, features_hash, features, "
                  "action_probs, p_rug, intent_action, intent_amount, intent_percentage, "
                  "verdict, reason, order_id, trading_state"), 2, 3, 0),
    "games": ("run_id, game_id, rug_tick, peak, server_seed, ended_ts_ms", 5, 1, 0),
    "fills": (("order_id, run_id, ts_ms, game_id, tick, kind, price, qty, amount, realised, "
              "balance_after"), 2, 3, 1),
    "positions": (("run_id, ts_ms, game_id, tick, balance, qty, cost, realised, credited, "
                  "sidebet_start, sidebet_end, sidebet_stake, entry_tick, mark_price, "
                  "last_fill_id"), 1, 2, 0),
}


def _templates(conn: sqlite3.Connection) -> list[dict[str, list[tuple]]]:
    """Per real game, its rows with ts made relative to the game's first tick."""
    out = []
    for (game_id,) in conn.execute("SELECT DISTINCT game_id FROM games").fetchall():
        t0 = conn.execute("SELECT MIN(ts_ms) FROM decisions WHERE game_id = ?",
                          (game_id,)).fetchone()[0]
        if t0 is None:
            continue
        game: dict[str, list[tuple]] = {}
        for table, (cols, ts, _, _) in _COLUMNS.items():
            rows = conn.execute(f"SELECT {cols} FROM {table} WHERE game_id = ?",
                                (game_id,)).fetchall()
            game[table] = [(*r[:ts], r[ts] - t0, *r[ts + 1:]) for r in rows]
        out.append(game)
    return out


def _clone(rows: list[tuple], table: str, start: int, game_id: str) -> list[tuple]:
    _, ts, gid, rid = _COLUMNS[table]
    out = []
    for r in rows:
        r = list(r)
        r[ts] += start
        r[gid] = game_id
        r[rid] = RUN_ID
        out.append(tuple(r))
    return out


def synth_day(journal: Journal, profile: Profile, day_start: int, day: int) -> int:
    """One day of games at the real-time rate; returns the rows written."""
    conn = journal.conn
    sql = {t: f"INSERT INTO {t} ({c}) VALUES ({', '.join('?' * len(c.split(',')))})"
           for t, (c, _, _, _) in _COLUMNS.items()}
    n_games = int(profile.games_per_day)
    rows = 0
    conn.execute("BEGIN")
    for g in range(n_games):
        template = profile.templates[(day * 7919 + g) % len(profile.templates)]
        start = day_start + int(g * profile.game_ms)
        game_id = f"{time.strftime('%Y%m%d', time.gmtime(start / 1000))}-{day:08x}{g:08x}"
        for table, template_rows in template.items():
            cloned = _clone(template_rows, table, start, game_id)
            conn.executemany(sql[table], cloned)
            rows += len(cloned)
    conn.execute("COMMIT")
    return rows


def thirty_days(root: Path, profile: Profile, days: int = 30) -> dict:
    """Synthesise ``days`` days with the daemon's compaction; measure sizes and reports."""
    db = root / "journal.sqlite"
    first_day = 1_764_547_200_000  # 2025-12-01 00:00 UTC
    call_ms: list[float] = []
    calls_per_day: list[int] = []
    compact_s, rows_total, moved = 0.0, 0, 0
    with Journal(db) as journal:
        for day in range(days):
            rows_total += synth_day(journal, profile, first_day + day * DAY_MS, day)
            end_of_day = first_day + (day + 1) * DAY_MS - 1
            t0 = time.perf_counter()
            if day == days - 1 - RETENTION_DAYS // 2:  # one day the daemon's way
                compactor = Compactor(journal, root / "dataset", retention_days=RETENTION_DAYS,
                                      batch_rows=CFG.compact_batch_rows)
                while not compactor.run(CFG.compact_budget_ms, end_of_day):
                    assert compactor.stats.errors == 0, compactor.stats.last_error
                call_ms += compactor.stats.call_ms
                calls_per_day.append(compactor.stats.calls)
            else:  # as `rugsd compact` does
                compactor = Compactor(journal, root / "dataset", retention_days=RETENTION_DAYS,
                                      batch_rows=20_000)
                compactor.run_all(end_of_day)
            compact_s += time.perf_counter() - t0
            moved += compactor.stats.rows_exported + compactor.stats.rows_pruned
        journal.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode, free, pages = (journal.conn.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("auto_vacuum", "freelist_count", "page_count"))
        kept = journal.count("decisions") + journal.count("ticks")
    steady = _size(db)
    decisions_total = sum(len(profile.templates[(d * 7919 + g) % len(profile.templates)]
                              ["decisions"]) for d in range(days)
                          for g in range(int(profile.games_per_day)))
    figures = {
        "synth_days": days,
        "synth_rows": rows_total,
        "journal_bytes_30_days_after_compaction": steady,
        "journal_free_page_fraction": round(free / pages, 3),
        "journal_auto_vacuum": mode,
        "dataset_bytes_30_days": _tree_size(root / "dataset"),
        "journal_rows_kept_30_days": kept,
        "compact_rows_per_s": round(moved / compact_s),  # exported + deleted
        "compact_call_ms_p50": round(statistics.median(call_ms), 1),
        "compact_call_ms_p99": round(_pct(call_ms, 0.99), 1),
        "compact_call_ms_max": round(max(call_ms), 1),
        "compact_calls_per_day": calls_per_day[0],
        # the daemon calls it on each settlement event: 5 s x 10 events/s per game
        "compact_calls_available_per_day": round(profile.games_per_day * 50),
    }
    now = first_day + days * DAY_MS - 1
    for name, since in (("", None), ("_since_7d", now - 7 * DAY_MS),
                        ("_since_1d", now - DAY_MS)):
        t0 = time.perf_counter()
        report = build_report(root, since)
        figures[f"report_ms_30_days{name}"] = round((time.perf_counter() - t0) * 1e3)
        if since is None:  # every synthesised decision counted once, from both stores
            figures["report_30_days_decisions"] = sum(report["action_distribution"].values())
            assert figures["report_30_days_decisions"] == decisions_total
            assert not report["warnings"], report["warnings"]
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", "report", "--data-dir",
                           str(root), "--json"], capture_output=True, check=True, timeout=600)
    figures["report_cli_s_30_days"] = round(time.perf_counter() - t0, 2)
    assert done.stdout
    for mode_name in ("quick", "full"):
        figures[f"{mode_name}_check_ms_steady_journal"] = round(integrity(db, mode_name))
    with Journal(db) as journal:
        t0 = time.perf_counter()
        reclaim(journal)
        figures["reclaim_ms_steady_journal"] = round((time.perf_counter() - t0) * 1e3)
    figures["journal_bytes_30_days_after_reclaim"] = _size(db)
    return figures


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


_WRITER = r"""
import sys, time
from rugsd.daemon.journal import Journal, TickRecord, DecisionRecord
journal = Journal(sys.argv[1])  # the defaults: batch 1000, flush interval 1000 ms
seq = 0
t0 = time.monotonic()
while True:  # one tick and one decision every 250 ms, as a live game
    ts = int(time.time() * 1000)
    journal.write(TickRecord("r", ts, "g", seq, 1.0, "active"))
    journal.write(DecisionRecord("r", seq, ts, "g", seq, "active", 1.0, "h", None, None, None,
                                 "wait", 0, 0, "none", "", None, "active"))
    print(seq, ts, flush=True)
    seq += 1
    time.sleep(max(0.0, t0 + 0.25 * seq - time.monotonic()))
"""


def kill9_loss(root: Path, trials: int = 8, seed: int = 1) -> dict:
    """``kill -9`` a writer ticking at real time at random moments; what was lost."""
    rng = random.Random(seed)
    lost_rows, lost_ms = [], []
    for i in range(trials):
        db = root / f"kill9-{i}.sqlite"
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(db)],
                                stdout=subprocess.PIPE, text=True)
        written: list[tuple[int, int]] = []
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 2 + rng.random() * 2
        while time.monotonic() < deadline:
            if sel.select(timeout=0.05):
                seq, ts = proc.stdout.readline().split()
                written.append((int(seq), int(ts)))
        os.kill(proc.pid, signal.SIGKILL)
        for line in proc.stdout:  # what it printed before dying
            seq, ts = line.split()
            written.append((int(seq), int(ts)))
        proc.wait(10)
        conn = sqlite3.connect(db)
        durable = conn.execute("SELECT COALESCE(MAX(tick), -1) FROM ticks").fetchone()[0]
        conn.close()
        last_seq, last_ts = written[-1]
        lost = last_seq - durable
        lost_rows.append(2 * lost)  # a tick and a decision per step
        first_lost_ts = next((ts for s, ts in written if s == durable + 1), last_ts)
        lost_ms.append(last_ts - first_lost_ts + TICK_MS if lost else 0)
    return {"kill9_trials": trials, "kill9_lost_rows_max": max(lost_rows),
            "kill9_lost_rows_mean": round(statistics.mean(lost_rows), 1),
            "kill9_lost_ms_max": max(lost_ms)}
