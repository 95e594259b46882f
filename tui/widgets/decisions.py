"""Scrolling decision log: new decisions as they arrive, refusals highlighted with reason."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import RichLog

from rugsd.daemon.control.protocol import DecisionInfo
from rugsd.tui.format import hms_utc, short_id

MAX_LINES = 500


def render_decision(d: DecisionInfo) -> Text:
    """``12:00:00 t118 sidebet 0.001  REFUSED sidebet_open`` (time in UTC)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f"{hms_utc(d.ts_ms)} ", style="grey62")
    t.append(f"t{d.tick if d.tick is not None else '?':<4} ", style="grey70")
    t.append(f"{d.intent:<14} ", style="bold")
    if d.verdict == "refused":
        t.append("REFUSED ", style="bold white on dark_red")
        t.append(f" {d.reason or 'no reason given'}", style="bold red")
    elif d.verdict == "order":
        t.append("order ", style="bold green")
        oid = d.order_id or ""
        # daemon order ids embed run and game ids: the tail is what tells them apart
        t.append(oid if len(oid) <= 16 else "…" + oid[-15:], style="green")
    else:
        t.append(d.verdict, style="dim")
    return t


def decision_key(d: DecisionInfo) -> tuple:
    """Identity of a decision across snapshots (the window slides; items do not change)."""
    return (d.ts_ms, d.game_id, d.tick, d.intent, d.verdict, d.reason, d.order_id)


class DecisionLog(RichLog):
    """The decisions of the core; WAITs (verdict ``none``) are not listed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False,
                         auto_scroll=True, **kwargs)
        self.border_title = "decisions"
        self.entries: deque[str] = deque(maxlen=MAX_LINES)  # plain text, for tests/copying
        self._seen: set[tuple] = set()
        self._game: str | None = None

    def show(self, decisions: list[DecisionInfo]) -> int:
        """Append the decisions not seen before; returns how many lines were added."""
        added = 0
        for d in decisions:
            if decision_key(d) in self._seen or d.verdict == "none":
                continue
            if d.game_id and d.game_id != self._game:
                self._game = d.game_id
                self.note(f"── game {short_id(d.game_id, 26)} ──", "grey50")
            self._write(render_decision(d))
            added += 1
        self._seen = {decision_key(d) for d in decisions}
        return added

    def note(self, message: str, style: str = "bold cyan") -> None:
        """A line from the TUI itself (connected, daemon restarted, command results)."""
        self._write(Text(message, style=style, no_wrap=True, overflow="ellipsis"))

    def forget(self) -> None:
        """After a daemon restart: the next snapshot's decisions are all new."""
        self._seen.clear()
        self._game = None

    def _write(self, text: Text) -> None:
        self.entries.append(text.plain)
        self.write(text)
