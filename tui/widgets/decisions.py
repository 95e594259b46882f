"""Scrolling decision log: the orders and refusals of the daemon (never its WAITs), a run
of identical refusals on ONE line that counts up (``×14 to t118``), and the TUI's own notes
(connected, daemon restarted, command answers).

Fed from the snapshot's ``decision_log`` (the current and previous game, so a TUI that
attaches mid-game shows the game so far); from an older daemon without it, from the
non-WAIT rows of ``decisions``. Rows are drawn on demand (Textual's line API), so a
counting row is updated in place instead of being appended again.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rugsd.daemon.control.protocol import DecisionInfo, Snapshot
from rugsd.tui.format import hms_utc, short_id

MAX_LINES = 500


def render_decision(d: DecisionInfo) -> Text:
    """``12:00:00 t118  sidebet 0.001  REFUSED  sidebet_open ×14 to t118`` (UTC)."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f"{hms_utc(d.ts_ms)} ", style="grey62")
    t.append(f"t{d.tick if d.tick is not None else '?':<4} ", style="grey70")
    t.append(f"{d.intent:<14} ", style="bold")
    if d.verdict == "refused":
        t.append("REFUSED ", style="bold white on dark_red")
        t.append(f" {d.reason or 'no reason given'}", style="bold red")
        if d.repeat > 1:
            t.append(f" ×{d.repeat}", style="bold yellow")
            if d.last_tick is not None and d.last_tick != d.tick:
                t.append(f" to t{d.last_tick}", style="yellow")
    elif d.verdict == "order":
        t.append("order ", style="bold green")
        oid = d.order_id or ""
        # daemon order ids embed run and game ids: the tail is what tells them apart
        t.append(oid if len(oid) <= 16 else "…" + oid[-15:], style="green")
    else:
        t.append(d.verdict, style="dim")
    if d.source.startswith("risk:"):
        t.append(f"  ← {d.source}", style="bold yellow")
    return t


def decision_key(d: DecisionInfo) -> tuple:
    """Identity of a log row across snapshots (its first decision; the count may grow)."""
    return (d.ts_ms, d.game_id, d.tick, d.intent, d.verdict, d.reason, d.order_id)


def log_rows(snap: Snapshot) -> list[DecisionInfo]:
    """The rows to log from one snapshot (oldest first)."""
    if snap.decision_log is not None:
        return snap.decision_log
    return [d for d in snap.decisions if d.verdict != "none"]


@dataclass(slots=True)
class _Line:
    text: Text
    key: tuple | None = None  # decision rows only


class DecisionLog(ScrollView):
    """The decisions of the core and the TUI's notes, newest at the bottom."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "decisions · UTC"
        self._lines: list[_Line] = []
        self._rows: dict[tuple, _Line] = {}
        self._game: str | None = None
        self._follow = True  # keep the newest line in view until the operator scrolls up

    @property
    def entries(self) -> list[str]:
        """The lines as plain text (tests, copying)."""
        return [line.text.plain for line in self._lines]

    def show(self, snap: Snapshot) -> int:
        """Add the rows not seen before, update counting rows; returns lines added."""
        added = 0
        for d in log_rows(snap):
            if d.verdict == "none":
                continue
            key = decision_key(d)
            line = self._rows.get(key)
            if line is not None:
                line.text = render_decision(d)
                continue
            if d.game_id and d.game_id != self._game:
                self._game = d.game_id
                self.note(f"── game {short_id(d.game_id, 26)} ──", "grey50")
            line = _Line(render_decision(d), key)
            self._rows[key] = line
            self._append(line)
            added += 1
        self.refresh()
        return added

    def note(self, message: str, style: str = "bold cyan") -> None:
        """A line from the TUI itself (connected, daemon restarted, command results)."""
        self._append(_Line(Text(message, style=style, no_wrap=True, overflow="ellipsis")))

    def forget(self) -> None:
        """After a daemon restart: the next snapshot's decisions are all new."""
        self._rows.clear()
        self._game = None

    def _append(self, line: _Line) -> None:
        self._lines.append(line)
        if len(self._lines) > MAX_LINES:
            for old in self._lines[: len(self._lines) - MAX_LINES]:
                if old.key is not None:
                    self._rows.pop(old.key, None)
            del self._lines[: len(self._lines) - MAX_LINES]
        self.virtual_size = Size(self.size.width, len(self._lines))
        if self._follow:
            self.call_after_refresh(self._to_end)
        self.refresh()

    def _to_end(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self._follow = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling up stops following; scrolling back to the end follows again."""
        super().watch_scroll_y(old_value, new_value)
        self._follow = new_value >= self.max_scroll_y

    def on_resize(self) -> None:
        """A new size keeps the newest line in view when following."""
        if self._follow:
            self.call_after_refresh(self._to_end)

    def render_line(self, y: int) -> Strip:
        """One visible line (the line API: only what is on screen is drawn)."""
        _scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        text = self._lines[index].text.copy()
        text.truncate(width, overflow="ellipsis")
        segments = [s for s in text.render(self.app.console) if s.text != "\n"]
        strip = Strip(segments).crop_extend(0, width, style)
        return Strip(Segment.apply_style(strip, style), width)
