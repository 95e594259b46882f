"""Opening the journal at start: refuse what would silently lose history.

``open_checked`` is the only way the daemon (and ``rugsd replay``) opens a journal. It
refuses, with one line and a recovery hint (``JournalOpenError``):

- a **missing** journal in a data dir that has run before — its ``journal.marker``
  (written when the journal is created) or a Parquet dataset shows it — instead of
  silently starting a fresh 1 SOL account without the history and the loss budgets;
- an **empty** journal (0 bytes and no WAL, or a database without rugsd tables);
- a **corrupt** one: not an sqlite file, or ``PRAGMA quick_check`` (default; ``full``
  runs ``integrity_check``) does not answer ``ok``;
- one written by a **newer** rugsd (schema version above ours).

``new_journal=True`` (``rugsd run --new-journal``) starts fresh on purpose: an existing
journal is never deleted, it is renamed ``journal.replaced-<UTC time>.sqlite`` (with its
WAL) and the daemon journals the replacement. A new journal is built under a temporary
name and renamed into place, so a crash never leaves a half-created ``journal.sqlite``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import structlog

from rugsd.daemon.journal.errors import JournalOpenError
from rugsd.daemon.journal.migrations import SCHEMA_VERSION, prepare, tables_of
from rugsd.daemon.journal.store import JOURNAL_FILE, Journal

log = structlog.get_logger(__name__)

MARKER_FILE = "journal.marker"
SQLITE_HEADER = b"SQLite format 3\x00"
CheckMode = Literal["quick", "full", "off"]
_DATASET_KINDS = ("ticks", "decisions", "games")
_HINT_FRESH = "start fresh on purpose with `rugsd run --new-journal` (the old file is kept)"
_HINT_NEW = "start fresh on purpose with `rugsd run --new-journal`"


@dataclass(frozen=True, slots=True)
class Opened:
    """How the journal was opened (the daemon logs it and journals a replacement)."""

    created: bool  # a new, empty journal was created
    new_journal: bool  # --new-journal was asked
    replaced: Path | None  # where --new-journal moved the previous journal
    schema_from: int  # version found (0: new)
    schema_version: int
    check: str  # the check that ran: quick | full | off | new
    check_ms: float


def utc_stamp() -> str:
    """A file-name-safe UTC timestamp (``20261205T192200Z``)."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def history_evidence(data_dir: Path) -> str | None:
    """What shows that ``data_dir`` has run before (None: a new data dir)."""
    if (data_dir / MARKER_FILE).exists():
        return MARKER_FILE
    for kind in _DATASET_KINDS:
        found = next((data_dir / "dataset" / kind).glob("*.parquet"), None)
        if found is not None:
            return str(found.relative_to(data_dir))
    return None


def set_aside(path: Path, why: str) -> Path:
    """Rename the journal and its WAL/SHM to ``journal.<why>-<UTC>.sqlite``; returns it."""
    target = path.with_name(f"{path.stem}.{why}-{utc_stamp()}{path.suffix}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.stem}.{why}-{utc_stamp()}-{n}{path.suffix}")
        n += 1
    for suffix in ("-wal", "-shm"):  # the WAL first: it belongs to the main file
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    os.replace(path, target)
    _fsync_dir(path.parent)
    return target


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_file(path: Path) -> None:
    """Refuse an empty or non-sqlite journal file (cheap: reads 16 bytes)."""
    size = path.stat().st_size
    wal = _wal(path)
    if size == 0:
        if wal.exists() and wal.stat().st_size > 0:
            return  # a journal that never checkpointed: everything is in its WAL
        raise JournalOpenError(
            f"journal {path} is empty (0 bytes): its history and loss budgets are gone",
            f"restore it from a backup, or {_HINT_FRESH}",
        )
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise JournalOpenError(
            f"journal {path} is corrupt (not an sqlite database)",
            f"restore it from a backup, or {_HINT_FRESH}",
        )


