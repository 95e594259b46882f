"""The daemon's kill watch: SIGUSR1, the kill file and the latch, polled by the timer.

Kill triggers are effective before the next decision: each becomes an ``OperatorInput``
stepped into the core (KILLED in memory first); the latch file follows through the
``LatchKeeper`` (retried while the disk is full). The timer also steps a ``ClockTick``
every ``TIMER_MS`` (stale-feed check). Plain functions over the running daemon (the
``Shell`` protocol), kept out of ``daemon.py`` so each file has one job.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from rugsd.daemon.core.inputs import ClockTick, OperatorAction
from rugsd.daemon.journal.records import KillEvent
from rugsd.daemon.runtime.startup import now_ms
from rugsd.risk import killswitch

if TYPE_CHECKING:
    from rugsd.daemon.runtime.shell import Shell

log = structlog.get_logger(__name__)

TIMER_MS = 100  # kill-file poll and stale-feed check period


def trip_latch(d: Shell, record: KillEvent) -> None:
    """A ``KillEvent`` is about to be journaled: latch the kill first."""
    d.latch.trip(killswitch.KillLatch(record.ts_ms, record.source, record.reason))


def on_sigusr1(d: Shell) -> None:
    """SIGUSR1: a kill (with the latch's reason when one is on disk)."""
    try:
        latch = killswitch.read_latch(d.paths.run_dir)
        d.operator(OperatorAction.KILL, "signal", "SIGUSR1",
                   latch.describe() if latch else "SIGUSR1")
    except Exception as err:  # noqa: BLE001 - the core is KILLED before any write
        log.error("SIGUSR1 kill: a write failed", error=str(err),
                  killed=d.core.risk.killed)


def poll_kill_switch(d: Shell, ts: int) -> None:
    """Timer: persist a pending latch, notice the kill file / a latch / an arm."""
    run_dir = d.paths.run_dir
    d.latch.retry()
    if not d.core.risk.killed:
        latch = killswitch.kill_file_latch(run_dir, ts) or killswitch.read_latch(run_dir)
        if latch is not None:
            d.operator(OperatorAction.KILL, "file", latch.who, latch.describe())
    elif d.latch.cleared_on_disk():  # `rugsd arm` cleared the latch while we ran
        d.operator(OperatorAction.ARM, "cli", "rugsd arm", "latch cleared")


async def timer(d: Shell) -> None:
    """Every ``TIMER_MS``: the kill watch, then a ``ClockTick`` (stale feed) into the core."""
    while not d.stop_event.is_set():
        await asyncio.sleep(TIMER_MS / 1000)
        ts = now_ms()
        # I/O failures of the poll are handled inside (the latch keeper retries a latch
        # the disk cannot take); anything else ends this task, which ``supervise``
        # turns into KILLED: a daemon whose kill file is not watched must not trade
        poll_kill_switch(d, ts)
        d.step(ClockTick(ts))
