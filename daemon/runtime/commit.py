"""Journal one step's records before anything leaves the process.

Money never moves without its record on disk: an order is sent (browser, simulator
mirror) or released to the paper venue only once ``record_order_intent`` committed it;
every other record is written in order, and a record that cannot be written does not
stop the others (journal what can be journaled). The kill latch is tripped before the
``KillEvent`` is written, so a kill survives a journal that cannot take it.

The result says which orders may go out and what failed; the daemon turns any failure
into a ``Fault`` (KILLED) — see docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from rugsd.daemon.core.faults import describe_error
from rugsd.daemon.journal.records import KillEvent, OrderRecord, OrderStatus
from rugsd.daemon.journal.store import Journal

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Committed:
    """What journaling one step achieved."""

    allowed: list[str] = field(default_factory=list)  # intents on disk: send / release
    unsent: list[str] = field(default_factory=list)  # intents not on disk: never send
    errors: list[str] = field(default_factory=list)  # one line per failed write
    committed: bool = False  # at least one sqlite transaction committed

    @property
    def failed(self) -> bool:
        """True when any durable write of the step failed."""
        return bool(self.errors)


def commit_records(
    journal: Journal,
    records: Iterable[Any],
    trip_latch: Callable[[KillEvent], None],
) -> Committed:
    """Write ``records`` in order; never raises (failures are in the result)."""
    result = Committed()
    failed_flushes = journal.counters.get("write_errors", 0)
    written = _written(journal)
    for record in records:
        if isinstance(record, KillEvent):
            try:
                trip_latch(record)
            except Exception as err:  # noqa: BLE001 - the kill stays latched in memory
                result.errors.append(f"kill latch: {describe_error(err)}")
        intent = isinstance(record, OrderRecord) and record.status == OrderStatus.SENT.value
        try:
            if intent:
                if journal.record_order_intent(record):
                    result.allowed.append(record.order_id)
                else:
                    log.error("order id already journaled: not sent again",
                              order_id=record.order_id)
                continue
            journal.write(record)
        except Exception as err:  # noqa: BLE001 - a failed write is a fault, not a crash
            if intent:
                result.unsent.append(record.order_id)
            result.errors.append(f"{type(record).__name__}: {describe_error(err)}")
    try:  # a batch older than its interval commits now (the 100 ms clock steps too)
        journal.flush_due()
    except Exception as err:  # noqa: BLE001 - counted below like any failed flush
        result.errors.append(f"DecisionRecord batch: {describe_error(err)}")
    if journal.counters.get("write_errors", 0) > failed_flushes and not result.errors:
        # the journal keeps a failed decision batch for a retry and only counts it
        result.errors.append("DecisionRecord batch: write failed")
    result.committed = _written(journal) > written
    return result


def _written(journal: Journal) -> int:
    """Rows committed so far (decisions count only once their batch committed)."""
    c = journal.counters
    return sum(c.get(key, 0) for key in ("decisions", "orders", "fills", "positions", "events"))
