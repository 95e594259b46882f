"""The daemon's side of browser execution: start the executor, click orders, report back.

Orders approved by the core are clicked on the venue page by ``PlaywrightExecutor``
(``daemon/execution``); each click's ``ExecReport`` and every unsolicited venue account
update go back into the decision core through ``step``. A failed click is reported, never
retried (the core's risk state counts the errors).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog

from rugsd.daemon.config import Settings
from rugsd.daemon.core.inputs import ExecReport, ExecStatus, VenueAccount
from rugsd.daemon.game.rules import LAMPORTS_PER_SOL
from rugsd.daemon.runtime.startup import DaemonError, now_ms
from rugsd.risk.verdicts import Order

log = structlog.get_logger(__name__)


class BrowserBridge:
    """Owns the Playwright executor for one daemon run."""

    def __init__(self, settings: Settings, page_url: str, data_dir: Any,
                 step: Callable[[Any], None]) -> None:
        from rugsd.daemon.execution.browser import PlaywrightExecutor  # playwright: only if used

        self.settings = settings
        self.page_url = page_url
        self.step = step
        self.executor = PlaywrightExecutor(settings.browser, page_url, data_dir,
                                           on_venue_account=step)
        self._tasks: set[asyncio.Task] = set()

    async def start(self, mode: str, venue: Any = None, strategy: Any = None) -> None:
        """Open the page, learn our account from the venue, print the banner: which
        account trades and why, against the one the bundle was trained on."""
        ex = self.executor
        await ex.start()
        deadline = time.monotonic() + self.settings.feed.connect_timeout_s
        while ex.account is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # the page's first playerUpdate names us
        if ex.account is None:
            raise DaemonError("the venue page never reported our account (not logged in?)")
        self.step(VenueAccount(now_ms(), ex.account))
        lim = self.settings.risk
        print(
            f"rugsd {mode.upper()} via browser on {self.page_url} as player {ex.player_id}; "
            f"limits: max bet {lim.max_bet_sol} SOL, max position {lim.max_position_sol} SOL, "
            f"daily loss {lim.max_daily_loss_sol} SOL, drawdown {lim.max_drawdown_sol} SOL",
            flush=True,
        )
        source, warning = account_origin(ex.account.balance, venue, mode, trained_on(strategy))
        print(source, flush=True)
        if warning is not None:
            print(f"WARNING: {warning}", flush=True)
            log.warning("browser account far from the training account", detail=warning)
        log.info("browser executor ready", player=ex.player_id, mode=mode)

    def on_feed_event(self, event: Any) -> None:
        """Our feed's trades/sidebets/player updates confirm the clicks."""
        self.executor.on_feed_event(event)

    def submit(self, order: Order) -> None:
        """Click ``order`` in the background; its report goes back into the core."""
        task = asyncio.get_running_loop().create_task(self._click(order))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _click(self, order: Order) -> None:
        try:
            report = await self.executor.submit(order)
        except Exception as err:  # noqa: BLE001 - an executor bug fails the order, not us
            report = ExecReport(now_ms(), order.order_id, ExecStatus.FAILED,
                                detail=f"executor error: {err!r}")
        self.step(report)

    @property
    def in_flight(self) -> int:
        """Clicks submitted whose report has not come back yet."""
        return len(self._tasks)

    @property
    def last_error(self) -> str | None:
        """The executor's last failure, for snapshots."""
        return self.executor.last_error or None

    async def close(self) -> None:
        """Let clicks in flight finish (bounded), then close the browser."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        await self.executor.stop()


def trained_on(strategy: Any) -> tuple[str, float | None] | None:
    """(bundle version, account size in SOL it was trained on) when the strategy has a
    bundle; the size is None for a size-invariant bundle (features are fractions of the
    account, so no account size was baked in)."""
    manifest = getattr(getattr(strategy, "bundle", None), "manifest", None)
    if manifest is None:
        return None
    sol = getattr(manifest, "train_balance_sol", None)
    size = float(sol) if isinstance(sol, int | float) and sol > 0 else None
    return str(getattr(manifest, "version", "?")), size


def account_origin(balance: int, venue: Any, mode: str,
                   trained: tuple[str, float | None] | None) -> tuple[str, str | None]:
    """The banner line saying which account trades and why, and a warning when it is far
    (outside 1/3..3x, the strategy's own rule) from the one the bundle was trained on."""
    sol = balance / LAMPORTS_PER_SOL
    practice = getattr(venue, "practice_sol", None)
    if practice is not None:
        why = (f"the embedded simulator's practice account, opened at "
               f"paper.starting_balance_sol = {practice:g} SOL")
    elif getattr(venue, "is_simulator", False):
        why = (f"the practice account of the running simulator at {venue.url} (its own "
               "sim.starting_balance_sol; paper.starting_balance_sol does not apply)")
    elif mode == "live":
        why = "your venue account, as the page reports it (playerUpdate.cash)"
    else:
        why = "the account the venue page reports (playerUpdate.cash)"
    line = f"account {sol:.4f} SOL: {why}"
    if trained is None:
        return line + "; the strategy records no training account size", None
    version, size = trained
    if size is None:
        return (line + f"; bundle {version} is size-invariant (its account features are "
                "fractions of the account), so any account size is in range"), None
    line += f"; bundle {version} was trained on a {size:g} SOL account"
    if size / 3 <= sol <= size * 3:
        return line, None
    return line, (
        f"the account ({sol:.4f} SOL) is far from the {size:g} SOL bundle {version} was "
        "trained on: its account features are outside the training range. Trade an "
        f"account of about {size:g} SOL (on the embedded simulator: "
        f"paper.starting_balance_sol = {size:g}).")
