"""The full-width banner: daemon unreachable, the kill latch, and the venue-integrity alert
(an audited game broke its provably-fair commitment) — whole-screen alarms."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from rugsd.tui.link import LinkState, LinkStatus


def banner_lines(link: LinkState, kill_latched: bool, venue: str | None = None,
                 latch_error: str | None = None) -> list[tuple[str, str]]:
    """(message, kind) per alarm; kind is ``offline``, ``killed`` or ``venue``.

    ``latch_error``: KILLED in memory, but the latch file could not be written (the
    daemon retries; ``arm`` is refused meanwhile) — said instead of "latch set"."""
    lines = []
    if link.status is LinkStatus.OFFLINE:
        retry = f"retrying in {link.retry_in_s}s" if link.retry_in_s is not None else "retrying"
        why = f" · {link.reason}" if link.reason else ""
        lines.append((f"DAEMON NOT REACHABLE — {retry}{why}", "offline"))
    if kill_latched:
        suffix = " (last known)" if link.status is not LinkStatus.CONNECTED else ""
        if latch_error:
            message = f"■ KILLED{suffix} — {latch_error} ■"
        else:
            message = (f"■ KILLED — kill latch set, no orders{suffix}. "
                       "Review, then clear with `rugsd arm`. ■")
        lines.append((message, "killed"))
    if venue:
        lines.append((venue, "venue"))
    return lines


class Banner(Static):
    """Hidden unless there is an alarm."""

    def show(self, link: LinkState, kill_latched: bool, venue: str | None = None,
             latch_error: str | None = None) -> None:
        """Update text and colour classes; hide when there is nothing to say."""
        lines = banner_lines(link, kill_latched, venue, latch_error)
        self.set_class(any(k == "offline" for _, k in lines), "-offline")
        self.set_class(any(k == "killed" for _, k in lines), "-killed")
        self.set_class(any(k == "venue" for _, k in lines), "-venue")
        self.display = bool(lines)
        self.update(Text("\n".join(m for m, _ in lines), justify="center"))
