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
else kill file + SIGUSR1), SIGUSR1, the kill file ``run/KILL`` (watched by
``runtime/killwatch.py``), the TUI. The core goes
KILLED in memory first; the latch file follows (``runtime/latch.py``: retried while the
disk is full, and no ``arm`` before it is written). The daemon registers itself
(``control/registry.py``) so that those commands find it from any directory.

Orders leave through the executors (``runtime/executors.py``); metrics and the
between-games work are ``runtime/housekeeping.py``.

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
    Fault,
    FaultCleared,
    FaultKind,
    OperatorAction,
    OperatorInput,
)
from rugsd.daemon.feed.client import FeedClient
from rugsd.daemon.journal import data_paths, open_journal
from rugsd.daemon.journal.records import KillEvent, Mode, RiskEvent
from rugsd.daemon.runtime.build import make_core, run_started
from rugsd.daemon.runtime.commit import Committed, commit_records
from rugsd.daemon.runtime.console import TradeConsole, banner_info
from rugsd.daemon.runtime.executors import ExecContext, Executor, executor_kind, feed_auth
from rugsd.daemon.runtime.housekeeping import observe
from rugsd.daemon.runtime.killwatch import on_sigusr1, timer, trip_latch
from rugsd.daemon.runtime.latch import LatchKeeper
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
from rugsd.risk.rules import RuleError

__all__ = ["Daemon", "DaemonError", "run_daemon"]

log = structlog.get_logger(__name__)

