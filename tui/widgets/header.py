"""The top line: venue, mode, strategy, bundle, run — then badges (``fair 132/132``) and
the connection status, which always stay visible (the left part is cut first).

Badges are short ``(text, style)`` chips from ``header_badges(raw snapshot)``. They read
the RAW snapshot dict, so a new section can be shown without a schema change; a missing
or malformed section shows nothing rather than breaking the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import DaemonInfo
from rugsd.tui.format import short_id
from rugsd.tui.link import LinkState, LinkStatus
from rugsd.tui.widgets.venue import fair_badge

MODE_STYLES = {"live": "bold white on red", "paper": "bold black on cyan",
               "replay": "bold black on magenta"}
LINK_STYLES = {
    LinkStatus.CONNECTED: ("● connected", "bold green"),
    LinkStatus.CONNECTING: ("◌ connecting", "bold yellow"),
    LinkStatus.OFFLINE: ("○ daemon offline", "bold red"),
}
Badge = tuple[str, str]


def header_badges(raw: Mapping[str, Any] | None) -> list[Badge]:
    """Chips for the header from the raw snapshot: the venue audit's ``fair V/N`` and the
    browser executor's reconciliation mismatches, when there are any."""
    if not isinstance(raw, Mapping):
        return []
    badges: list[Badge] = []
    fair = fair_badge(raw)
    if fair is not None:
        badges.append(fair)
    execution = raw.get("execution")
    mirror = execution.get("mirror") if isinstance(execution, Mapping) else None
    if isinstance(mirror, Mapping):
        bad = mirror.get("mismatches")
        if isinstance(bad, int) and not isinstance(bad, bool) and bad > 0:
            badges.append((f"mismatch {bad}", "bold black on yellow"))
    return badges


def render_header(daemon: DaemonInfo | None, link: LinkState, width: int,
                  badges: Sequence[Badge] = ()) -> Text:
    """``rugsd PAPER sim · onnx · bundle … · run …   [badges] ● connected``."""
    right = Text()
    for text, style in badges:
        right.append(f" {text} ", style=style)
        right.append(" ")
    label, style = LINK_STYLES[link.status]
    if link.restarts:
        right.append(f"↻{link.restarts} ", style="yellow")
    right.append(label + " ", style=style)
    left = Text(no_wrap=True, overflow="ellipsis")
    left.append(" rugsd ", style="bold")
    d = daemon or DaemonInfo()
    if d.mode:
        mode = d.mode.lower()
        left.append(f" {mode.upper()} ", style=MODE_STYLES.get(mode, "bold reverse"))
    parts = [p for p in (d.venue, d.strategy, d.bundle_version and f"bundle {d.bundle_version}")
             if p]
    if d.run_id and width >= 100:
        parts.append(f"run {short_id(d.run_id, 26)}")
    if d.pid and width >= 120:
        parts.append(f"pid {d.pid}")
    if parts:
        left.append(" " + " · ".join(parts))
    room = max(0, width - right.cell_len)
    left.truncate(room, overflow="ellipsis")
    left.pad_right(room - left.cell_len)
    return left + right


class StatusHeader(Widget):
    """Who is running, status badges and whether the TUI is connected."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.daemon: DaemonInfo | None = None
        self.link = LinkState()
        self.badges: list[Badge] = []

    def show(self, daemon: DaemonInfo | None, link: LinkState,
             raw: Mapping[str, Any] | None = None) -> None:
        """Redraw with the latest daemon info, link state and raw snapshot."""
        self.daemon, self.link = daemon, link
        if raw is not None:
            self.badges = header_badges(raw)
        self.refresh()

    def render(self) -> Text:
        """One line, full width."""
        return render_header(self.daemon, self.link, self.content_size.width, self.badges)
