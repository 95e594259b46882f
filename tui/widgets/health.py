"""One line of feed and execution health, long or short to fit the width (nothing that
matters is cut at 80 columns)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import ExecutionInfo, FeedInfo


def _feed_state(feed: FeedInfo) -> tuple[str, str]:
    if not feed.connected:
        return "DISCONNECTED", "bold red"
    if feed.stale:
        return "STALE", "bold yellow"
    return "ok", "green"


def render_health(feed: FeedInfo | None, ex: ExecutionInfo | None, width: int = 200) -> Text:
    """``feed ● ok · last tick 120 ms · reconn 1 · rejected 0 │ exec paper · pending 0 ·
    errors 0 │ url``; without the url, then in short words, when the width is short."""
    if feed is None or ex is None:
        return Text("feed ? │ exec ?", style="dim")
    state, style = _feed_state(feed)
    age = f"{feed.last_tick_age_ms} ms" if feed.last_tick_age_ms is not None else "-"
    for level in range(3):
        short = level == 2
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"feed ● {state}", style=style)
        if short:
            t.append(f" {age.replace(' ', '')} · reconn {feed.reconnects} · rej {feed.rejected}",
                     style="grey70")
        else:
            t.append(f" · last tick {age} · reconn {feed.reconnects} · rejected {feed.rejected}",
                     style="grey70")
        t.append(" │ ", style="grey50")
        t.append(f"{'' if short else 'exec '}{ex.executor or '-'}", style="grey70")
        t.append(f" · pending {ex.pending_orders}", style="grey70")
        t.append(f" · err {ex.errors}" if short else f" · errors {ex.errors}",
                 style="bold red" if ex.errors else "grey70")
        if ex.last_error:
            t.append(f" ({ex.last_error})", style="red")
        if feed.url and level == 0:
            t.append(f" │ {feed.url}", style="grey50")
        if t.cell_len <= width:
            break
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
        return render_health(self.feed, self.execution, self.content_size.width)
