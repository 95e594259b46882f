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

from daemon.config import Settings
from daemon.control.metrics import RugsdMetrics, start_metrics_server
from daemon.control.server import ControlServer
from daemon.core.inputs import (
    ClockTick,
    ExecReport,
    ExecStatus,
    OperatorAction,
    OperatorInput,
    VenueAccount,
)
from daemon.events import GameUpdate, Phase
from daemon.feed.client import FeedClient
from daemon.journal import data_paths, open_journal
from daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    KillEvent,
    Mode,
    OrderRecord,
    OrderStatus,
    TickRecord,
)
from daemon.journal.recovery import mark_open_orders_unknown, restore
from daemon.runtime.build import make_core, run_started
from daemon.runtime.mirror import SimMirror
from daemon.runtime.snapshot import build_snapshot
from daemon.runtime.venue import Venue, open_venue
from risk import killswitch
from risk.context import SessionFigures
from risk.states import RiskState
from strategy.registry import build_strategy

log = structlog.get_logger(__name__)

TIMER_MS = 100  # kill-file poll and stale-feed check period


def now_ms() -> int:
    """Wall clock in ms (the shell stamps inputs; the core never reads clocks)."""
    return time.time_ns() // 1_000_000


class DaemonError(Exception):
    """The daemon cannot start (another instance, unreadable journal...)."""


