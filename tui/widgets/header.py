"""The top line: venue, mode, strategy, bundle, run — and the connection status."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import DaemonInfo
from rugsd.tui.format import short_id
from rugsd.tui.link import LinkState, LinkStatus

MODE_STYLES = {"live": "bold white on red", "paper": "bold black on cyan",
               "replay": "bold black on magenta"}
LINK_STYLES = {
    LinkStatus.CONNECTED: ("● connected", "bold green"),
    LinkStatus.CONNECTING: ("◌ connecting", "bold yellow"),
    LinkStatus.OFFLINE: ("○ daemon offline", "bold red"),
}


def render_header(daemon: DaemonInfo | None, link: LinkState, width: int) -> Text:
    """``rugsd PAPER sim · presale_target · bundle … · run …        ● connected``."""
    right = Text()
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
        parts.append(f"run {short_id(d.run_id, 22)}")
    if d.pid and width >= 120:
        parts.append(f"pid {d.pid}")
    if parts:
        left.append(" " + " · ".join(parts))
    room = max(0, width - right.cell_len)
    left.truncate(room, overflow="ellipsis")
    left.pad_right(room - left.cell_len)
    return left + right


class StatusHeader(Widget):
    """Who is running and whether the TUI is connected."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.daemon: DaemonInfo | None = None
        self.link = LinkState()

    def show(self, daemon: DaemonInfo | None, link: LinkState) -> None:
        """Redraw with the latest daemon info and link state."""
        self.daemon, self.link = daemon, link
        self.refresh()

    def render(self) -> Text:
        """One line, full width."""
        return render_header(self.daemon, self.link, self.content_size.width)
