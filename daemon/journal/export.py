"""Parquet day files exported from the journal (``dataset/<kind>/day-YYYY-MM-DD.parquet``).

The journal is the record; the dataset is derived from it and can be rebuilt from it
(``rugsd export``) for every day the journal still holds. One file per kind (ticks,
decisions, games) and UTC day (``dayfiles``), written atomically (temp file, fsync,
rename). A later export of a day appends just its rows with ``rowid > max_rowid`` (late
rows, e.g. a replay of old recordings); games are rewritten whole (a revealed seed
replaces its row). ``DayExport`` does one file in bounded steps, so the daemon can
spread it over game cooldowns; ``export_days`` runs them to completion for the CLI.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rugsd.daemon.journal.dataset import arrow_table, publish
from rugsd.daemon.journal.dayfiles import (
    DAY_MS,
    KINDS,
    META_MAX_ROWID,
    DayFile,
    Kind,
    dataset_lock,
    day_path,
    file_signature,
    journal_days,
    max_rowid,
    read_day_file,
    remove_stale_temps,
    set_aside_unreadable,
)
from rugsd.daemon.journal.errors import DatasetError, JournalError

_PUBLISHER: ThreadPoolExecutor | None = None


def _publisher() -> ThreadPoolExecutor:
    global _PUBLISHER
    if _PUBLISHER is None:
        _PUBLISHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rugsd-publish")
    return _PUBLISHER


class DayExport:
    """Export one (kind, day) to its day file in bounded steps (``step()``).

    A snapshot at construction: journal rows with ``rowid <= upto`` (the table's newest
    rowid then). Without a file yet (or for games, rewritten whole) each step writes the
    next ``batch_rows`` rows of the day in time order. With a file, its rows are final
    up to its ``max_rowid``: the day's index entries are scanned ``batch_rows`` per step
    (index only, no table read) for rows after it; if there are any, the file's row
    groups are copied (one per step) and the late rows appended. The new file is
    published atomically when complete; ``published`` says whether one was.
    """

    def __init__(
        self, conn: sqlite3.Connection, dataset_dir: Path, kind: Kind, day_ms: int,
        batch_rows: int = 1000,
    ) -> None:
        self.conn, self.kind, self.day = conn, kind, day_ms
        self.path = day_path(dataset_dir, kind, day_ms)
        self.batch_rows = batch_rows
        self.upto = max_rowid(conn, kind.name)
        self.rows_written = 0
        self.published = False
        self.old: DayFile | None = None
        if self.path.exists():
            try:
                self.old = read_day_file(self.path)
            except DatasetError as err:
                set_aside_unreadable(self.path, err)
        self.signature = file_signature(self.path)
        self.base = self.old.max_rowid if (self.old is not None and kind.append) else 0
        self._cols = ", ".join(kind.schema.names)
        self._cursor: tuple[int, int] = (day_ms - 1, 0)  # (ts, rowid) done so far
        # appending to a file: first find the late rows (None: not scanned yet)
        self._late: list[int] | None = [] if self.base == 0 else None
        self._found: list[int] = []
        self._old_batches: Iterator[pa.RecordBatch] | None = None  # the old file's rows
        self._publishing: Future[None] | None = None
        self.last_rows = 0  # rows (or index entries) the last step handled
        self._writer: pq.ParquetWriter | None = None
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.needed = self._needed()
        self.done = not self.needed

    def _needed(self) -> bool:
        """Cheap: is there anything to look at (the late-row scan is done in steps)."""
        ts, table = self.kind.ts, self.kind.name
        day = (self.day, self.day + DAY_MS)
        if self.kind.append:
            row = self.conn.execute(
                f"SELECT 1 FROM {table} WHERE {ts} >= ? AND {ts} < ? AND rowid > ? "
                "AND rowid <= ? LIMIT 1", (*day, 0, self.upto)).fetchone()
            return row is not None
        count, newest = self.conn.execute(
            f"SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM {table} WHERE {ts} >= ? "
            f"AND {ts} < ? AND rowid <= ?", (*day, self.upto)).fetchone()
        if self.old is None:
            return count > 0
        # a replaced row has a new rowid (> max_rowid); a moved one lowers the count
        return newest > self.old.max_rowid or count != self.old.rows

    def still_valid(self) -> bool:
        """False if someone else replaced the day file since this export started."""
        if self._publishing is not None or self.published:
            return True  # the replacement is our own
        return file_signature(self.path) == self.signature

    def step(self, limit: int | None = None) -> bool:
        """One bounded unit of work (at most ``limit`` rows, default ``batch_rows``);
        True once finished (published, or nothing to do)."""
        limit = limit or self.batch_rows
        self.last_rows = 0
        if self.done:
            return True
        if self._publishing is not None:  # fsync + rename run off this thread
            if not self._publishing.done():
                return False
            self._publishing.result()  # raises what the publisher met
            self._publishing = None
            self.done = self.published = True
            return True
        if self._late is None:
            return self._scan_step(limit)
        if self._writer is None:
            self._open_writer()
        if self._old_batches is not None:
            batch = next(self._old_batches, None)
            if batch is not None:
                self._writer.write_batch(batch.cast(self.kind.schema))
                self.last_rows = batch.num_rows
                return False
            self._old_batches = None
        rows = self._next_rows(limit)
        if rows:
            self._writer.write_table(arrow_table(rows, self.kind.schema))
            self.rows_written += len(rows)
            self.last_rows = len(rows)
        if len(rows) == limit:
            return False
        self._finish()
        return False

    def _scan_step(self, limit: int) -> bool:
        """Read ``limit`` index entries of the day; collect rowids after the file's."""
        ts = self.kind.ts
        entries = self.conn.execute(
            f"SELECT {ts}, rowid FROM {self.kind.name} WHERE {ts} >= ? AND {ts} < ? "
            f"AND ({ts}, rowid) > (?, ?) ORDER BY {ts}, rowid LIMIT ?",
            (self.day, self.day + DAY_MS, *self._cursor, limit)).fetchall()
        self.last_rows = len(entries) // 10  # index-only: about a tenth of a row's cost
        if entries:
            self._cursor = entries[-1]
            self._found += [r for _, r in entries if self.base < r <= self.upto]
        if len(entries) == limit:
            return False
        self._late = self._found
        if not self._late:  # the file already holds the whole day
            self.done = True
            return True
        self._old_batches = pq.ParquetFile(self.path).iter_batches(batch_size=self.batch_rows)
        return False

    def _next_rows(self, limit: int) -> list[tuple]:
        """The next ``limit`` journal rows to append, in time order."""
        ts, table = self.kind.ts, self.kind.name
        if self._late:
            chunk, self._late = self._late[:limit], self._late[limit:]
            marks = ", ".join("?" * len(chunk))
            return self.conn.execute(
                f"SELECT {self._cols} FROM {table} WHERE rowid IN ({marks}) "
                f"ORDER BY {ts}, rowid", chunk).fetchall()
        if self.base:  # appending: the late rows were all there was
            return []
        rows = self.conn.execute(
            f"SELECT {ts}, rowid, {self._cols} FROM {table} WHERE {ts} >= ? AND {ts} < ? "
            f"AND rowid <= ? AND ({ts}, rowid) > (?, ?) ORDER BY {ts}, rowid LIMIT ?",
            (self.day, self.day + DAY_MS, self.upto, *self._cursor, limit),
        ).fetchall()
        if rows:
            self._cursor = (rows[-1][0], rows[-1][1])
        return [r[2:] for r in rows]

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta = {META_MAX_ROWID: str(self.upto).encode(), b"rugsd.kind": self.kind.name.encode()}
        self._writer = pq.ParquetWriter(
            self._tmp, self.kind.schema.with_metadata(meta), compression="zstd")

    def _finish(self) -> None:
        """Close the file and hand its fsync + rename to the publisher thread: an fsync
        can take long on a busy disk, and the daemon's loop must not wait for it."""
        assert self._writer is not None
        self._writer.close()
        self._writer = None
        if not self.still_valid():
            self.abort()
            raise DatasetError(f"{self.path} changed during the export; it will be redone")
        self._publishing = _publisher().submit(publish, self._tmp, self.path)

    def abort(self) -> None:
        """Drop the unfinished temp file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._tmp.unlink(missing_ok=True)
        self.done = True

    def wait_published(self) -> None:
        """Block until a handed-off publish is done (CLI; the daemon polls ``step``)."""
        if self._publishing is not None:
            self._publishing.result()

    def run(self) -> int:
        """All steps; returns the journal rows written."""
        try:
            while not self.step():
                self.wait_published()
        except BaseException:
            self.abort()
            raise
        return self.rows_written


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
    progress: Callable[[str, int, int], None] | None = None,
) -> ExportSummary:
    """Bring every day file up to date with the journal (days at or after ``since_ms``);
    ``progress(kind, days done, days)`` after each day file (a progress bar)."""
    names = [k.name for k in KINDS]
    summary = ExportSummary(dict.fromkeys(names, 0), dict.fromkeys(names, 0),
                            dict.fromkeys(names, 0))
    with dataset_lock(dataset_dir, lock_timeout_s):
        remove_stale_temps(dataset_dir)
        for kind in KINDS:
            (dataset_dir / kind.name).mkdir(parents=True, exist_ok=True)
            days = list(journal_days(conn, kind, since_ms))
            for done, day in enumerate(days, 1):
                job = DayExport(conn, dataset_dir, kind, day, batch_rows)
                summary.rows_written[kind.name] += job.run()
                if job.published:
                    summary.files_written[kind.name] += 1
                else:
                    summary.days_unchanged[kind.name] += 1
                if progress is not None:
                    progress(kind.name, done, len(days))
    return summary


def export_data_dir(
    data_dir: Path, since_ms: int | None = None, lock_timeout_s: float = 30.0,
    progress: Callable[[str, int, int], None] | None = None,
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
                               lock_timeout_s=lock_timeout_s, progress=progress)
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise JournalError(f"cannot read journal {journal}: {err}") from None
