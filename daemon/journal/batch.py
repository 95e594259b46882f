"""The journal's pending batch: decision and tick rows waiting for one commit.

Kept apart from the store so the rules are in one place: when a batch is due (size or
age), how it is bounded when the disk refuses it, and how a row sqlite cannot store is
singled out without losing the rows around it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

Row = tuple[Any, ...]

# errors of one row's values (not of the disk): that row is dropped alone
DATA_ERRORS: tuple[type[BaseException], ...] = (
    OverflowError, TypeError, ValueError, sqlite3.IntegrityError, sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
)


class PendingBatch:
    """Rows per table (decisions, ticks) and when the batch started (``clock()`` time)."""

    __slots__ = ("n", "rows", "since")

    def __init__(self, tables: tuple[str, ...]) -> None:
        self.rows: dict[str, list[Row]] = {t: [] for t in tables}
        self.since: float | None = None
        self.n = 0  # rows held (kept up to date: checked on every record)

    def __len__(self) -> int:
        return self.n

    def add(self, table: str, row: Row, now: float) -> None:
        """Append a row; the batch's age starts with its first row."""
        self.rows[table].append(row)
        self.n += 1
        if self.since is None:
            self.since = now

    def due(self, now: float, size: int, interval_s: float) -> bool:
        """Full, or older than ``interval_s``."""
        return self.since is not None and (self.n >= size or now - self.since >= interval_s)

    def clear(self) -> dict[str, int]:
        """Empty the batch; returns the rows per table it held."""
        counts = {t: len(r) for t, r in self.rows.items()}
        for rows in self.rows.values():
            rows.clear()
        self.since = None
        self.n = 0
        return counts

    def bound(self, limit: int) -> dict[str, int]:
        """Keep the newest ``limit`` rows per table; returns how many were dropped."""
        dropped = {}
        for table, rows in self.rows.items():
            dropped[table] = max(0, len(rows) - limit)
            if dropped[table]:
                del rows[: dropped[table]]
        self.n = sum(len(r) for r in self.rows.values())
        return dropped

    def insert_all(self, conn: sqlite3.Connection, sql: dict[str, str]) -> None:
        """``executemany`` per table (inside the caller's transaction)."""
        for table, rows in self.rows.items():
            if rows:
                conn.executemany(sql[table], rows)

    def insert_each(self, conn: sqlite3.Connection, sql: dict[str, str]) -> list[str]:
        """Insert row by row, skipping rows sqlite cannot store; returns what was skipped
        (inside the caller's transaction). The skipped rows are removed from the batch."""
        skipped: list[str] = []
        for table, rows in self.rows.items():
            kept = []
            for row in rows:
                try:
                    conn.execute(sql[table], row)
                    kept.append(row)
                except DATA_ERRORS as err:
                    skipped.append(f"{table} row {row[:5]!r}: {err}")
            self.rows[table] = kept
        self.n = sum(len(r) for r in self.rows.values())
        return skipped
