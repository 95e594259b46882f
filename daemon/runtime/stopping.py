"""Stopping: sell an open position first (paper by default) or journal it, then close all.

On SIGINT/SIGTERM the daemon calls ``settle_before_stop`` while the feed still runs:

- ``shutdown.flatten_on_stop`` (unset: on in paper mode, off live) and a position is
  open: an operator FLATTEN (journaled, source ``shutdown``) sells it through the normal
  path — the risk gate, the journal, the paper venue — and the stop waits until it is
  sold, the game rugs, ``flatten_timeout_s`` passes or a second signal arrives;
- whatever is still open then (a position that could not be sold, a sidebet, which
  cannot be sold at all) is logged as an error and journaled as a ``RiskEvent``
  ``stopped_with_position``; the next start settles it by that game's outcome and says
  how (``rugsd.daemon.core.orphan``).

``shutdown`` then closes the parts in order — feed, tasks, the executors, control,
metrics, venue — each failure logged without stopping the rest, so the journal is
always closed (flushed, checkpointed) and the pid file removed.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import structlog

from rugsd.daemon.control import registry
from rugsd.daemon.core.faults import describe_error
from rugsd.daemon.core.inputs import OperatorAction
from rugsd.daemon.game.accounting import Account, lamports_to_sol
from rugsd.daemon.journal.records import Mode, RiskEvent
from rugsd.daemon.runtime.startup import now_ms
from rugsd.risk.reasons import ReasonCode

if TYPE_CHECKING:
    from rugsd.daemon.runtime.shell import Shell

log = structlog.get_logger(__name__)

POLL_S = 0.05


def exposed(acct: Account) -> bool:
    """An open position or sidebet."""
    return acct.qty > 0 or acct.sidebet is not None


def describe_exposure(acct: Account, game_id: str | None) -> str:
    """One line: what is open, in which game."""
    parts = []
    if acct.qty > 0:
        parts.append(f"position {acct.qty / 1e9:g} tokens (cost "
                     f"{lamports_to_sol(acct.cost):.9f} SOL)")
    if acct.sidebet is not None:
        parts.append(f"sidebet {lamports_to_sol(acct.sidebet.stake):.9f} SOL "
                     f"(ticks {acct.sidebet.start_tick}..{acct.sidebet.end_tick})")
    return f"{' and '.join(parts)} in game {game_id or '?'}"


def wants_flatten(d: Shell) -> bool:
    """``shutdown.flatten_on_stop``, or by default: paper yes, live no."""
    configured = d.settings.shutdown.flatten_on_stop
    return configured if configured is not None else d.mode == Mode.PAPER.value


async def settle_before_stop(d: Shell) -> None:
    """Sell an open position before stopping (when configured), else journal it."""
    core = d.core
    if not exposed(core.account):
        return
    feed_up = d.feed is not None and d.feed.connected
    if wants_flatten(d) and core.account.qty > 0 and feed_up and core.orphan_wait is None:
        timeout = d.settings.shutdown.flatten_timeout_s
        log.warning("stopping with an open position: selling it first",
                    exposure=describe_exposure(core.account, core.exposure_game),
                    timeout_s=timeout, hint="a second Ctrl-C stops at once")
        d.operator(OperatorAction.FLATTEN, "shutdown", "rugsd stop", "flatten on stop")
        deadline = time.monotonic() + timeout
        while (core.account.qty > 0 and not d.stop_now.is_set()
               and time.monotonic() < deadline):
            await asyncio.sleep(POLL_S)
        if core.account.qty == 0:
            log.info("position sold before stopping",
                     balance_sol=lamports_to_sol(core.account.balance))
    if exposed(core.account):
        _journal_open(d)


def _journal_open(d: Shell) -> None:
    core = d.core
    what = describe_exposure(core.account, core.exposure_game or core.view.game_id)
    detail = (f"stopped with an open {what}; the next start settles it by that game's "
              "outcome (gameHistory) and reports how")
    log.error("STOPPING WITH AN OPEN POSITION", detail=detail,
              flatten_on_stop=wants_flatten(d))
    state = core.trading_state.value
    try:
        d.journal.write(RiskEvent(d.run_id, now_ms(), state, state,
                                  ReasonCode.STOPPED_WITH_POSITION.value, detail))
    except Exception as err:  # noqa: BLE001 - stopping goes on; the log line says it
        log.error("could not journal the open position", error=str(err))


async def shutdown(d: Shell, tasks: list[asyncio.Task], metrics_server: Any) -> None:
    """Close everything in order; a part that fails to close never keeps the journal open."""
    d.stop_event.set()
    if d.auditor is not None:
        d.auditor.close()
    if d.feed is not None:
        await quietly("feed", d.feed.close())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for ex in d.executors:
        await quietly(ex.name, ex.close())
    closers = [("control", d.control), ("metrics", metrics_server), ("venue", d.venue)]
    for name, part in closers:
        if part is not None:
            closer = part.stop if name in ("control", "metrics") else part.close
            await quietly(name, closer())
    try:
        d.journal.close()
    except Exception as err:  # noqa: BLE001 - the stop goes on; say what was lost
        log.error("journal close failed", error=describe_error(err))
    d.latch.retry()
    if d.latch.pending is not None:
        log.error("STOPPING WITH THE KILL LATCH NOT PERSISTED: the next start will not be "
                  "KILLED unless run/KILL exists", error=d.latch.error)
    registry.unregister(d.registry_entry)
    d.pid_file.unlink(missing_ok=True)
    log.info("rugsd stopped", run_id=d.run_id, exit_code=d.exit_code,
             stats=dict(d.core.stats))


async def quietly(name: str, closing: Any) -> None:
    """Await one part's close; a failure is logged, never stops the rest of the stop."""
    try:
        await closing
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.warning("close was cancelled under us", part=name)
    except Exception as err:  # noqa: BLE001 - the journal must still be closed
        log.error("close failed", part=name, error=describe_error(err))
