"""The daemon process: feed → decision core → journal → executor, with operator controls.

Everything with a clock, a socket, a file or a signal lives here; every decision is made
by the pure ``DecisionCore``. Start-up restores the account and the kill latch from the
journal and the run dir (a crash, even ``kill -9``, loses nothing journaled and sends
nothing twice: open orders are marked unknown, never re-sent). Shutdown on SIGINT/SIGTERM
first sells an open position (paper; ``shutdown.flatten_on_stop``) or journals it, then
flushes the journal and closes everything; a second signal skips the wait.

Failure policy (docs/reliability.md): every step's records are journaled before any
order leaves (paper orders are released to the paper venue only once their intent is on
disk); a failed durable write, an exception in the shell's step handling or a supervised
task (feed, timer, control snapshots) that ends on its own steps a ``Fault`` into the
core: KILLED at once, journaled as far as the journal allows, counted. A dead task also
stops the daemon (exit 1): it does not run degraded.

Kill triggers, all effective before the next decision: ``rugsd kill`` (control socket,
else kill file + SIGUSR1), SIGUSR1, the kill file ``run/KILL``, the TUI. The core goes
KILLED in memory first; the latch file follows (``runtime/latch.py``: retried while the
disk is full, and no ``arm`` before it is written). The daemon registers itself
(``control/registry.py``) so that those commands find it from any directory.

Venue integrity: every game the core watched is audited against its provably-fair
commitment by ``rugsd.daemon.audit`` on a worker thread (off the decision loop); the
verdict comes back as an input to the core.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import structlog

from rugsd.daemon.audit.runner import Auditor
from rugsd.daemon.config import Settings
from rugsd.daemon.control import registry
from rugsd.daemon.control.metrics import RugsdMetrics, start_metrics_server
from rugsd.daemon.control.server import ControlServer
from rugsd.daemon.core.faults import Notice, describe_error, fault_counts
from rugsd.daemon.core.inputs import (
    ClockTick,
    Fault,
    FaultCleared,
    FaultKind,
    OperatorAction,
    OperatorInput,
    ReleaseOrder,
)
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
from rugsd.daemon.runtime.commit import Committed, commit_records
from rugsd.daemon.runtime.latch import LatchKeeper
from rugsd.daemon.runtime.mirror import SimMirror
from rugsd.daemon.runtime.notices import NoticeLog
from rugsd.daemon.runtime.operator import (
    handle_command,
    journal_refusal,
    make_snapshot,
    rejections,
)
from rugsd.daemon.runtime.snapshot import DecisionWindow, account_block
from rugsd.daemon.runtime.startup import (
    DaemonError,
    claim_pid_file,
    journal_opened,
    make_compactor,
    now_ms,
    prepare_data_dir,
    restore_state,
)
from rugsd.daemon.runtime.stopping import settle_before_stop, shutdown
from rugsd.daemon.runtime.supervise import supervise
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
        self.stop_requested = asyncio.Event()  # SIGINT/SIGTERM/stop(): settle, then stop
        self.stop_now = asyncio.Event()  # a second request: skip the settling wait
        self.stop_event = asyncio.Event()  # the feed and the timer end
        self.exit_code = 0
        self.notices = NoticeLog()
        self.decisions = DecisionWindow()  # what snapshots show of the decisions
        self.snapshot_seq = 0
        self.started_ms = now_ms()
        self.run_id = f"run-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        self.metrics = RugsdMetrics()
        self.venue: Venue | None = None
        self.feed: FeedClient | None = None
        self.mirror: SimMirror | None = None
        self.control: ControlServer | None = None
        self.auditor: Auditor | None = None  # venue-integrity audits, off the loop
        self.compactor = None  # journal retention, a slice per settlement event
        self.first_decision_ms: int | None = None
        self.latch = LatchKeeper(self.paths.run_dir)
        self.registry_entry: registry.DaemonEntry | None = None
        self.reload_requested = False
        self._bundle_checked_game: str | None = None
        self._reconnects_seen = 0
        self._faulting = False  # a fault's own records are being journaled

    # -- start-up ------------------------------------------------------------------------

    def _restore(self) -> None:
        paths = self.paths
        prepare_data_dir(paths)
        self.pid_file = claim_pid_file(paths.run_dir)
        self.journal = None
        try:
            try:
                self.journal = open_journal(paths.data_dir, self.settings,
                                            new_journal=self.new_journal)
            except (OSError, sqlite3.Error) as err:
                raise DaemonError(f"cannot open the journal {paths.journal}: {err}") from None
            self.compactor = make_compactor(self.journal, paths.dataset_dir, self.settings)
            restored = restore_state(self.journal, paths, self.mode, self.run_id)
            self.latch.restored(restored.latch)
            ts = now_ms()
            self.core = make_core(
                self.settings, run_id=self.run_id, order_prefix=self.run_id,
                account=restored.account, risk=restored.risk, figures=restored.figures,
                strategy=self.strategy_override,
                external_fills=self.executor_kind == "browser",
                exposure_game=restored.exposure_game,
                hold_orders=True,  # paper fills only after the order's intent is on disk
            )
            self.journal.write(run_started(self.settings, self.core, self.mode, ts))
            journal_opened(self.journal, self.run_id, ts)
        except BaseException:
            # refusing to start (a broken bundle, an unreadable journal...) leaves no pid
            # file behind
            if self.journal is not None:
                with contextlib.suppress(Exception):
                    self.journal.close()
            self.pid_file.unlink(missing_ok=True)
            raise

    # -- main ------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until SIGINT/SIGTERM (or ``stop()``); 0 on a clean stop."""
        loop = asyncio.get_running_loop()
        self.auditor = Auditor(self._step, now_ms, self.metrics, loop)
        # before anything else: a SIGUSR1 during start-up is a kill, not the default exit
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGUSR1, self._on_sigusr1)
        self._restore()
        tasks: list[asyncio.Task] = []
        metrics_server = None
        try:
            self._register()
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
                await self.bridge.start(self.mode, self.venue, self.core.strategy)
            self.control = ControlServer(
                self.paths.run_dir / "control.sock", self.snapshot, self.command,
                self.settings.control.snapshot_interval_s, metrics=self.metrics,
                idle_timeout_s=self.settings.control.idle_timeout_s,
                on_refused=lambda cmd, who, why: journal_refusal(self, cmd, who, why),
            )
            await self.control.start()
            self.metrics.follow(lambda: account_block(self.core),
                                lambda: self.feed.health_snapshot().age_ms if self.feed else None)
            self.metrics.bind_live(lambda: {"rejected": rejections(self),
                                            "faults": fault_counts(self.core.stats)})
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
            # start-up objects (modules, models, config, the restored state) leave the
            # collector's generations: its pauses on the decision path stay short
            gc.freeze()
            await supervise(self, tasks)
            await settle_before_stop(self)
        finally:
            await shutdown(self, tasks, metrics_server)
        return self.exit_code

    def stop(self) -> None:
        """Ask the daemon to stop cleanly (a second call skips the settling wait)."""
        if self.stop_requested.is_set():
            self.stop_now.set()
        self.stop_requested.set()

    def _register(self) -> None:
        """Enter the registry of running daemons (a daemon no kill can find must not run)."""
        try:
            self.registry_entry = registry.register(
                self.paths.data_dir.absolute(), self.paths.run_dir.absolute() / "control.sock",
                self.started_ms, self.run_id, self.mode)
        except OSError as err:
            raise DaemonError(f"cannot register the daemon in {registry.registry_dir()}: "
                              f"{err.strerror or err}") from None

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
        """One input through the core, journaled before anything is sent; never raises."""
        started = time.perf_counter_ns()
        try:
            records = self._commit(self.core.step(event))
            self._observe(event, records, time.perf_counter_ns() - started)
        except Exception as err:  # noqa: BLE001 - the shell's own bug: stop first
            log.error("step handling failed", error=describe_error(err),
                      input=type(event).__name__)
            self.fault(FaultKind.SHELL_ERROR, f"{type(event).__name__}: {describe_error(err)}")

    def fault(self, kind: FaultKind, detail: str, unsent: tuple[str, ...] = ()) -> None:
        """Step a ``Fault`` into the core (KILLED at once) and journal what it can."""
        out = self.core.step(Fault(now_ms(), kind, detail, unsent))  # never raises
        self._faulting = True
        try:
            self._commit(out)
        except Exception as err:  # noqa: BLE001 - KILLED already; nothing more to do
            log.critical("recording a fault failed", error=describe_error(err))
        finally:
            self._faulting = False

    def _commit(self, out: Any) -> list[Any]:
        """Journal ``out``, then send / release the orders whose intent is on disk;
        returns every record journaled (the releases' fills included)."""
        records = list(out.records)
        done = commit_records(self.journal, out.records, self._trip_latch)
        self.notices.emit_all(out.notices)
        if out.audits and self.auditor is not None:
            self.auditor.submit(out.audits)  # a worker thread; verdicts come back as steps
        self._track_decision()
        allowed = set(done.allowed)
        if self.bridge is not None:
            for order in out.orders:
                if order.order_id in allowed:
                    self.bridge.submit(order)
        if self.mirror is not None:
            for order in out.orders:
                if order.order_id in allowed:
                    self.mirror.send(order)
            for record in out.records:
                self._tell_mirror(record)
        for order_id in done.allowed:  # after the sends: a presale order fills at once
            if order_id in self.core.held:
                records += self._commit(self.core.step(ReleaseOrder(now_ms(), order_id)))
        if done.failed:
            self._journal_failed(done)
        elif done.committed and self.core.journal_down and not self._faulting:
            records += self._commit(self.core.step(FaultCleared(now_ms(), FaultKind.JOURNAL_WRITE)))
        return records

    def _journal_failed(self, done: Committed) -> None:
        detail = "; ".join(done.errors)
        if self._faulting:  # the fault's own records could not be written: count only
            self.core.stats["fault_records_unwritten"] += len(done.errors)
            self.notices.emit(Notice("fault", "fault_records_unwritten", detail[:300],
                                     "error"))
            return
        if self.core.journal_down and not done.unsent:
            # the same outage goes on (the core makes no order meanwhile): count it only
            self.core.stats["journal_write_failures"] += len(done.errors)
            self.notices.emit(Notice("fault", "journal_still_failing", detail[:300], "error"))
            return
        self.fault(FaultKind.JOURNAL_WRITE, detail, tuple(done.unsent))

    def _track_decision(self) -> None:
        decision = self.core.last_decision
        if decision is not None and (not self.decisions or self.decisions[-1] is not decision):
            self.decisions.append(decision)
            if self.first_decision_ms is None:
                self.first_decision_ms = now_ms()
                log.info("first decision", game_id=decision.game_id, tick=decision.tick,
                         ms_since_start=self.first_decision_ms - self.started_ms)

    def _tell_mirror(self, record: Any) -> None:
        """Paper's outcome of each order, so the mirror compares like with like."""
        if isinstance(record, FillRecord) and record.order_id is not None:
            self.mirror.paper_outcome(record.order_id, True, record.tick)
        elif isinstance(record, OrderRecord) and record.status == OrderStatus.REJECTED.value:
            self.mirror.paper_outcome(record.order_id, False, None)

    def _observe(self, event: Any, records: list[Any], elapsed_ns: int) -> None:
        """Prometheus counters from one step's records; between-games housekeeping."""
        m = self.metrics
        for record in records:
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
        self.latch.trip(killswitch.KillLatch(record.ts_ms, record.source, record.reason))

    def operator(self, action: OperatorAction, source: str, who: str = "", reason: str = ""):
        """Step an operator command into the core now (it is journaled there)."""
        self._step(OperatorInput(now_ms(), action, source, who, reason))

    def _on_sigusr1(self) -> None:
        try:
            latch = killswitch.read_latch(self.paths.run_dir)
            self.operator(OperatorAction.KILL, "signal", "SIGUSR1",
                          latch.describe() if latch else "SIGUSR1")
        except Exception as err:  # noqa: BLE001 - the core is KILLED before any write
            log.error("SIGUSR1 kill: a write failed", error=str(err),
                      killed=self.core.risk.killed)

    def _poll_kill_switch(self, ts: int) -> None:
        """Timer: persist a pending latch, notice the kill file / a latch / an arm."""
        run_dir = self.paths.run_dir
        self.latch.retry()
        if not self.core.risk.killed:
            latch = killswitch.kill_file_latch(run_dir, ts) or killswitch.read_latch(run_dir)
            if latch is not None:
                self.operator(OperatorAction.KILL, "file", latch.who, latch.describe())
        elif self.latch.cleared_on_disk():  # `rugsd arm` cleared the latch while we ran
            self.operator(OperatorAction.ARM, "cli", "rugsd arm", "latch cleared")

    async def _timer(self) -> None:
        while not self.stop_event.is_set():
            await asyncio.sleep(TIMER_MS / 1000)
            ts = now_ms()
            # I/O failures of the poll are handled inside (the latch keeper retries a latch
            # the disk cannot take); anything else ends this task, which ``supervise``
            # turns into KILLED: a daemon whose kill file is not watched must not trade
            self._poll_kill_switch(ts)
            self._step(ClockTick(ts))

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
