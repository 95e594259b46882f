"""The sqlite journal: every decision, order, fill, position and risk event of the daemon.

Durability model (WAL, ``synchronous=NORMAL`` by default):

- In WAL mode with ``synchronous=NORMAL`` a commit has been *written* to the WAL file
  (the OS page cache) when ``COMMIT`` returns, but not fsynced. That survives a crash of
  the process (``kill -9``, an exception, OOM kill) — which is what recovery is built
  for — but the last transactions may be lost on power loss or an OS crash.
- Writes that guard against doing something twice or forgetting a stop are committed
  with ``synchronous=FULL`` (fsync of the WAL before ``COMMIT`` returns) when
  ``durable=True`` (the default): the order intent (``record_order_intent``: the order
  must be on disk *before* it is sent, so a restart never re-sends it) and kill events
  (the kill switch is latched and must survive anything). Fills, positions, order
  status updates and risk events commit immediately with NORMAL: after a power loss
  the venue (``playerUpdate``) is the truth for balances anyway. ``bench/journal.py``
  measures what FULL costs per order on this machine.
- Decisions and ticks are batched in memory and written with ``executemany`` every
  ``batch_size`` records, when the batch is older than ``flush_interval_ms`` of
  wall-clock (monotonic) time, before any immediate write (so the decision that led to
  an order is on disk before it), on ``flush_due()`` (the daemon's 100 ms timer: a
  silent feed does not hold a batch back) and on ``flush()`` / ``close()``. A crash
  (``kill -9``) loses at most that pending batch: live, at most ``flush_interval_ms``
  (1 s: ~4 ticks and ~4 decisions); a game's last ticks commit with its ``GameRecord``.
  In a replay (event time runs fast) the batch size bounds it, so replays keep the
  batched write rate. The clock only groups commits: what is written never depends on it.

Every write either commits or raises ``JournalWriteError`` (``rugsd.daemon.journal.errors``):
disk full and I/O errors keep the pending batch for the next attempt (bounded to
``_MAX_PENDING_BATCHES`` batches); a record sqlite cannot store (an integer beyond 64
bits...) is dropped from the batch alone, counted in ``bad_records``, and reported by
the raise, so one poisoned record cannot block the kill events and orders behind it.

The Parquet dataset is not written here: it is exported from these tables
(``rugsd.daemon.journal.export``), and compaction prunes old decisions and ticks once
their day file is durable (``rugsd.daemon.journal.compact``).

A ``Journal`` is not thread-safe: use it from one thread (the daemon's loop thread).
If a write of an order intent raises, the order must not be sent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Self

import sqlite_utils
import structlog

from rugsd.daemon.journal.batch import DATA_ERRORS, PendingBatch
from rugsd.daemon.journal.errors import JournalOpenError, JournalWriteError
from rugsd.daemon.journal.migrations import prepare
from rugsd.daemon.journal.records import (
    AuditRecord,
    DecisionRecord,
    FillRecord,
    GameRecord,
    KillEvent,
    OperatorCommand,
    OrderRecord,
    OrderStatus,
    PositionSnapshot,
    Record,
    RiskEvent,
    RunStarted,
    TickRecord,
)
from rugsd.daemon.journal.schema import (
    DECISIONS,
    FILLS,
    GAMES,
    KILL_EVENTS,
    ORDERS,
    POSITIONS,
    RUNS,
    SPEC_BY_RECORD,
    TABLES,
    TICKS,
    TableSpec,
)

log = structlog.get_logger(__name__)

JOURNAL_FILE = "journal.sqlite"
_ORDER_STATUSES = frozenset(s.value for s in OrderStatus)
# pending rows kept across failed flushes before the oldest are dropped
_MAX_PENDING_BATCHES = 10


class Journal:
    """Append-only sqlite journal (WAL) with batched decisions/ticks and durable orders.

    ``write(record)`` dispatches by type. Orders, fills, positions, risk, kill and
    operator events and runs/games commit immediately; decisions and ticks are batched.
    Opening creates or migrates the schema (``migrations.prepare``); ``schema_from`` /
    ``schema_version`` say what was found and what it is now.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 1000,
        flush_interval_ms: int = 1000,
        durable: bool = True,
        keep_features: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_size = max(1, batch_size)
        self.flush_interval_ms = flush_interval_ms
        self.durable = durable
        self.keep_features = keep_features
        # autocommit mode: transactions are explicit BEGIN/COMMIT below
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self.conn.execute("PRAGMA busy_timeout=5000")
            # schema first: a new file's auto_vacuum must be set before WAL writes page 1
            self.schema_from, self.schema_version = prepare(self.conn)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as err:
            self.conn.close()
            raise JournalOpenError(
                f"cannot open journal {self.path}: {err}",
                "see docs/reliability.md (recovery from a corrupt journal)",
            ) from None
        except BaseException:
            self.conn.close()
            raise
        self.db = sqlite_utils.Database(self.conn)
        self.opened: Any = None  # opening.Opened when opened through the start checks
        self._batch = PendingBatch((DECISIONS.name, TICKS.name))
        self._clock = clock
        self._flush_interval_s = flush_interval_ms / 1000
        self._closed = False
        self.counters: dict[str, int] = {
            "decisions": 0,
            "decision_batches": 0,
            "orders": 0,
            "orders_duplicate": 0,
            "fills": 0,
            "positions": 0,
            "events": 0,
            "ticks": 0,
            "bad_records": 0,
            "write_errors": 0,
            "decisions_dropped": 0,
            "ticks_dropped": 0,
            "batch_write_outages": 0,  # runs of failed batch flushes (e.g. a full disk)
        }
        self._failed_flushes = 0  # in the current outage: logged once, counted always
        self._dispatch = {
            DecisionRecord: self._write_decision,
            OrderRecord: self._write_order,
            FillRecord: self._write_now,
            PositionSnapshot: self._write_position,
            RiskEvent: self._write_now,
            KillEvent: self._write_kill,
            OperatorCommand: self._write_now,
            RunStarted: self._write_run,
            GameRecord: self._write_game,
            TickRecord: self._write_tick,
            AuditRecord: self._write_now,
        }
        self._sql = {spec.record: spec.insert_sql() for spec in TABLES}
        self._batch_sql = {spec.name: spec.insert_sql() for spec in (DECISIONS, TICKS)}
        self._position_sql = (
            "INSERT INTO positions ("
            + ", ".join((*POSITIONS.field_names, "last_fill_id"))
            + ") VALUES ("
            + ", ".join("?" * len(POSITIONS.field_names))
            + ", (SELECT COALESCE(MAX(id), 0) FROM fills))"
        )

    # -- writing ------------------------------------------------------------------------

    def write(self, record: Record) -> None:
        """Journal ``record`` (dispatch by type). Unknown types are counted and logged.

        Raises ``JournalWriteError`` when a commit fails (see the module docstring).
        """
        handler = self._dispatch.get(type(record))
        if handler is None:
            self.counters["bad_records"] += 1
            log.warning("journal_bad_record", type=type(record).__name__)
            return
        handler(record)

    def write_many(self, records: Iterable[Record]) -> None:
        """``write`` each record in order."""
        for record in records:
            self.write(record)

    def _write_decision(self, record: DecisionRecord) -> None:
        row = DECISIONS.to_row(record)
        if not self.keep_features and record.features is not None:
            row = (*row[:8], None, *row[9:])  # cheaper than dataclasses.replace
        self._batched(DECISIONS.name, row)

    def _write_tick(self, record: TickRecord) -> None:
        self._batched(TICKS.name, TICKS.to_row(record))

    def _batched(self, table: str, row: tuple[Any, ...]) -> None:
        now = self._clock()
        batch = self._batch
        batch.add(table, row, now)
        # batch.due() inlined: this runs for every tick and decision
        if batch.n >= self.batch_size or now - batch.since >= self._flush_interval_s:
            self.flush()

    def _transaction(self, sql: str | None, row: tuple[Any, ...] | None,
                     *, full: bool = False, batch: bool = False) -> int:
        """One transaction: the pending batch (``batch``) or one statement; returns the
        statement's rowcount. Raises the underlying error, rolled back."""
        if self._closed:
            raise JournalWriteError(f"journal {self.path} is closed")
        count = 0
        if full:
            self.conn.execute("PRAGMA synchronous=FULL")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if batch:
                    self._batch.insert_all(self.conn, self._batch_sql)
                if sql is not None:
                    count = self.conn.execute(sql, row).rowcount
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # some errors already rolled back
                    self.conn.execute("ROLLBACK")
                raise
        finally:
            if full:
                self.conn.execute("PRAGMA synchronous=NORMAL")
        return count

    def _commit(self, sql: str, row: tuple[Any, ...], *, full: bool = False) -> int:
        """Flush the pending batch, then commit one statement; returns its rowcount."""
        self.flush()
        try:
            return self._transaction(sql, row, full=full)
        except (sqlite3.Error, *DATA_ERRORS) as err:
            self.counters["write_errors"] += 1
            raise JournalWriteError(f"journal write failed: {err}") from err

    def flush(self) -> None:
        """Commit the pending decision and tick batch now (one transaction).

        Raises ``JournalWriteError`` if it did not commit: after a disk or I/O error the
        batch is kept for the next attempt (bounded to ``_MAX_PENDING_BATCHES`` batches,
        the oldest dropped and counted beyond that); a row sqlite cannot store is dropped
        alone (``bad_records``) and the rest of the batch is committed.
        """
        if not len(self._batch):
            return
        try:
            self._transaction(None, None, batch=True)
        except DATA_ERRORS:
            self._commit_row_by_row()
            return
        except sqlite3.Error as err:
            raise self._failed_batch(err) from err
        self._batch_committed()

    def flush_due(self) -> None:
        """Flush if the pending batch is older than ``flush_interval_ms`` (timer hook)."""
        if self._batch.due(self._clock(), self.batch_size, self._flush_interval_s):
            self.flush()

    def _batch_committed(self) -> None:
        counts = self._batch.clear()
        if self._failed_flushes:
            log.warning("journal_batch_write_recovered", failed_flushes=self._failed_flushes)
            self._failed_flushes = 0
        self.counters["decisions"] += counts[DECISIONS.name]
        self.counters["ticks"] += counts[TICKS.name]
        self.counters["decision_batches"] += 1

    def _failed_batch(self, err: BaseException) -> JournalWriteError:
        """Keep the batch for the next attempt (bounded); the error to raise."""
        self.counters["write_errors"] += 1
        dropped = self._batch.bound(_MAX_PENDING_BATCHES * self.batch_size)
        self.counters["decisions_dropped"] += dropped[DECISIONS.name]
        self.counters["ticks_dropped"] += dropped[TICKS.name]
        if not self._failed_flushes:  # a due batch is retried on every tick: log the outage
            self.counters["batch_write_outages"] += 1
            log.error("journal_batch_write_failed", error=str(err), pending=len(self._batch),
                      note="logged once per outage; write_errors counts every attempt")
        self._failed_flushes += 1
        return JournalWriteError(f"journal write failed: {err}")

    def _commit_row_by_row(self) -> None:
        """A batch holding a row sqlite cannot store: commit the others, drop that one."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                skipped = self._batch.insert_each(self.conn, self._batch_sql)
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise self._failed_batch(err) from err
        self._batch_committed()
        if skipped:
            self.counters["bad_records"] += len(skipped)
            self.counters["write_errors"] += 1
            log.error("journal_records_dropped", count=len(skipped), first=skipped[0])
            raise JournalWriteError(
                f"{len(skipped)} record(s) could not be journaled: {skipped[0]}"
            )

    def _write_now(self, record: Any) -> None:
        spec = SPEC_BY_RECORD[type(record)]
        self._commit(self._sql[type(record)], spec.to_row(record))
        self.counters["fills" if spec is FILLS else "events"] += 1

    def _write_position(self, record: PositionSnapshot) -> None:
        self._commit(self._position_sql, POSITIONS.to_row(record))
        self.counters["positions"] += 1

    def _write_kill(self, record: KillEvent) -> None:
        self._commit(self._sql[KillEvent], KILL_EVENTS.to_row(record), full=self.durable)
        self.counters["events"] += 1

    def _write_run(self, record: RunStarted) -> None:
        self._commit(RUNS.insert_sql("INSERT OR REPLACE"), RUNS.to_row(record))

    def _write_game(self, record: GameRecord) -> None:
        self._commit(GAMES.insert_sql("INSERT OR REPLACE"), GAMES.to_row(record))

    def _write_order(self, record: OrderRecord) -> None:
        if record.status == OrderStatus.SENT:
            self.record_order_intent(record)
            return
        # a terminal status for an order: insert it, or update the existing row
        self._commit(
            ORDERS.insert_sql() + " ON CONFLICT(order_id) DO UPDATE SET status=excluded.status,"
            " detail=excluded.detail, updated_ts_ms=excluded.ts_ms",
            ORDERS.to_row(record),
        )

    def maintain(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """One maintenance statement (compaction's prune) in its own transaction, after
        the pending batch; returns its rowcount. Raises ``JournalWriteError``."""
        return self._commit(sql, params)

    # -- orders (idempotency) -------------------------------------------------------------

    def record_order_intent(self, order: OrderRecord) -> bool:
        """Insert ``order`` with status "sent" BEFORE the executor sends it.

        Returns True if it was new (send it), False if this ``order_id`` is already in
        the journal ("already sent — do not send again"). Committed with
        ``synchronous=FULL`` when the journal is durable. Raises ``JournalWriteError``
        if the write fails: an order that is not journaled must not be sent.
        """
        row = ORDERS.to_row(order)
        row = (*row[:8], OrderStatus.SENT.value, *row[9:])
        inserted = self._commit(ORDERS.insert_sql("INSERT OR IGNORE"), row, full=self.durable)
        if inserted:
            self.counters["orders"] += 1
            return True
        self.counters["orders_duplicate"] += 1
        log.warning("journal_order_duplicate", order_id=order.order_id)
        return False

    def mark_order(
        self, order_id: str, status: str, detail: str = "", ts_ms: int | None = None
    ) -> bool:
        """Set an order's status (filled / rejected / failed / unknown); False if unknown id."""
        if status not in _ORDER_STATUSES:
            self.counters["bad_records"] += 1
            log.warning("journal_bad_order_status", order_id=order_id, status=status)
            return False
        updated = self._commit(
            "UPDATE orders SET status = ?, detail = ?, updated_ts_ms = ? WHERE order_id = ?",
            (str(status), detail, ts_ms, order_id),
        )
        if not updated:
            log.warning("journal_mark_unknown_order", order_id=order_id, status=status)
        return bool(updated)

    # -- reading --------------------------------------------------------------------------

    def records(
        self, record_type: type, where: str = "", params: Iterable[Any] = (), order: str = ""
    ) -> list[Any]:
        """Read back records of ``record_type`` (``where`` / ``order`` are SQL fragments).

        Pending decisions and ticks are flushed first so a read sees everything written.
        """
        self.flush()
        spec: TableSpec = SPEC_BY_RECORD[record_type]
        sql = spec.select_sql()
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order or 'rowid'}"  # every table is a rowid table
        return [spec.from_row(row) for row in self.conn.execute(sql, tuple(params))]

    def count(self, table: str) -> int:
        """Number of rows in ``table`` (after flushing pending decisions and ticks)."""
        self.flush()
        return self.db[table].count

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Flush, checkpoint the WAL and close (closed even when the flush raises)."""
        if self._closed:
            return
        try:
            self.flush()
            try:
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as err:  # the WAL stays: nothing is lost
                log.warning("journal_checkpoint_failed", error=str(err))
        finally:
            self._closed = True
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
