"""The daemon process: feed → decision core → journal → executor, with operator controls.

Everything with a clock, a socket, a file or a signal lives here; every decision is made
by the pure ``DecisionCore``. Start-up restores the account and the kill latch from the
journal and the run dir (a crash, even ``kill -9``, loses nothing journaled and sends
nothing twice: open orders are marked unknown, never re-sent). Shutdown on SIGINT/SIGTERM
flushes the journal and closes everything.

Kill triggers, all effective before the next decision: ``rugsd kill`` (control socket,
else kill file + SIGUSR1), SIGUSR1, the kill file ``run/KILL``, the TUI.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any

import structlog

from rugsd.daemon.config import Settings
from rugsd.daemon.control.metrics import RugsdMetrics, start_metrics_server
from rugsd.daemon.control.server import ControlServer
from rugsd.daemon.core.inputs import ClockTick, OperatorAction, OperatorInput
from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.feed.client import FeedClient
from rugsd.daemon.journal import data_paths, open_journal
from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    KillEvent,
    Mode,
    OrderRecord,
    OrderStatus,
    TickRecord,
)
from rugsd.daemon.runtime.browser_bridge import BrowserBridge
from rugsd.daemon.runtime.build import make_core, run_started
from rugsd.daemon.runtime.mirror import SimMirror
from rugsd.daemon.runtime.operator import handle_command, make_snapshot
from rugsd.daemon.runtime.startup import (
    DaemonError,
    claim_pid_file,
    journal_opened,
    make_compactor,
    now_ms,
    restore_state,
)
from rugsd.daemon.runtime.venue import Venue, open_venue
from rugsd.risk import killswitch
from rugsd.strategy.registry import build_strategy

__all__ = ["Daemon", "DaemonError", "run_daemon"]

log = structlog.get_logger(__name__)

TIMER_MS = 100  # kill-file poll and stale-feed check period


class Daemon:
    """One running daemon: paper fills, or real clicks through the browser executor.

    ``executor="paper"`` fills orders inside the core (and mirrors them to the simulator
    when the venue is one); ``"browser"`` clicks them on the venue page and feeds the
    executor's reports back. ``live=True`` trades the real site (the CLI has checked the
    double opt-in before constructing this).
    """

    def __init__(
        self,
        settings: Settings,
        data_dir: Path,
        *,
        feed_url: str | None = None,
        executor: str = "paper",
        live: bool = False,
        strategy: Any = None,
        new_journal: bool = False,
    ):
        self.settings = settings
        self.new_journal = new_journal
        self.paths = data_paths(data_dir)
        self.feed_url = feed_url
        self.executor_kind = executor
        self.live = live
        self.mode = Mode.LIVE.value if live else Mode.PAPER.value
        self.strategy_override = strategy
        self.bridge: BrowserBridge | None = None
        self.stop_event = asyncio.Event()
        self.decisions: deque = deque(maxlen=50)
        self.snapshot_seq = 0
        self.started_ms = now_ms()
        self.run_id = f"run-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        self.metrics = RugsdMetrics()
        self.venue: Venue | None = None
        self.feed: FeedClient | None = None
        self.mirror: SimMirror | None = None
        self.control: ControlServer | None = None
        self.first_decision_ms: int | None = None
        self.latch_seen = False
        self.reload_requested = False
        self._bundle_checked_game: str | None = None
        self._reconnects_seen = 0

    # -- start-up ------------------------------------------------------------------------

    def _restore(self) -> None:
        paths = self.paths
        paths.run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(paths.run_dir, 0o700)
        self.pid_file = claim_pid_file(paths.run_dir)
        try:
            self.journal = open_journal(paths.data_dir, self.settings,
                                        new_journal=self.new_journal)
        except Exception:
            self.pid_file.unlink(missing_ok=True)  # refusing to start leaves no pid file
            raise
        self.compactor = make_compactor(self.journal, paths.dataset_dir, self.settings)
        restored = restore_state(self.journal, paths, self.mode, self.run_id)
        self.latch_seen = restored.latched
        ts = now_ms()
        try:
            self.core = make_core(
                self.settings, run_id=self.run_id, order_prefix=self.run_id,
                account=restored.account, risk=restored.risk, figures=restored.figures,
                strategy=self.strategy_override,
                external_fills=self.executor_kind == "browser",
                exposure_game=restored.exposure_game,
            )
        except Exception:
            # refusing to start (e.g. a broken model bundle) leaves no pid file behind
            self.journal.close()
            self.pid_file.unlink(missing_ok=True)
            raise
        self.journal.write(run_started(self.settings, self.core, self.mode, ts))
        journal_opened(self.journal, self.run_id, ts)

    # -- main ------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until SIGINT/SIGTERM (or ``stop()``); 0 on a clean stop."""
        self._restore()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGUSR1, self._on_sigusr1)
        tasks: list[asyncio.Task] = []
        metrics_server = None
        try:
            if self.live:
                self.venue = Venue(self.feed_url or self.settings.feed.real_url, False)
            else:
                self.venue = await open_venue(self.settings, self.feed_url)
            player = self.settings.paper.player_name
            paper_on_sim = self.venue.is_simulator and self.executor_kind == "paper"
            self.feed = FeedClient(
                self.settings.feed, url=self.venue.url, on_event=self._on_event,
                auth={"player": player} if paper_on_sim else None,
            )
            if paper_on_sim:
                self.mirror = SimMirror(self.feed, self.venue.url, player)
            if self.executor_kind == "browser":
                self.bridge = BrowserBridge(self.settings, self._page_url(player),
                                            self.paths.data_dir, self._step)
                await self.bridge.start(self.mode)
            self.control = ControlServer(
                self.paths.run_dir / "control.sock", self.snapshot, self.command,
                self.settings.control.snapshot_interval_s, metrics=self.metrics,
            )
            await self.control.start()
            metrics_server = await start_metrics_server(self.settings.control, self.metrics)
            tasks.append(asyncio.create_task(self.feed.run(self.stop_event), name="feed"))
            tasks.append(asyncio.create_task(self._timer(), name="timer"))
            if self.mirror is not None:
                connected = await self.feed.wait_connected(self.settings.feed.connect_timeout_s)
                if connected:
                    await self.mirror.baseline(lambda: self.core.account)
            log.info("rugsd running", mode=self.mode, executor=self.executor_kind,
                     venue=self.venue.url, run_id=self.run_id,
                     strategy=self.core.strategy.name, data_dir=str(self.paths.data_dir),
                     state=self.core.trading_state.value)
            await self.stop_event.wait()
        finally:
            await self._shutdown(tasks, metrics_server)
        return 0

    def stop(self) -> None:
        """Ask the daemon to stop cleanly."""
        self.stop_event.set()

    async def _shutdown(self, tasks: list[asyncio.Task], metrics_server: Any) -> None:
        self.stop_event.set()
        if self.feed is not None:
            await self.feed.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.mirror is not None:
            await self.mirror.close()
        if self.bridge is not None:
            await self.bridge.close()
        if self.control is not None:
            await self.control.stop()
        if metrics_server is not None:
            await metrics_server.stop()
        if self.venue is not None:
            await self.venue.close()
        self.journal.close()
        self.pid_file.unlink(missing_ok=True)
        log.info("rugsd stopped", run_id=self.run_id, stats=dict(self.core.stats))

    # -- inputs ------------------------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        """Every parsed feed event, in arrival order."""
        if self.bridge is not None and not isinstance(event, GameUpdate):
            self.bridge.on_feed_event(event)  # confirmations of our clicks
        self._step(event)

    # -- browser execution -------------------------------------------------------------------

    def _page_url(self, player: str) -> str:
        if self.live:
            return self.settings.live.venue_url
        return f"{self.venue.url.rstrip('/')}/?player={player}"

    @property
    def browser(self) -> Any:
        """The Playwright executor in browser mode (None on paper)."""
        return self.bridge.executor if self.bridge is not None else None

    def _step(self, event: Any) -> None:
        started = time.perf_counter_ns()
        out = self.core.step(event)
        allowed: set[str] = set()
        for record in out.records:
            if isinstance(record, OrderRecord) and record.status == OrderStatus.SENT.value:
                if self.journal.record_order_intent(record):
                    allowed.add(record.order_id)
                else:
                    log.error("order id already journaled: not sent again",
                              order_id=record.order_id)
                continue
            if isinstance(record, KillEvent):
                self._trip_latch(record)
            self.journal.write(record)
        self.journal.flush_due()  # the 100 ms clock steps too: a silent feed holds no batch
        decision = self.core.last_decision
        if decision is not None and (not self.decisions or self.decisions[-1] is not decision):
            self.decisions.append(decision)
            if self.first_decision_ms is None:
                self.first_decision_ms = now_ms()
                log.info("first decision", game_id=decision.game_id, tick=decision.tick,
                         ms_since_start=self.first_decision_ms - self.started_ms)
        if self.bridge is not None:
            for order in out.orders:
                if order.order_id in allowed:
                    self.bridge.submit(order)
        if self.mirror is not None:
            for order in out.orders:
                if order.order_id in allowed:
                    self.mirror.send(order)
            for record in out.records:  # after the sends: a presale order fills in-step
                self._tell_mirror(record)
        self._observe(event, out, time.perf_counter_ns() - started)

    def _tell_mirror(self, record: Any) -> None:
        """Paper's outcome of each order, so the mirror compares like with like."""
        if isinstance(record, FillRecord) and record.order_id is not None:
            self.mirror.paper_outcome(record.order_id, True, record.tick)
        elif isinstance(record, OrderRecord) and record.status == OrderStatus.REJECTED.value:
            self.mirror.paper_outcome(record.order_id, False, None)

    def _observe(self, event: Any, out: Any, elapsed_ns: int) -> None:
        """Prometheus counters from one step's records; between-games housekeeping."""
        m = self.metrics
        for record in out.records:
            if isinstance(record, TickRecord):
                m.ticks_total.inc()
            elif isinstance(record, DecisionRecord):
                m.observe_decision(record.verdict, record.reason, elapsed_ns / 1e9)
            elif isinstance(record, FillRecord):
                m.fills_total.labels(kind=record.kind).inc()
            elif isinstance(record, OrderRecord) and record.status == OrderStatus.SENT.value:
                m.orders_total.labels(action=record.action).inc()
        m.set_trading_state(self.core.trading_state.value, self.core.risk.killed)
        if self.feed is not None:
            health = self.feed.health_snapshot()
            m.feed_stale.set(1 if health.stale else 0)
            new = health.reconnects - self._reconnects_seen
            if new > 0:
                m.feed_reconnects_total.inc(new)
                self._reconnects_seen = health.reconnects
        if isinstance(event, GameUpdate):
            self._between_games(event)

    def _between_games(self, event: GameUpdate) -> None:
        """Cooldown: reconcile with the simulator, pick up a newly promoted bundle, and
        compact the journal (a bounded slice per event of the settlement, when no
        decision is due)."""
        view = self.core.view
        if view.phase is Phase.COOLDOWN and self.compactor is not None:
            self.compactor.run(self.settings.journal.compact_budget_ms, now_ms())
        if view.phase is not Phase.COOLDOWN or self._bundle_checked_game == view.game_id:
            return
        self._bundle_checked_game = view.game_id
        if self.mirror is not None:
            asyncio.get_running_loop().create_task(
                self.mirror.reconcile(lambda: self.core.account))
        if self.reload_requested or self._bundle_changed():
            self._reload_strategy()

    def _bundle_changed(self) -> bool:
        if self.settings.strategy.name != "onnx":
            return False
        from rugsd.strategy.bundle import resolve_current

        try:
            current = resolve_current(self.settings.strategy.models_dir)
        except Exception:  # noqa: BLE001 - a broken pointer keeps the loaded bundle
            return False
        loaded = getattr(getattr(self.core.strategy, "bundle", None), "path", None)
        return current is not None and loaded is not None and Path(current) != Path(loaded)

    def _reload_strategy(self) -> str:
        self.reload_requested = False
        try:
            self.core.strategy = build_strategy(self.settings)
        except Exception as err:  # noqa: BLE001 - keep trading with the loaded strategy
            log.error("model reload failed; keeping the loaded strategy", error=str(err))
            return f"reload failed: {err}"
        log.info("strategy reloaded", strategy=self.core.strategy.name)
        return "reloaded"

    def _trip_latch(self, record: KillEvent) -> None:
        latch = killswitch.KillLatch(record.ts_ms, record.source, record.reason)
        killswitch.trip(self.paths.run_dir, latch)
        self.latch_seen = True

    def operator(self, action: OperatorAction, source: str, who: str = "", reason: str = ""):
        """Step an operator command into the core now (it is journaled there)."""
        self._step(OperatorInput(now_ms(), action, source, who, reason))

    def _on_sigusr1(self) -> None:
        latch = killswitch.read_latch(self.paths.run_dir)
        self.operator(OperatorAction.KILL, "signal", "SIGUSR1",
                       latch.describe() if latch else "SIGUSR1")

    async def _timer(self) -> None:
        run_dir = self.paths.run_dir
        while not self.stop_event.is_set():
            await asyncio.sleep(TIMER_MS / 1000)
            ts = now_ms()
            self._step(ClockTick(ts))
            if not self.core.risk.killed:
                latch = killswitch.poll_kill_file(run_dir, ts) or killswitch.read_latch(run_dir)
                if latch is not None:
                    self.operator(OperatorAction.KILL, "file", latch.who, latch.describe())
            elif self.latch_seen and not killswitch.latch_present(run_dir):
                # `rugsd arm` cleared the latch while we ran
                self.latch_seen = False
                self.operator(OperatorAction.ARM, "cli", "rugsd arm", "latch cleared")

    # -- control plane --------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The control-plane snapshot (docs/control-protocol.md)."""
        return make_snapshot(self)

    def command(self, request: Any) -> dict[str, Any]:
        """Handle one control-plane command; answer with the resulting risk state."""
        return handle_command(self, request)


def run_daemon(
    settings: Settings,
    data_dir: Path,
    feed_url: str | None = None,
    executor: str = "paper",
    live: bool = False,
    new_journal: bool = False,
) -> int:
    """Blocking entry point for ``rugsd run``."""
    daemon = Daemon(settings, data_dir, feed_url=feed_url, executor=executor, live=live,
                    new_journal=new_journal)
    return asyncio.run(daemon.run())
