"""The running daemon as its helpers see it: the ``Shell`` protocol.

``operator`` (control-plane answers), ``stopping`` (settle and close), ``supervise``
(dead tasks), ``housekeeping`` (metrics, cooldown work) and ``killwatch`` (SIGUSR1, the
kill file, the timer) are plain functions over the running daemon, kept out of ``daemon.py`` so
each file has one job. They type it as ``Shell`` — the attributes they read and the few
methods they call — so none of them imports ``daemon.py`` back (no import cycle:
tests/packaging/test_packaging_import_cycles.py). ``Daemon`` implements it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol

from rugsd.daemon.config import Settings
from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.core.inputs import FaultKind, OperatorAction
from rugsd.daemon.journal import DataPaths
from rugsd.daemon.journal.store import Journal
from rugsd.daemon.runtime.executors import Executor
from rugsd.daemon.runtime.latch import LatchKeeper
from rugsd.daemon.runtime.snapshot import DecisionWindow


class Shell(Protocol):
    """The parts of a running ``Daemon`` its helpers use."""

    settings: Settings
    core: DecisionCore
    journal: Journal
    paths: DataPaths
    run_id: str
    mode: str
    started_ms: int
    executor_kind: str
    executors: list[Executor]
    feed: Any  # feed.client.FeedClient | None
    venue: Any  # runtime.venue.Venue | None
    control: Any  # control.server.ControlServer | None
    auditor: Any  # audit.runner.Auditor | None
    latch: LatchKeeper
    decisions: DecisionWindow
    snapshot_seq: int
    reload_requested: bool
    bundle_checked_game: str | None
    reconnects_seen: int
    metrics: Any  # control.metrics.RugsdMetrics
    compactor: Any  # journal compaction between games, or None
    exit_code: int
    pid_file: Path
    registry_entry: Any  # control.registry.DaemonEntry | None
    stop_requested: asyncio.Event
    stop_now: asyncio.Event
    stop_event: asyncio.Event

    def step(self, event: Any) -> None: ...

    def operator(self, action: OperatorAction, source: str, who: str = "",
                 reason: str = "") -> None: ...

    def fault(self, kind: FaultKind, detail: str, unsent: tuple[str, ...] = ()) -> None: ...

    def stop(self) -> None: ...
