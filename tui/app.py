"""``rugsd tui``: the Textual dashboard, a pure client of the control socket.

One background worker keeps one subscription open and reconnects with capped backoff;
commands go over short separate connections. Quitting the TUI never touches the daemon.
The view is driven only by snapshot data (no clocks), so screenshots are deterministic:
``apply_snapshot`` / ``set_offline`` are public for tests and the screenshot script.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Footer

from rugsd.daemon.control.client import (
    ControlConnection,
    ControlError,
    ControlUnavailable,
    answer_ok,
    default_who,
    send_command,
)
from rugsd.daemon.control.protocol import Command, RiskInfo, Snapshot, parse_snapshot
from rugsd.tui.link import LinkState, LinkStatus
from rugsd.tui.widgets.banner import Banner
from rugsd.tui.widgets.chart import PriceChart
from rugsd.tui.widgets.confirm import ConfirmScreen
from rugsd.tui.widgets.decisions import DecisionLog
from rugsd.tui.widgets.header import StatusHeader
from rugsd.tui.widgets.health import HealthLine
from rugsd.tui.widgets.model import ModelPanel
from rugsd.tui.widgets.positions import AccountPanel
from rugsd.tui.widgets.risk import RiskPanel
from rugsd.tui.widgets.venue import venue_alert

_W = TypeVar("_W", bound=Widget)

# what a kill does, said before it is done (the daemon process does NOT exit)
KILL_QUESTION = (
    "KILL TRADING?\n"
    "• sells any open position now (flatten)\n"
    "• then no new orders: every buy and sidebet is refused\n"
    "• latched on disk: still KILLED after a restart\n"
    "The daemon keeps running (feed, journal, this screen).\n"
    "Trading resumes only after `rugsd arm`."
)
FLATTEN_QUESTION = (
    "FLATTEN?\n"
    "Sells the whole position now, then exits only (REDUCING) until you resume (r). "
    "Nothing is latched; the daemon keeps running."
)

class RugsdTui(App[None]):
    """Live positions, P&L, model outputs, risk state and the kill switch."""

    CSS_PATH = "app.tcss"
    TITLE = "rugsd"
    ENABLE_COMMAND_PALETTE = False
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (120, "-wide")]
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("k", "kill", "Kill"),
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("f", "flatten", "Flatten"),
        Binding("c", "toggle_candles", "Candles"),
        Binding("l", "toggle_log", "Log"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        sock_path: Path | str,
        *,
        who: str | None = None,
        connect: bool = True,
        retry_min_s: float = 1.0,
        retry_max_s: float = 10.0,
        stale_after_s: float = 5.0,
        command_timeout_s: float = 5.0,
    ) -> None:
        super().__init__()
        self.sock_path = Path(sock_path)
        self.who = who or default_who("tui")
        self.connect = connect
        self.retry_min_s, self.retry_max_s = retry_min_s, retry_max_s
        self.stale_after_s = stale_after_s
        self.command_timeout_s = command_timeout_s
        self.snapshot: Snapshot | None = None
        self.raw: dict[str, Any] | None = None  # the last snapshot as sent (header badges)
        self.link = LinkState()
        self.answers: list[dict[str, Any]] = []  # command answers, newest last
        self.bad_sections = 0  # snapshot sections dropped by the tolerant parser
        self._announce = True  # note the next snapshot as "connected" in the log
        self._main: Any = None  # the main screen, set on mount (dialogs stack above it)

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Header, alarms banner, chart + risk, account + model, decisions, health."""
        yield StatusHeader(id="header")
        yield Banner(id="banner")
        with Horizontal(id="top"):
            yield PriceChart(id="chart", classes="panel")
            yield RiskPanel(id="risk", classes="panel")
        with Horizontal(id="middle"):
            yield AccountPanel(id="account", classes="panel")
            yield ModelPanel(id="model", classes="panel")
        yield DecisionLog(id="decisions", classes="panel")
        yield HealthLine(id="health")
        yield Footer()

    def on_mount(self) -> None:
        """Draw the empty state and start following the daemon."""
        self._main = self.screen
        self._render()
        if self.connect:
            self.run_worker(self._follow(), name="subscription", group="subscription",
                            exclusive=True)

    def _widget(self, kind: type[_W]) -> _W:
        """A widget of the MAIN screen: ``App.query_one`` searches the active screen,
        which is the confirmation dialog while one is open."""
        return (self._main or self.screen).query_one(kind)

    # --- state in --------------------------------------------------------------------

    @property
    def kill_latched(self) -> bool:
        """True when the last known risk state is KILLED / latched."""
        risk = self.snapshot.risk if self.snapshot is not None else None
        return risk is not None and (risk.kill_latched or risk.state == "KILLED")

    def apply_snapshot(self, raw: dict[str, Any]) -> None:
        """Show one snapshot (from the subscription, or fixed data in tests/screenshots)."""
        if not self.is_running:  # quitting: the widgets are being removed under us
            return
        snap, problems = parse_snapshot(raw)
        if problems:
            self.bad_sections += len(problems)
            self.log.warning("snapshot sections dropped", problems=problems)
        log = self._widget(DecisionLog)
        run_id = snap.daemon.run_id
        restarts = self.link.restarts
        if self.link.run_id is not None and run_id is not None and run_id != self.link.run_id:
            restarts += 1
            log.forget()
            log.note(f"── daemon restarted: run {self.link.run_id} → {run_id} ──", "bold yellow")
            self.notify(f"daemon restarted (run {run_id})", title="rugsd", severity="warning")
        elif self._announce:
            log.note(f"── connected to daemon pid {snap.daemon.pid} run {run_id} ──", "bold cyan")
        self._announce = False
        self.link = LinkState(LinkStatus.CONNECTED, restarts=restarts,
                              run_id=run_id or self.link.run_id)
        self.snapshot, self.raw = snap, raw
        self._render()

    def set_offline(self, reason: str, retry_in_s: int | None) -> None:
        """Show the daemon as unreachable (keeps the last data, dimmed)."""
        if not self.is_running:  # quitting: the widgets are being removed under us
            return
        if self.link.status is LinkStatus.CONNECTED:
            self._widget(DecisionLog).note(f"── lost the daemon: {reason} ──", "bold red")
        self._announce = True
        self.link = LinkState(LinkStatus.OFFLINE, reason=reason, retry_in_s=retry_in_s,
                              restarts=self.link.restarts, run_id=self.link.run_id)
        self._render()

    def _render(self) -> None:
        if not self.is_running:  # quitting: the widgets are being removed under us
            return
        snap = self.snapshot
        self._widget(StatusHeader).show(snap.daemon if snap else None, self.link, self.raw)
        latch_error = snap.risk.latch_error if snap is not None and snap.risk else None
        self._widget(Banner).show(self.link, self.kill_latched, venue_alert(self.raw),
                                  latch_error)
        self._main.set_class(self.kill_latched, "-killed")
        self._main.set_class(self.link.status is LinkStatus.OFFLINE, "-offline")
        if snap is None:
            return
        self._widget(PriceChart).show(snap)
        self._widget(RiskPanel).show(snap.risk)
        self._widget(AccountPanel).show(snap.account)
        self._widget(ModelPanel).show(snap.model, snap.daemon.strategy)
        self._widget(DecisionLog).show(snap)
        self._widget(HealthLine).show(snap.feed, snap.execution)

    # --- the subscription ------------------------------------------------------------

    async def _follow(self) -> None:
        """Keep one subscription; on loss, say so and retry with capped backoff."""
        delay = self.retry_min_s
        while True:
            try:
                conn = await ControlConnection.open(self.sock_path, timeout=2.0)
                async with conn:
                    stream = conn.subscribe(self.who, read_timeout=self.stale_after_s)
                    try:
                        async for msg in stream:
                            self.apply_snapshot(msg)
                            delay = self.retry_min_s
                    finally:
                        await stream.aclose()
                reason = "the daemon closed the connection"
            except (ControlUnavailable, ControlError) as err:
                reason = str(err)
            await self._wait_retry(reason, delay)
            delay = min(delay * 2, self.retry_max_s)

    async def _wait_retry(self, reason: str, delay: float) -> None:
        remaining = delay
        while remaining > 0:
            self.set_offline(reason, math.ceil(remaining))
            step = min(1.0, remaining)
            await asyncio.sleep(step)
            remaining -= step

    # --- commands --------------------------------------------------------------------

    def action_kill(self) -> None:
        """Kill switch, after confirmation."""
        self.push_screen(
            ConfirmScreen(KILL_QUESTION, "Kill"),
            lambda yes: self._send(Command.KILL, {"reason": "tui"}) if yes else None,
        )

    def action_flatten(self) -> None:
        """Sell everything (then REDUCING), after confirmation."""
        self.push_screen(
            ConfirmScreen(FLATTEN_QUESTION, "Flatten"),
            lambda yes: self._send(Command.FLATTEN, {"reason": "tui"}) if yes else None,
        )

    def action_pause(self) -> None:
        """HALTED by operator."""
        self._send(Command.PAUSE, {"reason": "tui"})

    def action_resume(self) -> None:
        """Clear an operator pause / flatten (never a kill)."""
        self._send(Command.RESUME, {})

    def action_toggle_log(self) -> None:
        """Switch the chart between linear and log scale."""
        chart = self._widget(PriceChart)
        chart.log_scale = not chart.log_scale

    def action_toggle_candles(self) -> None:
        """Switch the chart between the line and 5-tick candles (as the venue draws it)."""
        chart = self._widget(PriceChart)
        chart.candles = not chart.candles

    def _send(self, cmd: Command, args: dict[str, Any]) -> None:
        self.run_worker(self._command(cmd, args), group="commands")

    async def _command(self, cmd: Command, args: dict[str, Any]) -> None:
        log = self._widget(DecisionLog)
        try:
            answer = await send_command(self.sock_path, cmd, args, self.who,
                                        self.command_timeout_s)
        except (ControlUnavailable, ControlError) as err:
            self.notify(f"{cmd} NOT sent: {err}", title="daemon not reachable", severity="error")
            log.note(f"» {cmd} NOT sent: {err}", "bold red")
            return
        self.answers.append(answer)
        if answer.get("type") == "error":
            self.notify(f"{cmd}: {answer.get('error')}", title="refused", severity="error")
            log.note(f"» {cmd} refused: {answer.get('error')}", "bold red")
            return
        ok = answer_ok(answer)
        self._apply_risk(answer.get("risk"))
        state = self.snapshot.risk.state if self.snapshot is not None else "?"
        detail = answer.get("detail") or ""
        text = f"{cmd}: {'ok' if ok else 'refused'} → {state}" + (f" ({detail})" if detail else "")
        self.notify(text, title="rugsd", severity="information" if ok else "warning")
        log.note(f"» {text}", "bold green" if ok else "bold yellow")

    def _apply_risk(self, raw: Any) -> None:
        """Show the state a command answer reports right away (the next snapshot follows)."""
        if self.snapshot is None or not isinstance(raw, dict):
            return
        try:
            risk = RiskInfo.model_validate(raw)
        except ValidationError:
            return
        self.snapshot = self.snapshot.model_copy(update={"risk": risk})
        self._render()