class Daemon:
    """One running daemon: the core's approved orders go to its executors.

    ``executor`` (default ``[executor] kind``) names an entry of
    ``runtime.executors.EXECUTORS``: ``"paper"`` fills orders inside the core (and mirrors
    them to the simulator when the venue is one); ``"browser"`` clicks them on the venue
    page and feeds the executor's reports back. ``live=True`` trades the real site (the
    CLI has checked the double opt-in before constructing this).
    """

    def __init__(
        self,
        settings: Settings,
        data_dir: Path,
        *,
        feed_url: str | None = None,
        executor: str | None = None,
        live: bool = False,
        strategy: Any = None,
        new_journal: bool = False,
        log_format: str | None = None,
    ):
        self.settings = settings
        self.log_format = log_format or settings.logging.format
        self.new_journal = new_journal
        self.paths = data_paths(data_dir)
        self.feed_url = feed_url
        self.executor_kind = executor or settings.executor.kind
        self.kind = executor_kind(self.executor_kind)  # an unknown name fails here
        self.executors: list[Executor] = []
        self.live = live
        self.mode = Mode.LIVE.value if live else Mode.PAPER.value
        self.strategy_override = strategy
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
        self.control: ControlServer | None = None
        self.auditor: Auditor | None = None  # venue-integrity audits, off the loop
        self.compactor = None  # journal retention, a slice per settlement event
        self.first_decision_ms: int | None = None
        self.latch = LatchKeeper(self.paths.run_dir)
        self.registry_entry: registry.DaemonEntry | None = None
        self.reload_requested = False
        self.bundle_checked_game: str | None = None  # the cooldown already looked after
        self.reconnects_seen = 0  # feed reconnects already counted in the metrics
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
            try:
                self.core = self._make_core(restored)
            except RuleError as err:
                raise DaemonError(str(err)) from None
            self.journal.write(run_started(self.settings, self.core, self.mode, ts))
            journal_opened(self.journal, self.run_id, ts)
            self.console = TradeConsole(self.log_format, balance=self.core.account.balance,
                                        state=self.core.trading_state.value)
        except BaseException:
            # refusing to start (a broken bundle, an unreadable journal...) leaves no pid
            # file behind
            if self.journal is not None:
                with contextlib.suppress(Exception):
                    self.journal.close()
            self.pid_file.unlink(missing_ok=True)
            raise

    def _make_core(self, restored: Any) -> Any:
        return make_core(
            self.settings, run_id=self.run_id, order_prefix=self.run_id,
            account=restored.account, risk=restored.risk, figures=restored.figures,
            strategy=self.strategy_override,
            external_fills=not self.kind.paper_fills,
            exposure_game=restored.exposure_game,
            hold_orders=True,  # paper fills only after the order's intent is on disk
        )

    # -- main ------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until SIGINT/SIGTERM (or ``stop()``); 0 on a clean stop."""
        loop = asyncio.get_running_loop()
        self.auditor = Auditor(self.step, now_ms, self.metrics, loop)
        # before anything else: a SIGUSR1 during start-up is a kill, not the default exit
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGUSR1, lambda: on_sigusr1(self))
        self._restore()
        tasks: list[asyncio.Task] = []
        metrics_server = None
        try:
            self._register()
            if self.live:
                self.venue = Venue(self.feed_url or self.settings.feed.real_url, False)
            else:
                self.venue = await open_venue(self.settings, self.feed_url)
            self.executors = self.kind.build(self.settings, self.venue)
            self.feed = FeedClient(
                self.settings.feed, url=self.venue.url, on_event=self._on_event,
                auth=feed_auth(self.executors),
            )
            ctx = ExecContext(
                settings=self.settings, step=self.step, account=lambda: self.core.account,
                held=lambda order_id: order_id in self.core.held, venue=self.venue,
                feed=self.feed, mode=self.mode, live=self.live,
                data_dir=self.paths.data_dir, strategy=self.core.strategy,
            )
            for ex in self.executors:
                await ex.start(ctx)
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
            tasks.append(asyncio.create_task(timer(self), name="timer"))
            for ex in self.executors:
                await ex.feed_started()
            self.console.banner(banner_info(self))
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
        for ex in self.executors:
            ex.on_feed_event(event)  # e.g. the browser's confirmations of our clicks
        self.step(event)

    def executor(self, name: str) -> Any:
        """The running executor called ``name`` (None when it does not run)."""
        return next((ex for ex in self.executors if ex.name == name), None)

    def step(self, event: Any) -> None:
        """One input through the core, journaled before anything is sent; never raises."""
        started = time.perf_counter_ns()
        try:
            records = self._commit(self.core.step(event))
            observe(self, event, records, time.perf_counter_ns() - started)
        except Exception as err:  # noqa: BLE001 - the shell's own bug: stop first
            log.error("step handling failed", error=describe_error(err),
                      input=type(event).__name__)
            self.fault(FaultKind.SHELL_ERROR, f"{type(event).__name__}: {describe_error(err)}")

    def fault(self, kind: FaultKind, detail: str, unsent: tuple[str, ...] = ()) -> None:
        """Step a ``Fault`` into the core (KILLED at once) and journal what it can."""
        out = self.core.step(Fault(now_ms(), kind, detail, unsent))  # never raises
        self._faulting = True
        try:
            self._commit(out)  # the console prints its lines as they are journaled
        except Exception as err:  # noqa: BLE001 - KILLED already; nothing more to do
            log.critical("recording a fault failed", error=describe_error(err))
        finally:
            self._faulting = False

    def _commit(self, out: Any) -> list[Any]:
        """Journal ``out``, then send / release the orders whose intent is on disk;
        returns every record journaled (the releases' fills included)."""
        records = list(out.records)
        done = commit_records(self.journal, out.records,
                              lambda record: trip_latch(self, record))
        # the terminal's lines now, before any order goes out: a paper release steps its
        # fill in from inside ``submit`` and must print after the order it fills
        self.console.records(out.records if not done.failed else
                             [r for r in out.records if isinstance(r, KillEvent | RiskEvent)])
        self.notices.emit_all(out.notices)
        if out.audits and self.auditor is not None:
            self.auditor.submit(out.audits)  # a worker thread; verdicts come back as steps
        self._track_decision()
        allowed = set(done.allowed)
        orders = [order for order in out.orders if order.order_id in allowed]
        for ex in self.executors:
            for order in orders:
                ex.submit(order)
            ex.on_records(out.records)
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

    def operator(self, action: OperatorAction, source: str, who: str = "", reason: str = ""):
        """Step an operator command into the core now (it is journaled there)."""
        self.step(OperatorInput(now_ms(), action, source, who, reason))

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
    executor: str | None = None,
    live: bool = False,
    new_journal: bool = False,
    log_format: str | None = None,
) -> int:
    """Blocking entry point for ``rugsd run``."""
    daemon = Daemon(settings, data_dir, feed_url=feed_url, executor=executor, live=live,
                    new_journal=new_journal, log_format=log_format)
    return asyncio.run(daemon.run())
