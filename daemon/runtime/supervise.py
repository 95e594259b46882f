"""Supervision of the daemon's long-running tasks: a task that ends on its own is a fault.

The feed, the timer (stale-feed check, kill-file poll) and the control server's snapshot
loop must run as long as the daemon does. ``supervise`` waits for a stop request; if a
supervised task ends first — raised, returned or was cancelled — trading goes KILLED at
once (a ``Fault`` stepped into the core: journaled, latched, counted), the reason is
logged, and the daemon stops with exit code 1 instead of running degraded (without its
kill-file poll, say). docs/reliability.md has the whole policy.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from rugsd.daemon.core.faults import describe_error
from rugsd.daemon.core.inputs import FaultKind

if TYPE_CHECKING:
    from rugsd.daemon.runtime.shell import Shell

log = structlog.get_logger(__name__)


async def supervise(d: Shell, tasks: list[asyncio.Task]) -> None:
    """Wait for a stop request; a supervised task that ends first is a fault."""
    watched = {task.get_name(): task for task in tasks}
    # the control server's snapshot loop (read, not owned: the server restarts it)
    snapshots = getattr(d.control, "_broadcast_task", None)
    if isinstance(snapshots, asyncio.Task):
        watched["control-snapshots"] = snapshots
    stopper = asyncio.ensure_future(d.stop_requested.wait())
    try:
        while not d.stop_requested.is_set():
            done, _ = await asyncio.wait({stopper, *watched.values()},
                                         return_when=asyncio.FIRST_COMPLETED)
            for name, task in list(watched.items()):
                if task in done:
                    del watched[name]
                    task_died(d, name, task)
    finally:
        stopper.cancel()


def task_died(d: Shell, name: str, task: asyncio.Task) -> None:
    """A supervised task ended: KILLED (journaled, latched), then stop with exit code 1."""
    if task.cancelled():
        why = "cancelled"
    else:
        err = task.exception()
        why = describe_error(err) if err is not None else "returned"
    log.error("supervised task ended: trading KILLED, stopping", task=name, why=why)
    d.fault(FaultKind.TASK_DIED, f"{name}: {why}")
    d.exit_code = 1
    d.stop()
