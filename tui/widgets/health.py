"""One line of feed and execution health."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import ExecutionInfo, FeedInfo


def render_health(feed: FeedInfo | None, ex: ExecutionInfo | None) -> Text:
    """``feed ● connected … │ exec paper · pending 0 · errors 0``."""
    t = Text(no_wrap=True, overflow="ellipsis")
    if feed is None or ex is None:
        return Text("feed ? │ exec ?", style="dim")
    if not feed.connected:
        t.append("feed ● DISCONNECTED", style="bold red")
    elif feed.stale:
        t.append("feed ● STALE", style="bold yellow")
    else:
        t.append("feed ● ok", style="green")
    age = f"{feed.last_tick_age_ms} ms" if feed.last_tick_age_ms is not None else "-"
    t.append(f" last tick {age} · reconn {feed.reconnects} · rejected {feed.rejected}",
             style="grey70")
    t.append(" │ ", style="grey50")
    t.append(f"exec {ex.executor or '-'}", style="grey70")
    t.append(f" · pending {ex.pending_orders}", style="grey70")
    t.append(f" · errors {ex.errors}", style="bold red" if ex.errors else "grey70")
    if ex.last_error:
        t.append(f" ({ex.last_error})", style="red")
    if feed.url:
        t.append(f" │ {feed.url}", style="grey50")
    return t


class HealthLine(Widget):
    """Feed and execution health at the bottom of the screen."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.feed: FeedInfo | None = None
        self.execution: ExecutionInfo | None = None

    def show(self, feed: FeedInfo | None, execution: ExecutionInfo | None) -> None:
        """Take the feed/execution sections of a snapshot and redraw."""
        self.feed, self.execution = feed, execution
        self.refresh()

    def render(self) -> Text:
        """One line."""
        return render_health(self.feed, self.execution)
