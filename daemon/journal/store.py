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
- Decisions are batched in memory and written with ``executemany`` every
  ``batch_size`` records, when the batch is older than ``flush_interval_ms`` of
  wall-clock (monotonic) time, before any immediate write (so the decision that led to
  an order is on disk with it), and on ``flush()`` / ``close()``. A crash loses at most
  that pending batch: live, about one second of decisions; in a replay (event time runs
  fast) the batch size bounds it, so replays keep the batched write rate. The clock
  only groups commits: what is written never depends on it.

Ticks (``TickRecord``) are not stored in sqlite; they go to the Parquet dataset when a
``DatasetWriter`` is attached (decisions and games go to both).

A ``Journal`` is not thread-safe: use it from one thread (the daemon's loop thread).
If a write of an order intent raises, the order must not be sent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import sqlite_utils
import structlog

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
    TableSpec,
)

if TYPE_CHECKING:
    from rugsd.daemon.journal.dataset import DatasetWriter

log = structlog.get_logger(__name__)

JOURNAL_FILE = "journal.sqlite"
_ORDER_STATUSES = frozenset(s.value for s in OrderStatus)
# pending decisions kept across failed flushes before the oldest are dropped
_MAX_PENDING_BATCHES = 10


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table and index if missing (idempotent)."""
    db = sqlite_utils.Database(conn)
    for spec in TABLES:
        db[spec.name].create(
            spec.columns,
            pk=spec.pk,
            not_null=set(spec.not_null),
            if_not_exists=True,
            strict=True,
        )
        for cols in spec.indexes:
            db[spec.name].create_index(list(cols), if_not_exists=True)


class Journal:
    """Append-only sqlite journal (WAL) with batched decisions and durable orders.

    ``write(record)`` dispatches by type. Orders, fills, positions, risk, kill and
    operator events and runs/games commit immediately; decisions are batched.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 1000,
        flush_interval_ms: int = 1000,
        durable: bool = True,
        keep_features: bool = True,
        dataset: DatasetWriter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_size = max(1, batch_size)
        self.flush_interval_ms = flush_interval_ms
        self.durable = durable
        self.keep_features = keep_features
        self.dataset = dataset
        # autocommit mode: transactions are explicit BEGIN/COMMIT below
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        create_schema(self.conn)
        self.db = sqlite_utils.Database(self.conn)
        self._pending: list[tuple[Any, ...]] = []
        self._pending_since: float | None = None  # clock() when the batch started
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
        }
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
        self._position_sql = (
            "INSERT INTO positions ("
            + ", ".join((*POSITIONS.field_names, "last_fill_id"))
            + ") VALUES ("
            + ", ".join("?" * len(POSITIONS.field_names))
            + ", (SELECT COALESCE(MAX(id), 0) FROM fills))"
        )

    # -- writing ------------------------------------------------------------------------

    def write(self, record: Record) -> None:
        """Journal ``record`` (dispatch by type). Unknown types are counted and logged."""
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
        if not self.keep_features and record.features is not None:
            # dataclasses.replace would re-run __init__; cheaper to blank in the row
            row = list(DECISIONS.to_row(record))
            row[8] = None
            self._pending.append(tuple(row))
        else:
            self._pending.append(DECISIONS.to_row(record))
        if self.dataset is not None:
            self.dataset.write(record)
        now = self._clock()
        if self._pending_since is None:
            self._pending_since = now
        if (
            len(self._pending) >= self.batch_size
            or now - self._pending_since >= self._flush_interval_s
        ):
            self.flush()

    def _write_tick(self, record: TickRecord) -> None:
        self.counters["ticks"] += 1
        if self.dataset is not None:
            self.dataset.write(record)

    def _commit(self, sql: str | None, row: tuple[Any, ...] | None, *, full: bool = False) -> int:
        """One transaction: pending decisions plus one statement; returns its rowcount.

        The pending batch is cleared only once the transaction committed.
        """
        if self._closed:
            raise RuntimeError("journal is closed")
        pending = self._pending
        count = 0
        if full:
            self.conn.execute("PRAGMA synchronous=FULL")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if pending:
                    self.conn.executemany(self._sql[DecisionRecord], pending)
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
        if pending:
            self.counters["decisions"] += len(pending)
            self.counters["decision_batches"] += 1
            self._pending = []
            self._pending_since = None
        return count

    def flush(self) -> None:
        """Commit the pending decision batch.

        A failing write (disk full, I/O error) is logged and counted, never raised: the
        batch is kept for the next attempt, bounded to ``_MAX_PENDING_BATCHES`` batches.
        """
        if not self._pending:
            return
        try:
            self._commit(None, None)
        except sqlite3.Error as err:
            self.counters["write_errors"] += 1
            log.error("journal_decisions_write_failed", error=str(err), pending=len(self._pending))
            limit = _MAX_PENDING_BATCHES * self.batch_size
            if len(self._pending) > limit:
                self.counters["decisions_dropped"] += len(self._pending) - limit
                self._pending = self._pending[-limit:]

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
        if self.dataset is not None:
            self.dataset.write(record)

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

    # -- orders (idempotency) -------------------------------------------------------------

    def record_order_intent(self, order: OrderRecord) -> bool:
        """Insert ``order`` with status "sent" BEFORE the executor sends it.

        Returns True if it was new (send it), False if this ``order_id`` is already in
        the journal ("already sent — do not send again"). Committed with
        ``synchronous=FULL`` when the journal is durable. Raises if the write fails: an
        order that is not journaled must not be sent.
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

        Pending decisions are flushed first so a read sees everything written.
        """
        self.flush()
        spec: TableSpec = SPEC_BY_RECORD[record_type]
        sql = spec.select_sql()
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order or 'rowid'}"  # every table is a rowid table
        return [spec.from_row(row) for row in self.conn.execute(sql, tuple(params))]

    def count(self, table: str) -> int:
        """Number of rows in ``table`` (after flushing pending decisions)."""
        self.flush()
        return self.db[table].count

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Flush, close the attached dataset writer, checkpoint the WAL and close."""
        if self._closed:
            return
        try:
            self.flush()
            if self.dataset is not None:
                self.dataset.close()
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._closed = True
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
