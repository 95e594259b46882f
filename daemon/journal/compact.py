"""Retention: decisions and ticks older than ``journal.retention_days`` leave sqlite for
the Parquet day files, so the journal stays bounded.

Everything recovery and the loss budgets read stays in sqlite for good: runs, orders,
fills, position snapshots (account, drawdown peak, day-start equity), risk and kill
events, operator commands and games. Only the two high-volume tables are pruned, by
whole UTC days:

1. a day that has closed (before today, UTC) is exported once (ticks, decisions and its
   games, ``export.DayExport``), so training and ``rugsd report`` read yesterday from
   Parquet without waiting for the retention window;
2. a day before ``day_of(now - retention_days)`` is brought up to date (late rows, e.g.
   a replay of old recordings, are appended) and, once its files are durable, the rows
   those files cover (``rowid <= max_rowid``) are deleted in small transactions.

A table's newest row is never deleted, so rowids are never reused.

``Compactor.run(budget_ms)`` does bounded steps (a row group written, or
``batch_rows`` rows deleted) until the budget is spent and keeps its place between
calls: the daemon calls it once per game in the cooldown's settlement, when no decision
is due. ``Compactor.run_all`` (``rugsd compact``) goes to the end. Freed pages are handed
back to the filesystem by ``incremental_vacuum`` when more than a quarter of the file is
free (a steady state reuses them instead); ``reclaim`` (``rugsd compact``) vacuums fully.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import structlog

from rugsd.daemon.journal.dayfiles import (
    DAY_MS,
    DECISIONS,
    GAMES,
    KINDS,
    TICKS,
    Kind,
    dataset_lock,
    day_label,
    day_of,
    day_path,
    journal_days,
    max_rowid,
    read_day_file,
    remove_stale_temps,
)
from rugsd.daemon.journal.errors import DatasetError, JournalError
from rugsd.daemon.journal.export import DayExport
from rugsd.daemon.journal.store import Journal

log = structlog.get_logger(__name__)

PRUNED: tuple[Kind, ...] = tuple(k for k in KINDS if k.prunable)
_ERRORS = (JournalError, OSError, sqlite3.Error, pa.ArrowException)
_BACKOFF_CALLS = 500  # calls skipped after an error (about ten games' settlements)
_IDLE_CALLS = 100  # calls skipped after finding nothing to do (about two games)
_MIN_ROWS = 100  # the smallest step (a Parquet row group of the day file)


@dataclass
class CompactStats:
    """What compaction has done in this process."""

    calls: int = 0
    steps: int = 0
    days_exported: int = 0  # closed days written to Parquet (not pruned yet)
    days_archived: int = 0  # days past retention exported and pruned
    rows_exported: int = 0
    rows_pruned: int = 0
    vacuum_steps: int = 0
    errors: int = 0
    last_error: str = ""
    max_call_ms: float = 0.0
    # the latest calls' durations (bounded: the daemon calls this for months)
    call_ms: deque[float] = field(default_factory=lambda: deque(maxlen=100_000), repr=False)

    def as_dict(self) -> dict[str, object]:
        """Plain data (without the per-call times)."""
        return {k: v for k, v in self.__dict__.items() if k != "call_ms"}


def cutoff_ms(now_ms: int, retention_days: int) -> int:
    """Rows before this (a UTC day start) are past the retention window."""
    return day_of(now_ms - retention_days * DAY_MS)


class Compactor:
    """Bounded, resumable export + prune of the days past the retention window."""

    def __init__(
        self,
        journal: Journal,
        dataset_dir: Path,
        *,
        retention_days: int = 7,
        batch_rows: int = 1000,
        vacuum_pages: int = 256,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.journal = journal
        self.dataset_dir = Path(dataset_dir)
        self.retention_days = retention_days
        self.batch_rows = batch_rows
        self.vacuum_pages = vacuum_pages
        self._clock = clock
        self.stats = CompactStats()
        self._day: int | None = None
        self._tasks: deque[tuple[str, Kind | None]] = deque()
        self._pruning = False
        self._job: DayExport | None = None
        self._skip = 0  # calls to skip after an error
        self._rest = 0  # calls to skip after finding nothing to do
        self._cost: dict[str, float] = {}  # learnt ms per row of each kind of step

    @property
    def conn(self) -> sqlite3.Connection:
        """The journal's connection (same thread as the journal's writes)."""
        return self.journal.conn

    # -- driving -------------------------------------------------------------------------

    def run(self, budget_ms: float, now_ms: int) -> bool:
        """Steps until ``budget_ms`` is spent; True when nothing is left to do.

        Never raises: a failure is logged, counted, and compaction pauses for a while
        (it is housekeeping, not trading). Skips the call if an export holds the lock.
        """
        if self._skip > 0:
            self._skip -= 1
            return False
        if self._rest > 0:
            self._rest -= 1
            return True
        t0 = self._clock()
        deadline = t0 + budget_ms / 1000
        self.stats.calls += 1
        idle = False
        try:
            with dataset_lock(self.dataset_dir, timeout_s=None) as held:
                if not held:
                    return False
                while self._step(now_ms, deadline):
                    self.stats.steps += 1
                    if self._clock() >= deadline:
                        break
                else:
                    idle = True
                    self._rest = _IDLE_CALLS  # nothing changes that fast
        except _ERRORS as err:
            self._failed(err)
        finally:
            ms = (self._clock() - t0) * 1e3
            self.stats.call_ms.append(ms)
            self.stats.max_call_ms = max(self.stats.max_call_ms, ms)
        return idle

    def run_all(self, now_ms: int, lock_timeout_s: float = 30.0) -> CompactStats:
        """Everything now (``rugsd compact``); raises on failure."""
        with dataset_lock(self.dataset_dir, lock_timeout_s):
            remove_stale_temps(self.dataset_dir)
            try:
                while self._step(now_ms):
                    self.stats.steps += 1
            except BaseException:
                self._reset()
                raise
        return self.stats

    def _failed(self, err: BaseException) -> None:
        self.stats.errors += 1
        self.stats.last_error = str(err)
        self._reset()
        self._skip = _BACKOFF_CALLS
        log.error("journal compaction failed; retrying in a while", error=str(err))

    def _reset(self) -> None:
        if self._job is not None:
            self._job.abort()
        self._job = None
        self._tasks.clear()
        self._day = None

    # -- one step ----------------------------------------------------------------------

    def _limit(self, key: str, deadline: float | None) -> int:
        """Rows for the next step: what fits the time left, from the learnt cost."""
        cost = self._cost.get(key)
        if deadline is None or cost is None:
            return self.batch_rows if deadline is None else min(self.batch_rows, 200)
        left_ms = (deadline - self._clock()) * 1e3
        return max(_MIN_ROWS, min(self.batch_rows, int(left_ms / cost)))

    def _learn(self, key: str, rows: int, t0: float) -> None:
        """Remember what a step of ``rows`` rows started at ``t0`` cost per row."""
        if rows:
            cost = (self._clock() - t0) * 1e3 / rows
            old = self._cost.get(key)
            self._cost[key] = cost if old is None else (old + cost) / 2

    def _step(self, now_ms: int, deadline: float | None = None) -> bool:
        """One bounded unit of work; False when there is nothing to do."""
        job = self._job
        if job is not None:
            if not job.still_valid():  # an export replaced the file: redo the day
                self._reset()
                return True
            key, t0 = f"export-{job.kind.name}", self._clock()
            finished = job.step(self._limit(key, deadline))
            self._learn(key, job.last_rows, t0)
            if deadline is None:
                job.wait_published()
            if finished:
                self.stats.rows_exported += job.rows_written
                self._job = None
            return True
        if self._tasks:
            what, kind = self._tasks.popleft()
            if what == "export":
                job = DayExport(self.conn, self.dataset_dir, kind, self._day, self.batch_rows)
                self._job = job if job.needed else None
            elif what == "prune":
                key, t0 = f"prune-{kind.name}", self._clock()
                limit = self._limit(key, deadline)
                deleted = self._prune_step(kind, limit)
                self._learn(key, deleted, t0)
                if deleted == limit:
                    self._tasks.appendleft((what, kind))  # more to delete
            elif what == "done":
                self._day_done()
            return True
        if self._vacuum_due():
            self._vacuum_step()
            return True
        day = self.next_day(now_ms)
        prune = day is not None
        if day is None:
            day = self.closed_day(now_ms)
        if day is None:
            return False
        self._day, self._pruning = day, prune
        self._tasks.extend([("export", k) for k in (TICKS, DECISIONS, GAMES)])
        if prune:
            self._tasks.extend([("prune", k) for k in PRUNED])
        self._tasks.append(("done", None))
        return True

    def _day_done(self) -> None:
        label = day_label(self._day)
        if self._pruning:
            self.stats.days_archived += 1
            log.info("journal day archived", day=label)
        else:
            self.stats.days_exported += 1
            log.info("journal day exported", day=label)
        self._day = None

    def closed_day(self, now_ms: int) -> int | None:
        """The oldest closed day (before today, inside the window) with journal rows but
        no day file yet (index seeks and file checks only)."""
        today = day_of(now_ms)
        for kind in PRUNED:
            for day in journal_days(self.conn, kind, cutoff_ms(now_ms, self.retention_days),
                                    today):
                if not day_path(self.dataset_dir, kind, day).exists():
                    return day
        return None

    def next_day(self, now_ms: int) -> int | None:
        """The oldest day past the window with prunable rows (index seeks only)."""
        cutoff = cutoff_ms(now_ms, self.retention_days)
        days = []
        for kind in PRUNED:
            first = self.conn.execute(
                f"SELECT MIN({kind.ts}) FROM {kind.name} WHERE {kind.ts} < ? AND rowid < ?",
                (cutoff, max_rowid(self.conn, kind.name)),
            ).fetchone()[0]
            if first is not None:
                days.append(day_of(int(first)))
        return min(days) if days else None

    def _prune_step(self, kind: Kind, limit: int) -> int:
        """Delete up to ``limit`` rows of the day that its file covers."""
        day = self._day
        path = day_path(self.dataset_dir, kind, day)
        newest = max_rowid(self.conn, kind.name)
        if not path.exists():
            left = self.conn.execute(
                f"SELECT 1 FROM {kind.name} WHERE {kind.ts} >= ? AND {kind.ts} < ? "
                "AND rowid < ? LIMIT 1", (day, day + DAY_MS, newest)).fetchone()
            if left is None:
                return 0
            raise DatasetError(f"{path} is missing after its export")
        covered = read_day_file(path).max_rowid
        deleted = self.journal.maintain(
            f"DELETE FROM {kind.name} WHERE rowid IN (SELECT rowid FROM {kind.name} "
            f"WHERE {kind.ts} >= ? AND {kind.ts} < ? AND rowid <= ? AND rowid < ? LIMIT ?)",
            (day, day + DAY_MS, covered, newest, limit),
        )
        self.stats.rows_pruned += deleted
        return deleted

    # -- space ---------------------------------------------------------------------------

    def _vacuum_due(self) -> bool:
        mode, free, pages = page_figures(self.conn)
        return mode == 2 and free > self.vacuum_pages and free > pages // 4

    def _vacuum_step(self) -> None:
        self.journal.flush()
        self.conn.executescript(f"PRAGMA incremental_vacuum({self.vacuum_pages})")
        self.stats.vacuum_steps += 1


def page_figures(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """(auto_vacuum mode, free pages, total pages)."""
    return (
        conn.execute("PRAGMA auto_vacuum").fetchone()[0],
        conn.execute("PRAGMA freelist_count").fetchone()[0],
        conn.execute("PRAGMA page_count").fetchone()[0],
    )


def reclaim(journal: Journal) -> str:
    """Give every free page back to the filesystem; returns what was done.

    A journal created before auto_vacuum was set gets one full ``VACUUM`` that also
    switches it to incremental (it rewrites the file: the daemon must not be running).
    """
    journal.flush()
    mode, free, _ = page_figures(journal.conn)
    if mode != 2:
        journal.conn.executescript("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
        done = "vacuum (now auto_vacuum=incremental)"
    elif free:
        journal.conn.executescript("PRAGMA incremental_vacuum;")
        done = f"incremental_vacuum ({free} pages)"
    else:
        done = "nothing to reclaim"
    journal.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return done
