"""The full-width banner: daemon unreachable, and the kill latch (whole-screen alarms)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rugsd.tui.link import LinkState, LinkStatus


def banner_lines(link: LinkState, kill_latched: bool) -> list[tuple[str, str]]:
    """(message, kind) per alarm; kind is ``offline`` or ``killed``."""
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
    return lines


class Banner(Static):
    """Hidden unless there is an alarm."""

    def show(self, link: LinkState, kill_latched: bool) -> None:
        """Update text and colour classes; hide when there is nothing to say."""
        lines = banner_lines(link, kill_latched)
        self.set_class(any(k == "offline" for _, k in lines), "-offline")
        self.set_class(any(k == "killed" for _, k in lines), "-killed")
        self.display = bool(lines)
        self.update(Text("\n".join(m for m, _ in lines), justify="center"))
