"""Parquet day files exported from the journal: ``dataset/<kind>/day-YYYY-MM-DD.parquet``.

The journal is the record; the dataset is derived from it and can be rebuilt from it
(``rugsd export``) for every day the journal still holds. One file per kind (ticks,
decisions, games) and UTC day, written atomically (temp file, fsync, rename).

What a day file holds is stated in its Parquet metadata, ``rugsd.max_rowid = m``: every
row of that day with ``rowid <= m`` — rowids only grow (compaction never deletes a
table's newest row, so none is reused), so a later export appends just the day's rows
with ``rowid > m`` (late rows, e.g. a replay of old recordings), and compaction may
delete the day's rows with ``rowid <= m`` from sqlite once the file is durable. Games
are rewritten whole (a revealed seed replaces its row), ticks and decisions are appended.

``DayExport`` does one file in bounded steps (a row group per step), so the daemon can
spread it over game cooldowns; ``export_days`` runs them to completion for the CLI.
Writers hold ``dataset/.lock`` (``dataset_lock``) while they work.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import structlog

from rugsd.daemon.journal.dataset import (
    DECISIONS_SCHEMA,
    GAMES_SCHEMA,
    TICKS_SCHEMA,
    arrow_table,
    publish,
)
from rugsd.daemon.journal.errors import DatasetError, JournalError, unreadable

log = structlog.get_logger(__name__)

DAY_MS = 86_400_000
META_MAX_ROWID = b"rugsd.max_rowid"
LOCK_FILE = ".lock"
_DAY_FILE = re.compile(r"^day-(\d{4}-\d{2}-\d{2})(?:-\d+)?\.parquet$")


@dataclass(frozen=True, slots=True)
class Kind:
    """One exported table."""

    name: str  # dataset sub-folder and sqlite table
    ts: str  # the time column that picks the day
    schema: pa.Schema
    append: bool  # rows are only ever appended (ticks, decisions); else rewrite the day
    prunable: bool  # compaction deletes old rows once exported


TICKS = Kind("ticks", "ts_ms", TICKS_SCHEMA, append=True, prunable=True)
DECISIONS = Kind("decisions", "ts_ms", DECISIONS_SCHEMA, append=True, prunable=True)
GAMES = Kind("games", "ended_ts_ms", GAMES_SCHEMA, append=False, prunable=False)
KINDS: tuple[Kind, ...] = (TICKS, DECISIONS, GAMES)


def day_of(ts_ms: int) -> int:
    """Start (ms) of the UTC day holding ``ts_ms``."""
    return ts_ms - ts_ms % DAY_MS


def day_label(day_ms: int) -> str:
    """``YYYY-MM-DD`` of a day start."""
    return datetime.fromtimestamp(day_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def day_path(dataset_dir: Path, kind: Kind, day_ms: int) -> Path:
    """``dataset/<kind>/day-YYYY-MM-DD.parquet``."""
    return dataset_dir / kind.name / f"day-{day_label(day_ms)}.parquet"


def day_of_file(path: Path) -> int | None:
    """The day a ``day-YYYY-MM-DD.parquet`` file covers (None for other files)."""
    m = _DAY_FILE.match(path.name)
    if m is None:
        return None
    when = datetime.strptime(m.group(1), "%Y-%m-%d").replace(tzinfo=UTC)
    return int(when.timestamp()) * 1000


@dataclass(frozen=True, slots=True)
class DayFile:
    """A day file's footer: what it covers."""

    path: Path
    day_ms: int
    max_rowid: int
    rows: int


def read_day_file(path: Path) -> DayFile:
    """Read a day file's footer; ``DatasetError`` (one line) if it is unreadable."""
    day = day_of_file(path)
    try:
        meta = pq.read_metadata(path)
        kv = meta.metadata or {}
        max_rowid = int(kv.get(META_MAX_ROWID, b"0"))
    except (OSError, pa.ArrowException, ValueError) as err:
        raise DatasetError(unreadable(path, err)) from None
    return DayFile(path, day if day is not None else 0, max_rowid, meta.num_rows)


