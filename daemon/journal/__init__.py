"""The journal: sqlite WAL record of everything the daemon decides and does (ticks
included), the Parquet training dataset exported from it, crash recovery, retention and
``rugsd report``.

Layout of a data dir::

    DATA_DIR/journal.sqlite     decisions, ticks, orders, fills, positions, risk/kill events...
    DATA_DIR/journal.marker     "this data dir has a journal" (its loss is refused at start)
    DATA_DIR/dataset/           Parquet exported from the journal: ticks/, decisions/, games/
                                (day-YYYY-MM-DD.parquet; older part-*.parquet files too)
    DATA_DIR/run/               pid file, kill latch, control socket (owned by the daemon)

Typical use by the daemon shell::

    journal = open_journal(settings.general.data_dir, settings)  # checked, migrated
    state = restore(journal, data_paths(data_dir).run_dir, modes=("paper",))
    journal.write(RunStarted(...))
    ...
    if journal.record_order_intent(order):   # on disk before it is sent
        executor.send(order)
    journal.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rugsd.daemon.config import JournalConfig
from rugsd.daemon.journal.dataset import DATASET_DIR, DatasetWriter
from rugsd.daemon.journal.errors import (
    DatasetError,
    JournalError,
    JournalOpenError,
    JournalWriteError,
)
from rugsd.daemon.journal.opening import Opened, open_checked
from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    GameRecord,
    KillEvent,
    KillSource,
    Mode,
    OperatorCommand,
    OrderRecord,
    OrderStatus,
    PositionSnapshot,
    Record,
    RiskEvent,
    RunStarted,
    TickRecord,
    Verdict,
    features_hash,
)
from rugsd.daemon.journal.recovery import JournaledEquity, RecoveredState, restore
from rugsd.daemon.journal.store import JOURNAL_FILE, Journal

if TYPE_CHECKING:
    from rugsd.daemon.config import Settings

RUN_DIR = "run"

__all__ = [
    "DataPaths",
    "DatasetError",
    "DatasetWriter",
    "DecisionRecord",
    "FillRecord",
    "GameRecord",
    "Journal",
    "JournalError",
    "JournalOpenError",
    "JournalWriteError",
    "JournaledEquity",
    "KillEvent",
    "KillSource",
    "Mode",
    "Opened",
    "OperatorCommand",
    "OrderRecord",
    "OrderStatus",
    "PositionSnapshot",
    "Record",
    "RecoveredState",
    "RiskEvent",
    "RunStarted",
    "TickRecord",
    "Verdict",
    "data_paths",
    "features_hash",
    "open_journal",
    "restore",
]


@dataclass(frozen=True, slots=True)
class DataPaths:
    """Where things live inside a data dir."""

    data_dir: Path
    journal: Path
    dataset_dir: Path
    run_dir: Path


def data_paths(data_dir: str | Path) -> DataPaths:
    """The standard paths inside ``data_dir`` (nothing is created)."""
    root = Path(data_dir)
    return DataPaths(root, root / JOURNAL_FILE, root / DATASET_DIR, root / RUN_DIR)


def open_journal(
    data_dir: str | Path, settings: Settings | None = None, *, new_journal: bool = False
) -> Journal:
    """Open ``DATA_DIR/journal.sqlite`` through the start checks (``opening``).

    ``settings.journal`` supplies ``integrity_check``, ``decisions_keep_features``,
    ``fsync_orders``, ``decision_batch_size`` and ``decision_flush_interval_ms``
    (defaults when ``settings`` is None). ``journal.opened`` says how it was opened.
    Raises ``JournalOpenError`` (one line with a recovery hint).
    """
    cfg = settings.journal if settings is not None else JournalConfig()
    journal, opened = open_checked(
        Path(data_dir),
        new_journal=new_journal,
        check=cfg.integrity_check,
        batch_size=cfg.decision_batch_size,
        flush_interval_ms=cfg.decision_flush_interval_ms,
        durable=cfg.fsync_orders,
        keep_features=cfg.decisions_keep_features,
    )
    journal.opened = opened
    return journal
