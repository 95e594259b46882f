"""The Parquet day files of the dataset: kinds, names, footers, the writers' lock, and the
journal's days.

``dataset/<kind>/day-YYYY-MM-DD.parquet`` holds one kind's rows of one UTC day. Its
Parquet metadata ``rugsd.max_rowid = m`` states what it holds: every row of that day
with ``rowid <= m`` — rowids only grow (compaction never deletes a table's newest row,
so none is reused). Writers (``export``, ``compact``) hold ``dataset/.lock``.
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

from rugsd.daemon.journal.dataset import DECISIONS_SCHEMA, GAMES_SCHEMA, TICKS_SCHEMA
from rugsd.daemon.journal.errors import DatasetError, unreadable
from rugsd.risk.killswitch import pid_alive

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


def file_signature(path: Path) -> tuple[int, int, int] | None:
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


def remove_stale_temps(dataset_dir: Path) -> int:
    """Delete temp files of exports whose process is gone; returns how many."""
    removed = 0
    for kind in KINDS:
        for tmp in (dataset_dir / kind.name).glob(".day-*.tmp"):
            pid = tmp.name.rsplit(".", 2)[-2]
            if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed

