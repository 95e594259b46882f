"""The top line: venue, mode, strategy, bundle, run — the venue-integrity counter
(``fair 132/132``: games whose provably-fair commitment was verified / games audited) and
the connection status."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import AuditInfo, DaemonInfo
from rugsd.tui.format import short_id
from rugsd.tui.link import LinkState, LinkStatus

MODE_STYLES = {"live": "bold white on red", "paper": "bold black on cyan",
               "replay": "bold black on magenta"}
LINK_STYLES = {
    LinkStatus.CONNECTED: ("● connected", "bold green"),
    LinkStatus.CONNECTING: ("◌ connecting", "bold yellow"),
    LinkStatus.OFFLINE: ("○ daemon offline", "bold red"),
}


def render_fair(audit: AuditInfo | None) -> Text:
    """``fair 132/132``: green when every audited game verified, yellow when some could not
    be verified, red (with the count) when a game broke its commitment."""
    if audit is None:
        return Text()
    label = f" fair {audit.verified}/{audit.audited}"
    if audit.mismatches:
        return Text(f"{label} ✗{audit.mismatches} ", style="bold white on red")
    style = "green" if audit.verified == audit.audited else "yellow"
    return Text(label + " ", style=style if audit.audited else "grey62")


def render_header(daemon: DaemonInfo | None, link: LinkState, width: int,
                  audit: AuditInfo | None = None) -> Text:
    """``rugsd PAPER sim · presale_target · bundle … · run …   fair 132/132  ● connected``."""
    right = render_fair(audit)
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
        self.audit: AuditInfo | None = None

    def show(self, daemon: DaemonInfo | None, link: LinkState,
             audit: AuditInfo | None = None) -> None:
        """Redraw with the latest daemon info, link state and audit counts."""
        self.daemon, self.link, self.audit = daemon, link, audit
        self.refresh()

    def render(self) -> Text:
        """One line, full width."""
        return render_header(self.daemon, self.link, self.content_size.width, self.audit)