def claim_pid_file(run_dir: Path) -> Path:
    """Write our pid; refuse when another live daemon owns this data dir."""
    path = killswitch.pid_path(run_dir)
    other = killswitch.read_pid(run_dir) if path.exists() else None
    if other and other != os.getpid() and killswitch.pid_alive(other):
        raise DaemonError(f"another rugsd (pid {other}) is running on {run_dir.parent}")
    path.write_text(f"{os.getpid()}\n")
    return path


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
    ):
        self.settings = settings
        self.paths = data_paths(data_dir)
        self.feed_url = feed_url
        self.executor_kind = executor
        self.live = live
        self.mode = Mode.LIVE.value if live else Mode.PAPER.value
        self.strategy_override = strategy
        self.browser: Any = None
        self._submits: set[asyncio.Task] = set()
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
        self._latch_seen = False
        self._reload_requested = False
        self._bundle_checked_game: str | None = None
        self._reconnects_seen = 0

    # -- start-up ------------------------------------------------------------------------

    def _restore(self) -> None:
        paths = self.paths
        paths.run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(paths.run_dir, 0o700)
        self.pid_file = claim_pid_file(paths.run_dir)
        self.journal = open_journal(paths.data_dir, self.settings)
        state = restore(self.journal, paths.run_dir, modes=(self.mode,))
        ts = now_ms()
        if state.open_orders:
            mark_open_orders_unknown(self.journal, state, ts)
            log.warning("orders open at the last stop marked unknown (never re-sent)",
                        count=len(state.open_orders))
        risk = RiskState()
        latch = killswitch.read_latch(paths.run_dir)
        if latch is not None:
            risk, _ = risk.restore_kill(ts, latch.describe())
            self._latch_seen = True
            log.warning("kill latch in force: trading stays KILLED until `rugsd arm`",
                        latch=latch.describe())
        figures = None
        s = state.session
        if state.account is not None and s.current_equity is not None:
            figures = SessionFigures(
                start_equity=s.current_equity, peak_equity=s.current_equity,
                day_start_equity=s.day_start_equity if s.day_start_equity is not None
                else s.current_equity,
                equity=s.current_equity, day=ts // 86_400_000,
            )
        try:
            self.core = make_core(
                self.settings, run_id=self.run_id, order_prefix=self.run_id,
                account=state.account, risk=risk, figures=figures,
                strategy=self.strategy_override,
                external_fills=self.executor_kind == "browser",
            )
        except Exception:
            # refusing to start (e.g. a broken model bundle) leaves no pid file behind
            self.journal.close()
            self.pid_file.unlink(missing_ok=True)
            raise
        self.journal.write(run_started(self.settings, self.core, self.mode, ts))
        if state.account is not None:
            log.info("account restored from the journal", balance=state.account.balance,
                     qty=state.account.qty, last_game=state.last_game_id)

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
                await self._start_browser(player)
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
        if self._submits:
            await asyncio.wait(set(self._submits), timeout=5)
        if self.browser is not None:
            await self.browser.stop()
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
        if self.browser is not None and not isinstance(event, GameUpdate):
            self.browser.on_feed_event(event)  # confirmations of our clicks
        self._step(event)

    # -- browser execution -------------------------------------------------------------------

    def _page_url(self, player: str) -> str:
        if self.live:
            return self.settings.live.venue_url
        return f"{self.venue.url.rstrip('/')}/?player={player}"

    async def _start_browser(self, player: str) -> None:
        from daemon.execution.browser import PlaywrightExecutor

        self.browser = PlaywrightExecutor(
            self.settings.browser, self._page_url(player), self.paths.data_dir,
            on_venue_account=self._step,
        )
        await self.browser.start()
        deadline = time.monotonic() + self.settings.feed.connect_timeout_s
        while self.browser.account is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # the page's first playerUpdate names us
        account = self.browser.account
        if account is None:
            raise DaemonError("the venue page never reported our account (not logged in?)")
        self._step(VenueAccount(now_ms(), account))
        lim = self.settings.risk
        banner = (
            f"rugsd {self.mode.upper()} via browser on {self._page_url(player)} as player "
            f"{self.browser.player_id}; balance {account.balance / 1e9:.4f} SOL; limits: "
            f"max bet {lim.max_bet_sol} SOL, max position {lim.max_position_sol} SOL, "
            f"daily loss {lim.max_daily_loss_sol} SOL, drawdown {lim.max_drawdown_sol} SOL"
        )
        print(banner, flush=True)
        log.info("browser executor ready", player=self.browser.player_id, mode=self.mode)

    def _submit(self, order: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._click(order))
        self._submits.add(task)
        task.add_done_callback(self._submits.discard)

    async def _click(self, order: Any) -> None:
        try:
            report = await self.browser.submit(order)
        except Exception as err:  # noqa: BLE001 - an executor bug fails the order, not us
            report = ExecReport(now_ms(), order.order_id, ExecStatus.FAILED,
                                detail=f"executor error: {err!r}")
        self._step(report)

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
        decision = self.core.last_decision
        if decision is not None and (not self.decisions or self.decisions[-1] is not decision):
            self.decisions.append(decision)
            if self.first_decision_ms is None:
                self.first_decision_ms = now_ms()
                log.info("first decision", game_id=decision.game_id, tick=decision.tick,
                         ms_since_start=self.first_decision_ms - self.started_ms)
        if self.browser is not None:
            for order in out.orders:
                if order.order_id in allowed:
                    self._submit(order)
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
        """Cooldown: reconcile with the simulator, pick up a newly promoted bundle."""
        view = self.core.view
        if view.phase is not Phase.COOLDOWN or self._bundle_checked_game == view.game_id:
            return
        self._bundle_checked_game = view.game_id
        if self.mirror is not None:
            asyncio.get_running_loop().create_task(
                self.mirror.reconcile(lambda: self.core.account))
        if self._reload_requested or self._bundle_changed():
            self._reload_strategy()

    def _bundle_changed(self) -> bool:
        if self.settings.strategy.name != "onnx":
            return False
        from strategy.bundle import resolve_current

        try:
            current = resolve_current(self.settings.strategy.models_dir)
        except Exception:  # noqa: BLE001 - a broken pointer keeps the loaded bundle
            return False
        loaded = getattr(getattr(self.core.strategy, "bundle", None), "path", None)
        return current is not None and loaded is not None and Path(current) != Path(loaded)

    def _reload_strategy(self) -> str:
        self._reload_requested = False
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
        self._latch_seen = True

    def _operator(self, action: OperatorAction, source: str, who: str = "", reason: str = ""):
        self._step(OperatorInput(now_ms(), action, source, who, reason))

    def _on_sigusr1(self) -> None:
        latch = killswitch.read_latch(self.paths.run_dir)
        self._operator(OperatorAction.KILL, "signal", "SIGUSR1",
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
                    self._operator(OperatorAction.KILL, "file", latch.who, latch.describe())
            elif self._latch_seen and not killswitch.latch_present(run_dir):
                # `rugsd arm` cleared the latch while we ran
                self._latch_seen = False
                self._operator(OperatorAction.ARM, "cli", "rugsd arm", "latch cleared")

    # -- control plane --------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The control-plane snapshot (docs/control-protocol.md)."""
        self.snapshot_seq += 1
        feed = self.feed
        health = feed.health_snapshot() if feed is not None else None
        mirror = self.mirror.stats if self.mirror is not None else None
        return build_snapshot(
            self.core, seq=self.snapshot_seq, now_ms=now_ms(),
            daemon={
                "pid": os.getpid(), "run_id": self.run_id, "mode": self.mode,
                "strategy": self.core.strategy.name,
                "bundle_version": getattr(getattr(getattr(self.core.strategy, "bundle", None),
                                                  "manifest", None), "version", None),
                "started_ts_ms": self.started_ms, "executor": self.executor_kind,
            },
            feed={
                "url": self.venue.url if self.venue else "",
                "connected": bool(feed and feed.connected),
                "stale": bool(health.stale) if health else True,
                "last_tick_age_ms": health.age_ms if health else None,
                "reconnects": health.reconnects if health else 0,
                "rejected": _rejected(health.parse_stats) if health else 0,
            },
            execution={
                "executor": self.executor_kind, "pending_orders": len(self.core.open_orders),
                "errors": self.core.stats["exec_errors"],
                "last_error": (self.browser.last_error or None) if self.browser else None,
                "mirror": None if mirror is None else {
                    "sent": mirror.sent, "reconciled": mirror.reconciled,
                    "mismatches": mirror.mismatches, "late": mirror.late,
                },
            },
            decisions=self.decisions,
            kill_latched=killswitch.latch_present(self.paths.run_dir),
        )

    def command(self, request: Any) -> dict[str, Any]:
        """Handle one control-plane command; answer with the resulting risk state."""
        cmd = str(getattr(request, "cmd", ""))
        args = dict(getattr(request, "args", None) or {})
        who = str(getattr(request, "who", "") or "control")
        detail = ""
        ok = True
        if cmd == "kill":
            self._operator(OperatorAction.KILL, "tui" if who.startswith("tui") else "control",
                           who, str(args.get("reason", "")))
        elif cmd in ("pause", "resume", "flatten"):
            self._operator(OperatorAction(cmd), "control", who, str(args.get("reason", "")))
            if self.core.risk.killed:
                # the kill latch outranks pause/resume/flatten: say so instead of "ok"
                ok, detail = False, "trading is KILLED: clear the latch with `rugsd arm` first"
        elif cmd == "arm":
            result = killswitch.arm(self.paths.run_dir, str(args.get("token", "")))
            # NOT_KILLED: no latch on disk (e.g. `rugsd arm` cleared it just now) — the
            # latch file is the source of truth, so the core follows it
            ok = result in (killswitch.ArmResult.ARMED, killswitch.ArmResult.NOT_KILLED)
            detail = str(result)
            if ok and self.core.risk.killed:
                self._latch_seen = False
                self._operator(OperatorAction.ARM, "control", who, "armed with token")
        elif cmd == "reload-model":
            self._reload_requested = True
            detail = "reload scheduled for the next cooldown"
        elif cmd == "status":
            pass
        else:
            return {"ok": False, "cmd": cmd, "detail": f"unknown command {cmd!r}"}
        snap = self.snapshot()
        return {"ok": ok, "cmd": cmd, "risk": snap["risk"], "detail": detail}


def _rejected(parse_stats: dict[str, Any]) -> int:
    """Total parser rejections from the feed's parse statistics."""
    rejected = parse_stats.get("rejected", 0)
    if isinstance(rejected, dict):
        return int(sum(v for v in rejected.values() if isinstance(v, int)))
    return int(rejected or 0)


def run_daemon(
    settings: Settings,
    data_dir: Path,
    feed_url: str | None = None,
    executor: str = "paper",
    live: bool = False,
) -> int:
    """Blocking entry point for ``rugsd run``."""
    daemon = Daemon(settings, data_dir, feed_url=feed_url, executor=executor, live=live)
    return asyncio.run(daemon.run())
