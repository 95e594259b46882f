"""The full-width banner: daemon unreachable, the kill latch, and a venue-integrity alert
(an audited game broke its provably-fair commitment) — whole-screen alarms."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rugsd.daemon.control.protocol import AuditInfo
from rugsd.tui.link import LinkState, LinkStatus


def venue_alert(audit: AuditInfo | None, venue_halted: bool) -> str | None:
    """The venue-integrity alert line, or None when no audited game broke its commitment."""
    if audit is None or audit.last_mismatch is None:
        return None
    m = audit.last_mismatch
    where = ""
    if m.tick is not None:
        # repr: the shortest exact form, so a difference in the last digit stays visible
        exp = "game over" if m.expected is None else repr(m.expected)
        obs = "-" if m.observed is None else repr(m.observed)
        where = f" at tick {m.tick} (seed {exp}, venue {obs})"
    what = m.result.replace("_", " ")
    then = "HALTED until `rugsd resume`" if venue_halted else "trading not halted"
    return f"⚠ VENUE INTEGRITY — game {m.game_id}: {what}{where}. {then}. ⚠"


def banner_lines(link: LinkState, kill_latched: bool, audit: AuditInfo | None = None,
                 venue_halted: bool = False) -> list[tuple[str, str]]:
    """(message, kind) per alarm; kind is ``offline``, ``killed`` or ``venue``."""
    lines = []
    if link.status is LinkStatus.OFFLINE:
        retry = f"retrying in {link.retry_in_s}s" if link.retry_in_s is not None else "retrying"
        why = f" · {link.reason}" if link.reason else ""
        lines.append((f"DAEMON NOT REACHABLE — {retry}{why}", "offline"))
    if kill_latched:
        suffix = " (last known)" if link.status is not LinkStatus.CONNECTED else ""
        message = (f"■ KILLED — kill latch set, no orders{suffix}. "
                   "Review, then clear with `rugsd arm`. ■")
        lines.append((message, "killed"))
    alert = venue_alert(audit, venue_halted)
    if alert is not None:
        lines.append((alert, "venue"))
    return lines


class Banner(Static):
    """Hidden unless there is an alarm."""

    def show(self, link: LinkState, kill_latched: bool, audit: AuditInfo | None = None,
             venue_halted: bool = False) -> None:
        """Update text and colour classes; hide when there is nothing to say."""
        lines = banner_lines(link, kill_latched, audit, venue_halted)
        self.set_class(any(k == "offline" for _, k in lines), "-offline")
        self.set_class(any(k == "killed" for _, k in lines), "-killed")
        self.set_class(any(k == "venue" for _, k in lines), "-venue")
        self.display = bool(lines)
        self.update(Text("\n".join(m for m, _ in lines), justify="center"))
