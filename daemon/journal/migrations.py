"""Journal schema versions and the forward migrations between them, all in one place.

The version lives in ``PRAGMA user_version``. Journals written before versioning have
``user_version = 0`` and rugsd tables: they are version 1. A new journal is created at
``SCHEMA_VERSION`` directly from the table specs (``schema.TABLES``); an older one is
brought forward by the steps in ``_STEPS``, each written out as the SQL of its day (so a
later change of a spec never rewrites history), in one transaction with the version
bump: a crash mid-migration leaves the journal at its old version, intact.
``tests/daemon/journal/test_journal_migrations.py`` proves a migrated journal has
exactly the schema of a new one.

Versions:

- 1: runs, decisions, orders, fills, positions, risk_events, kill_events,
  operator_commands, games (no version stamp).
- 2: ``ticks`` table (ticks are journaled, batched with decisions); ``ts_ms`` indexes
  on ticks and decisions (retention, export by day, report windows).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from rugsd.daemon.journal.errors import JournalOpenError
from rugsd.daemon.journal.schema import TABLES

SCHEMA_VERSION = 2
LEGACY_VERSION = 1  # user_version 0 with rugsd tables: written before versioning
_RUGSD_TABLES = frozenset(spec.name for spec in TABLES)


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    conn.execute(
        'CREATE TABLE IF NOT EXISTS "ticks" ("run_id" TEXT NOT NULL, "ts_ms" INTEGER NOT NULL,'
        ' "game_id" TEXT, "tick" INTEGER NOT NULL, "price" REAL, "phase" TEXT) STRICT'
    )
    conn.execute('CREATE INDEX IF NOT EXISTS "idx_ticks_ts_ms" ON "ticks" ("ts_ms")')
    conn.execute('CREATE INDEX IF NOT EXISTS "idx_decisions_ts_ms" ON "decisions" ("ts_ms")')


# from-version -> the step that brings a journal to from-version + 1
_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}


def tables_of(conn: sqlite3.Connection) -> set[str]:
    """The rugsd tables present in the database."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} & _RUGSD_TABLES


def version_of(conn: sqlite3.Connection) -> int:
    """The journal's schema version: 0 for a database without rugsd tables."""
    stamped = conn.execute("PRAGMA user_version").fetchone()[0]
    if stamped:
        return int(stamped)
    return LEGACY_VERSION if tables_of(conn) else 0


def create_schema(conn: sqlite3.Connection) -> None:
    """Every table and index of the current version, from the specs (idempotent).

    Plain statements in the caller's transaction (sqlite-utils only writes the SQL).
    """
    db = sqlite_utils.Database(conn)
    for spec in TABLES:
        conn.execute(
            db.create_table_sql(
                spec.name,
                spec.columns,
                pk=spec.pk,
                not_null=set(spec.not_null),
                if_not_exists=True,
                strict=True,
            )
        )
        for cols in spec.indexes:
            name = f"idx_{spec.name}_{'_'.join(cols)}"  # sqlite-utils' index names
            quoted = ", ".join(f'"{c}"' for c in cols)
            conn.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{spec.name}" ({quoted})')


def _missing(conn: sqlite3.Connection) -> bool:
    """A table or index of the specs is not in the database."""
    have = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    want = {spec.name for spec in TABLES} | {
        f"idx_{spec.name}_{'_'.join(cols)}" for spec in TABLES for cols in spec.indexes}
    return not want <= have


def prepare(conn: sqlite3.Connection) -> tuple[int, int]:
    """Create or migrate the schema; returns (version found, version now).

    After the steps, any table or index of the specs still missing is created (an
    additive table needs no step of its own). A new database also gets
    ``auto_vacuum=INCREMENTAL`` (it can only be set before the first table), so
    compaction can hand freed pages back to the filesystem in small steps. Raises
    ``JournalOpenError`` for a journal newer than this rugsd.
    """
    found = version_of(conn)
    if found > SCHEMA_VERSION:
        raise JournalOpenError(
            f"journal schema v{found} is newer than this rugsd understands (v{SCHEMA_VERSION})",
            "run the rugsd version that wrote it, or upgrade rugsd",
        )
    if found == SCHEMA_VERSION and not _missing(conn):
        return found, found
    if found == 0:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if found:  # an existing journal: its steps, in order
            for version in range(found, SCHEMA_VERSION):
                _STEPS[version](conn)
        create_schema(conn)  # a new journal, or what an additive change left missing
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found, SCHEMA_VERSION
