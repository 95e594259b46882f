"""Stopping with exposure: sell first (paper by default), or say so loudly and journal it.

On SIGINT/SIGTERM the daemon calls ``settle_before_stop`` while the feed still runs:

- ``shutdown.flatten_on_stop`` (unset: on in paper mode, off live) and a position is
  open: an operator FLATTEN (journaled, source ``shutdown``) sells it through the normal
  path — the risk gate, the journal, the paper venue — and the stop waits until it is
  sold, the game rugs, ``flatten_timeout_s`` passes or a second signal arrives;
- whatever is still open then (a position that could not be sold, a sidebet, which
  cannot be sold at all) is logged as an error and journaled as a ``RiskEvent``
  ``stopped_with_position``; the next start settles it by that game's outcome and says
  how (``rugsd.daemon.core.orphan``).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

from rugsd.daemon.core.inputs import OperatorAction
from rugsd.daemon.game.accounting import Account, lamports_to_sol
from rugsd.daemon.journal.records import Mode, RiskEvent
from rugsd.daemon.runtime.startup import now_ms
from rugsd.risk.reasons import ReasonCode

if TYPE_CHECKING:
    from rugsd.daemon.runtime.daemon import Daemon

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


def wants_flatten(d: Daemon) -> bool:
    """``shutdown.flatten_on_stop``, or by default: paper yes, live no."""
    configured = d.settings.shutdown.flatten_on_stop
    return configured if configured is not None else d.mode == Mode.PAPER.value


async def settle_before_stop(d: Daemon) -> None:
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


def _journal_open(d: Daemon) -> None:
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
