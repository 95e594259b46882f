"""``PlaywrightExecutor``: places risk-approved orders by clicking the venue's page.

The daemon hands it ``rugsd.risk.verdicts.Order``s; it answers each with a
``rugsd.daemon.core.inputs.ExecReport``:

1. ``precheck`` — an order the UI cannot express is REJECTED without a click;
2. the click — one ``page.evaluate`` on pre-resolved element handles (fill the bet input or
   press ``X`` and the ``+`` buttons, then BUY/SELL/percentage/SIDEBET). The in-page
   helper checks every control before touching any — attached, enabled, visible, its
   text matching the map's pattern, and BUY/BET showing the order's amount — so a stale
   handle is re-resolved and fired once more without risk of a double order, and a
   control that is missing, disabled or says something else FAILS without a click;
3. the confirmation — our player's ``standard/newTrade``/``newSideBet`` within
   ``confirm_timeout_s`` (FILLED), or the venue's refusal ack (REJECTED), else FAILED.
   Events arrive from the daemon's feed (``on_feed_event``) and from the page's own
   websocket (``PageFeed``); duplicates are dropped by trade id. The ``playerUpdate``
   that follows is the venue's account: it wins over our belief.

Failures (element missing, disabled or mismatched, no confirmation, page closed or
crashed, browser gone) give FAILED — never a blind retry; the core counts them (repeated errors → risk
REDUCING) and the executor restarts its page or browser in the background.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

from rugsd.daemon.config import BrowserConfig
from rugsd.daemon.core.inputs import ExecReport, ExecStatus, VenueAccount
from rugsd.daemon.events import Event
from rugsd.daemon.execution import confirm
from rugsd.daemon.execution.controls import BetEntry, Controls, plan_ops, refusal_detail
from rugsd.daemon.execution.launch import BROWSER_ERRORS, browser_pids, launch_context, profile_dir
from rugsd.daemon.execution.page_feed import PageFeed, now_ms
from rugsd.daemon.execution.selectors import merged, merged_expect
from rugsd.daemon.execution.tracker import OrderTracker, Waiter
from rugsd.daemon.game.accounting import Account
from rugsd.risk.verdicts import Order

log = structlog.get_logger(__name__)

JS_DIR = Path(__file__).with_name("js")
FIRE_JS = "([els, ops, checks]) => window.__rugsdExec.fire(els, ops, checks)"
NAV_TIMEOUT_MS = 15_000
RESTART_TIMEOUT_S = 30.0
PLAYER_WAIT_S = 5.0


class ExecutorState(StrEnum):
    """Lifecycle of the browser behind the executor."""

    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    RESTARTING = "restarting"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class FireResult:
    """Outcome of the click step alone (no confirmation)."""

    ok: bool
    detail: str = ""
    restart: bool = False


class PlaywrightExecutor:
    """Browser execution against the real site or the simulator's replica page."""

    def __init__(
        self,
        cfg: BrowserConfig,
        url: str,
        data_dir: Path,
        *,
        player_id: str | None = None,
        confirm_timeout_s: float | None = None,
        account_grace_s: float = 0.5,
        bet_entry: BetEntry = "fill",
        page_feed: bool = True,
        headless: bool | None = None,
        profile_name: str = "browser-profile",
        event_sink: Callable[[Event], None] | None = None,
        on_venue_account: Callable[[VenueAccount], None] | None = None,
    ) -> None:
        """``url`` is the venue page; ``player_id`` our id on the feed (else learned from
        the page's ``playerUpdate``). ``event_sink`` receives the events decoded from the
        page's websocket; ``on_venue_account`` every unsolicited venue account update."""
        self.cfg = cfg
        self.url = url
        self.data_dir = Path(data_dir)
        self.profile = profile_dir(self.data_dir, profile_name)
        self.confirm_timeout_s = confirm_timeout_s or cfg.confirm_timeout_s
        self.account_grace_s = account_grace_s
        self.bet_entry = bet_entry
        self.use_page_feed = page_feed
        self.headless = headless
        self.event_sink = event_sink
        self.on_venue_account = on_venue_account
        self.controls = Controls(merged(cfg.selectors), merged_expect(cfg.expect))
        self.state = ExecutorState.STOPPED
        self.counts: dict[str, int] = {
            "orders": 0, "filled": 0, "rejected": 0, "failed": 0, "fires": 0, "restarts": 0,
            "duplicates": 0, "disagreements": 0,
        }
        self.tracker = OrderTracker(player_id, self.counts, on_venue_account)
        self.feed = PageFeed(self._on_page_event, self.tracker.on_ack, self.tracker.on_sent)
        self.consecutive_failures = 0
        self.last_error = ""
        self._pw: Any = None
        self._context: Any = None
        self._page: Any = None
        self._context_closed = True
        self._page_gone = True
        self._lock = asyncio.Lock()
        self._restart_task: asyncio.Task[None] | None = None
        self._exec_js = (JS_DIR / "exec.js").read_text()

    # ------------------------------------------------------------------ lifecycle
    @property
    def page(self) -> Any:
        """The current Playwright page (tests inject faults through it)."""
        return self._page

    async def start(self) -> None:
        """Launch Chromium on the persistent profile and open the venue page."""
        from playwright.async_api import async_playwright

        self.state = ExecutorState.STARTING
        self._pw = await async_playwright().start()
        try:
            await self._open()
        except Exception:
            await self.stop()
            raise
        self.state = ExecutorState.READY
        log.info("executor_started", url=self.url, player=self.player_id)

    async def stop(self) -> None:
        """Close the browser and Playwright (idempotent)."""
        task, self._restart_task = self._restart_task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, *BROWSER_ERRORS) as err:
                log.debug("restart_cancelled", error=repr(err))
        await self._close_context()
        if self._pw is not None:
            try:
                await asyncio.wait_for(self._pw.stop(), 10)
            except BROWSER_ERRORS as err:  # the driver may already be gone
                log.warning("playwright_stop_failed", error=repr(err))
            self._pw = None
        self.state = ExecutorState.STOPPED

    async def wait_ready(self, timeout: float) -> bool:
        """Wait (bounded) until a restart in progress has finished; True when READY."""
        task = self._restart_task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except (TimeoutError, asyncio.CancelledError):
                pass
        return self.state is ExecutorState.READY

    def set_account(self, account: Account) -> None:
        """Seed our belief (e.g. the core's account at start); the venue's updates win."""
        self.tracker.account = account

    def health(self) -> dict[str, Any]:
        """Status for the control plane and the TUI."""
        return {
            "state": self.state.value,
            "url": self.url,
            "player_id": self.player_id,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "handle_resolves": self.controls.resolves,
            "page_feed": dict(self.feed.counts),
            **self.counts,
        }

    async def _open(self) -> None:
        if self._context is None or self._context_closed:
            self._context = await launch_context(self._pw, self.cfg, self.profile, self.headless)
            self._context_closed = False
            self._context.on("close", self._on_context_close)
            await self._context.add_init_script(self._exec_js)
        pages = [p for p in self._context.pages if not p.is_closed()]
        page = pages[0] if pages else await self._context.new_page()
        self._page, self._page_gone = page, False
        page.on("close", self._on_page_close)
        page.on("crash", self._on_page_close)
        if self.use_page_feed:
            self.feed.attach(page)
        await page.goto(self.url, wait_until="domcontentloaded", timeout=NAV_TIMEOUT_MS)
        buy = self.controls.selectors.get("buy")
        if buy:
            await page.wait_for_selector(buy, timeout=NAV_TIMEOUT_MS)
        await self.controls.prepare(page)
        problems = self.controls.problems()
        if problems:  # each order needing one of them will FAIL (see `rugsd browser check`)
            log.warning("controls_unresolved", url=self.url, controls=problems)
        if self.player_id is None and self.use_page_feed:
            try:
                await asyncio.wait_for(self.tracker.player_known.wait(), PLAYER_WAIT_S)
            except TimeoutError:
                log.warning("executor_player_unknown", url=self.url)

    async def _close_context(self) -> None:
        ctx, self._context, self._page = self._context, None, None
        self._page_gone = self._context_closed = True
        if ctx is not None:
            try:
                await asyncio.wait_for(ctx.close(), 10)
            except BROWSER_ERRORS as err:  # a killed browser may not answer
                log.warning("browser_close_failed", error=repr(err))

    def _on_context_close(self, *_: Any) -> None:
        self._context_closed = True
        self._page_gone = True

    def _on_page_close(self, *_: Any) -> None:
        self._page_gone = True

    def _schedule_restart(self, reason: str) -> None:
        if self._restart_task is not None and not self._restart_task.done():
            return
        if self.state in (ExecutorState.STOPPED, ExecutorState.STARTING):
            return
        self.state = ExecutorState.RESTARTING
        self._restart_task = asyncio.create_task(self._restart(reason), name="rugsd-browser-restart")

    async def _restart(self, reason: str) -> None:
        self.counts["restarts"] += 1
        browser_dead = self._context_closed or not browser_pids(self.profile)
        log.warning("executor_restarting", reason=reason, browser_dead=browser_dead)
        try:
            if browser_dead:
                await self._close_context()
            elif self._page is not None and not self._page.is_closed():
                try:
                    await asyncio.wait_for(self._page.close(), 5)
                except BROWSER_ERRORS as err:  # a crashed page may refuse: open a new one
                    log.debug("page_close_failed", error=repr(err))
            self.controls.clear()
            await asyncio.wait_for(self._open(), RESTART_TIMEOUT_S)
            self.state = ExecutorState.READY
            log.info("executor_restarted", restarts=self.counts["restarts"])
        except Exception as err:  # noqa: BLE001 - a background restart must end in a state
            self.state = ExecutorState.DOWN
            self.last_error = f"restart failed: {err!r}"[:300]
            log.error("executor_restart_failed", error=repr(err))

    # ------------------------------------------------------------------ orders
    async def submit(self, order: Order) -> ExecReport:
        """Click the order, await its confirmation, report. Never retries a click."""
        self.counts["orders"] += 1
        why = confirm.precheck(order)
        if why is not None:
            self.counts["rejected"] += 1
            return ExecReport(now_ms(), order.order_id, ExecStatus.REJECTED,
                              detail=f"not entered: {why}")
        async with self._lock:
            if self.state is not ExecutorState.READY:
                return self._failed(order, f"browser {self.state.value}")
            if self.player_id is None:
                return self._failed(order, "our player id is unknown (no playerUpdate seen)")
            waiter = self.tracker.begin(order)
            try:
                return await self._place(order, waiter)
            finally:
                self.tracker.end()

    async def _place(self, order: Order, waiter: Waiter) -> ExecReport:
        fired = await self.fire(order)
        if not fired.ok:
            return self._failed(order, fired.detail, restart=fired.restart)
        try:
            await asyncio.wait_for(waiter.done.wait(), self.confirm_timeout_s)
        except TimeoutError:
            return self._failed(order, f"no confirmation within {self.confirm_timeout_s}s")
        if waiter.rejected is not None:
            self.counts["rejected"] += 1
            self.consecutive_failures = 0
            return ExecReport(now_ms(), order.order_id, ExecStatus.REJECTED,
                              detail=waiter.rejected)
        applied = waiter.applied
        assert applied is not None
        if waiter.venue is None and self.use_page_feed:
            try:  # the venue's account update follows the trade
                await asyncio.wait_for(waiter.account_seen.wait(), self.account_grace_s)
            except TimeoutError:
                pass
        account = waiter.venue if waiter.venue is not None else applied.account
        self.counts["filled"] += 1
        self.consecutive_failures = 0
        return ExecReport(now_ms(), order.order_id, ExecStatus.FILLED, fills=(applied.fill,),
                          account=account, detail=applied.fill.kind.value)

    def _failed(self, order: Order, detail: str, restart: bool = False) -> ExecReport:
        self.counts["failed"] += 1
        self.consecutive_failures += 1
        self.last_error = detail[:300]
        log.warning("order_failed", order_id=order.order_id, detail=detail[:300],
                    consecutive=self.consecutive_failures)
        if restart:
            self._schedule_restart(detail)
        return ExecReport(now_ms(), order.order_id, ExecStatus.FAILED, detail=detail[:300])

    async def fire(self, order: Order) -> FireResult:
        """The tick→click path: one ``evaluate`` on cached handles (no confirmation)."""
        from playwright.async_api import Error as PlaywrightError

        plan = plan_ops(order, self.bet_entry)
        ops = [list(op) for op in plan.ops]
        checks = self.controls.checks_for(plan, self.cfg.verify_amount)
        page = self._page
        if page is None or self._page_gone or page.is_closed():
            return FireResult(False, "page closed", restart=True)
        for attempt in (0, 1):
            handles = self.controls.get(plan.names)
            if attempt == 0 and any(h is None for h in handles):
                await self._resolve_quietly(page, plan.names)
                handles = self.controls.get(plan.names)
            try:
                result = await page.evaluate(FIRE_JS, [handles, ops, checks])
            except PlaywrightError as err:
                if self._page_gone or self._context_closed or page.is_closed():
                    return FireResult(False, f"page gone: {_short(err)}", restart=True)
                if attempt == 0:  # e.g. a handle from a navigated document: nothing clicked
                    await self._resolve_quietly(page, plan.names)
                    continue
                return FireResult(False, f"page error: {_short(err)}", restart=True)
            if result.get("ok"):
                self.counts["fires"] += 1
                return FireResult(True)
            if result.get("reason") == "stale" and attempt == 0:
                await self._resolve_quietly(page, plan.names)
                continue
            return FireResult(False, refusal_detail(plan, checks, result, self.controls))
        return FireResult(False, "unreachable")  # pragma: no cover

    async def _resolve_quietly(self, page: Any, names: tuple[str, ...]) -> None:
        try:
            await self.controls.resolve(page, names)
        except BROWSER_ERRORS as err:  # the page died under us: the next evaluate says so
            log.warning("resolve_failed", error=_short(err))

    # ------------------------------------------------------------------ feed
    def on_feed_event(self, event: Event) -> None:
        """An event of the daemon's feed (trades, sidebets, player updates)."""
        self.tracker.on_event(event, None, from_page=False)

    def _on_page_event(self, event: Event, raw: dict[str, Any] | None) -> None:
        self.tracker.on_event(event, raw, from_page=True)
        if self.event_sink is not None:
            self.event_sink(event)

    @property
    def player_id(self) -> str | None:
        """Our player id on the venue's feed (given, or learned from the page)."""
        return self.tracker.player_id

    @property
    def account(self) -> Account | None:
        """Our belief of the account; the venue's updates replace it."""
        return self.tracker.account


def _short(err: BaseException) -> str:
    return str(err).splitlines()[0][:200] if str(err) else type(err).__name__


async def execute(executor: PlaywrightExecutor, verdict: object) -> ExecReport | None:
    """Send a gate verdict: only an ``Order`` reaches the browser; a refusal never clicks."""
    if not isinstance(verdict, Order):
        return None
    return await executor.submit(verdict)