def integrity(path: Path, mode: CheckMode) -> float:
    """Run ``quick_check`` / ``integrity_check`` before anything writes; returns its ms.

    Also refuses a database without rugsd tables (an empty journal).
    """
    t0 = time.perf_counter()
    try:
        conn = sqlite3.connect(path, timeout=5.0)
        try:
            if not tables_of(conn):
                raise JournalOpenError(
                    f"journal {path} is empty (no rugsd tables)",
                    f"restore it from a backup, or {_HINT_FRESH}",
                )
            if mode != "off":
                pragma = "quick_check" if mode == "quick" else "integrity_check"
                rows = conn.execute(f"PRAGMA {pragma}(3)").fetchall()
                if [r[0] for r in rows] != ["ok"]:
                    detail = "; ".join(
                        line for r in rows for line in str(r[0]).splitlines()
                        if line and not line.startswith("***"))
                    raise JournalOpenError(
                        f"journal {path} is corrupt ({pragma}: {detail})",
                        f"restore a backup, or salvage it with `sqlite3 {path.name} .recover`,"
                        f" or {_HINT_FRESH}",
                    )
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise JournalOpenError(
            f"journal {path} is corrupt ({err})",
            f"restore a backup, or salvage it with `sqlite3 {path.name} .recover`, or "
            f"{_HINT_FRESH}",
        ) from None
    return (time.perf_counter() - t0) * 1e3


def create_new(path: Path) -> None:
    """Create an empty journal at ``path`` atomically (temp name, then rename)."""
    tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
    for stale in (tmp, _wal(tmp), tmp.with_name(tmp.name + "-shm")):
        stale.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        prepare(conn)  # auto_vacuum, tables, indexes, user_version (rollback journal)
    finally:
        conn.close()
    os.chmod(tmp, 0o600)
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_marker(data_dir: Path) -> None:
    """``journal.marker``: this data dir has a journal (its loss is then refused)."""
    marker = data_dir / MARKER_FILE
    if not marker.exists():
        marker.write_text(
            f"rugsd journal {JOURNAL_FILE} in use since {utc_stamp()} (schema v"
            f"{SCHEMA_VERSION}).\nIf {JOURNAL_FILE} goes missing, rugsd refuses to start "
            "rather than open a fresh account; see docs/reliability.md.\n"
        )


def open_checked(
    data_dir: Path,
    *,
    new_journal: bool = False,
    check: CheckMode = "quick",
    **journal_kwargs: object,
) -> tuple[Journal, Opened]:
    """Check, create or migrate, and open ``DATA_DIR/journal.sqlite``.

    ``journal_kwargs`` go to ``Journal`` (batching, durability). Raises
    ``JournalOpenError`` (one line with a hint) instead of opening anything unsafe.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / JOURNAL_FILE
    replaced = None
    if new_journal and (path.exists() or _wal(path).exists()):
        path.touch()  # a lone WAL still gets its main file moved with it
        replaced = set_aside(path, "replaced")
        log.warning("journal set aside (--new-journal)", kept_as=str(replaced))
    created, check_ms, ran = False, 0.0, check
    if not path.exists():
        evidence = history_evidence(data_dir)
        if evidence is not None and not new_journal:
            raise JournalOpenError(
                f"journal {path} is missing but {data_dir} has run before ({evidence})",
                f"restore {JOURNAL_FILE} from a backup, or {_HINT_NEW}",
            )
        create_new(path)
        created, ran = True, "new"
    else:
        check_file(path)
        check_ms = integrity(path, check)
    journal = Journal(path, **journal_kwargs)  # type: ignore[arg-type]
    write_marker(data_dir)
    opened = Opened(created, new_journal, replaced, 0 if created else journal.schema_from,
                    journal.schema_version, ran, round(check_ms, 1))
    if journal.schema_from not in (0, journal.schema_version):
        log.info("journal migrated", schema_from=journal.schema_from,
                 schema_version=journal.schema_version)
    return journal, opened