@contextmanager
def dataset_lock(dataset_dir: Path, timeout_s: float | None = 30.0) -> Iterator[bool]:
    """Hold ``dataset/.lock`` (flock). ``timeout_s=None``: try once; yields whether held.

    Raises ``DatasetError`` when ``timeout_s`` passes without the lock.
    """
    dataset_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(dataset_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + (timeout_s or 0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if timeout_s is None:
                    yield False
                    return
                if time.monotonic() > deadline:
                    raise DatasetError(
                        f"dataset {dataset_dir} is busy (another export or compaction); "
                        "try again"
                    ) from None
                time.sleep(0.05)
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def max_rowid(conn: sqlite3.Connection, table: str) -> int:
    """The table's newest rowid (0 when empty)."""
    return int(conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0])


def journal_days(
    conn: sqlite3.Connection, kind: Kind, since_ms: int | None = None,
    before_ms: int | None = None,
) -> list[int]:
    """Days with rows of ``kind`` in the journal, oldest first (index hops, no scan)."""
    days: list[int] = []
    lo = day_of(since_ms) if since_ms is not None else None
    sql = f"SELECT MIN({kind.ts}) FROM {kind.name} WHERE {kind.ts} >= ?"
    first = conn.execute(
        f"SELECT MIN({kind.ts}) FROM {kind.name}" if lo is None else sql,
        () if lo is None else (lo,),
    ).fetchone()[0]
    while first is not None and (before_ms is None or first < before_ms):
        day = day_of(int(first))
        days.append(day)
        first = conn.execute(sql, (day + DAY_MS,)).fetchone()[0]
    return days


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def set_aside_unreadable(path: Path, err: DatasetError) -> Path:
    """Rename an unreadable day file out of the readers' glob; returns the new path."""
    target = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
    os.replace(path, target)
    log.warning("unreadable day file set aside; re-exporting what the journal holds",
                file=str(path), kept_as=target.name, error=str(err))
    return target


class DayExport:
    """Export one (kind, day) to its day file, a row group per ``step()``.

    Snapshot at construction: rows with ``rowid <= upto`` (the table's newest rowid
    then). An existing file's rows are copied first (one row group per step), then the
    journal's rows of the day after its ``max_rowid`` (appending kinds) or all of them
    (games), ``batch_rows`` per step, ordered by time. ``finish`` publishes the file.
    """

    def __init__(
        self, conn: sqlite3.Connection, dataset_dir: Path, kind: Kind, day_ms: int,
        batch_rows: int = 5000,
    ) -> None:
        self.conn, self.kind, self.day = conn, kind, day_ms
        self.path = day_path(dataset_dir, kind, day_ms)
        self.batch_rows = batch_rows
        self.upto = max_rowid(conn, kind.name)
        self.rows_written = 0
        self.old: DayFile | None = None
        if self.path.exists():
            try:
                self.old = read_day_file(self.path)
            except DatasetError as err:
                set_aside_unreadable(self.path, err)
        self.signature = _signature(self.path)
        self.base = self.old.max_rowid if (self.old is not None and kind.append) else 0
        self._cols = ", ".join(kind.schema.names)
        self._cursor: tuple[int, int] = (day_ms - 1, 0)  # (ts, rowid) already written
        self._old_groups = 0 if self.old is None or not kind.append else (
            pq.ParquetFile(self.path).num_row_groups)
        self._group = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.needed = self._needed()
        self.done = not self.needed

    def _range(self) -> tuple[str, tuple[int, ...]]:
        ts = self.kind.ts
        return (f"{ts} >= ? AND {ts} < ? AND rowid > ? AND rowid <= ?",
                (self.day, self.day + DAY_MS, self.base, self.upto))

    def _needed(self) -> bool:
        where, params = self._range()
        if self.kind.append:
            row = self.conn.execute(
                f"SELECT 1 FROM {self.kind.name} WHERE {where} LIMIT 1", params).fetchone()
            return row is not None
        count, newest = self.conn.execute(
            f"SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM {self.kind.name} WHERE {where}",
            params).fetchone()
        if self.old is None:
            return count > 0
        # a replaced row has a new rowid (> max_rowid); a moved one lowers the count
        return newest > self.old.max_rowid or count != self.old.rows

    def still_valid(self) -> bool:
        """False if someone replaced the day file since this export started."""
        return _signature(self.path) == self.signature

    def step(self) -> bool:
        """Write one row group; True once the file is published (or nothing to do)."""
        if self.done:
            return True
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            meta = {META_MAX_ROWID: str(self.upto).encode(), b"rugsd.kind": self.kind.name.encode()}
            self._writer = pq.ParquetWriter(
                self._tmp, self.kind.schema.with_metadata(meta), compression="zstd")
        if self._group < self._old_groups:
            table = pq.ParquetFile(self.path).read_row_group(self._group)
            self._writer.write_table(table.cast(self.kind.schema))
            self._group += 1
            return False
        where, params = self._range()
        ts = self.kind.ts
        rows = self.conn.execute(
            f"SELECT {ts}, rowid, {self._cols} FROM {self.kind.name} WHERE {where} "
            f"AND ({ts}, rowid) > (?, ?) ORDER BY {ts}, rowid LIMIT ?",
            (*params, *self._cursor, self.batch_rows),
        ).fetchall()
        if rows:
            self._cursor = (rows[-1][0], rows[-1][1])
            self._writer.write_table(arrow_table([r[2:] for r in rows], self.kind.schema))
            self.rows_written += len(rows)
        if len(rows) == self.batch_rows:
            return False
        self._finish()
        return True

    def _finish(self) -> None:
        assert self._writer is not None
        self._writer.close()
        self._writer = None
        if not self.still_valid():
            self.abort()
            raise DatasetError(f"{self.path} changed during the export; it will be redone")
        publish(self._tmp, self.path)
        self.done = True

    def abort(self) -> None:
        """Drop the unfinished temp file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._tmp.unlink(missing_ok=True)
        self.done = True

    def run(self) -> int:
        """All steps; returns the journal rows written."""
        try:
            while not self.step():
                pass
        except BaseException:
            self.abort()
            raise
        return self.rows_written


def remove_stale_temps(dataset_dir: Path) -> int:
    """Delete temp files of exports whose process is gone; returns how many."""
    removed = 0
    for kind in KINDS:
        for tmp in (dataset_dir / kind.name).glob(".day-*.tmp"):
            pid = tmp.name.rsplit(".", 2)[-2]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class ExportSummary:
    """What ``export_days`` did, per kind."""

    files_written: dict[str, int]
    rows_written: dict[str, int]
    days_unchanged: dict[str, int]

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Plain data for ``--json``."""
        return {k: {"files_written": self.files_written[k], "rows": self.rows_written[k],
                    "days_unchanged": self.days_unchanged[k]} for k in self.files_written}


def export_days(
    conn: sqlite3.Connection, dataset_dir: Path, since_ms: int | None = None,
    batch_rows: int = 20_000, lock_timeout_s: float = 30.0,
) -> ExportSummary:
    """Bring every day file up to date with the journal (days at or after ``since_ms``)."""
    names = [k.name for k in KINDS]
    summary = ExportSummary(dict.fromkeys(names, 0), dict.fromkeys(names, 0),
                            dict.fromkeys(names, 0))
    with dataset_lock(dataset_dir, lock_timeout_s):
        remove_stale_temps(dataset_dir)
        for kind in KINDS:
            (dataset_dir / kind.name).mkdir(parents=True, exist_ok=True)
            for day in journal_days(conn, kind, since_ms):
                job = DayExport(conn, dataset_dir, kind, day, batch_rows)
                if not job.needed:
                    summary.days_unchanged[kind.name] += 1
                    continue
                summary.rows_written[kind.name] += job.run()
                summary.files_written[kind.name] += 1
    return summary


def export_data_dir(
    data_dir: Path, since_ms: int | None = None, lock_timeout_s: float = 30.0
) -> ExportSummary:
    """``export_days`` for ``DATA_DIR/journal.sqlite`` -> ``DATA_DIR/dataset``, reading the
    journal read-only (safe while the daemon writes). Raises ``JournalError`` (one line)
    for a missing, unreadable or not yet migrated journal."""
    from rugsd.daemon.journal.migrations import tables_of

    journal = Path(data_dir) / "journal.sqlite"
    if not journal.is_file():
        raise JournalError(f"no journal at {journal}")
    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5.0)
        try:
            missing = {k.name for k in KINDS} - tables_of(conn)
            if missing:
                raise JournalError(f"journal {journal} has no {', '.join(sorted(missing))} "
                                   "table (start the daemon once to migrate it)")
            return export_days(conn, Path(data_dir) / "dataset", since_ms,
                               lock_timeout_s=lock_timeout_s)
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise JournalError(f"cannot read journal {journal}: {err}") from None
