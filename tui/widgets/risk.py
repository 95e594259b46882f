"""Risk panel: the trading state (big, coloured), why, and limit-usage bars with their
values (SOL with fixed decimals, order counts as integers)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rugsd.daemon.control.protocol import LimitUsage, RiskInfo
from rugsd.tui.format import bar, is_num, state_style, usage_style


def limit_values(lim: LimitUsage, wide: bool) -> str:
    """``0.010/0.100`` (narrow), ``0.0102/0.1000 SOL`` (wide), ``4/30`` for counts."""
    if not (is_num(lim.used) and is_num(lim.limit)):
        return "n/a"
    if lim.unit == "SOL":
        digits = 4 if wide else 3
        text = f"{lim.used:.{digits}f}/{lim.limit:.{digits}f}"
        return text + " SOL" if wide else text
    return f"{lim.used:.0f}/{lim.limit:.0f}"


def render_risk(risk: RiskInfo | None, width: int, height: int = 99) -> Text:
    """State line, flags line, then one bar per limit (as many as fit)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if risk is None:
        return Text("no data yet", style="dim")
    label = f" {risk.state}{' (latched)' if risk.kill_latched else ''} "
    line_w = max(width, len(label))
    big = height >= len(risk.limits) + 4  # room to spare: a three-line state block
    if big:
        text.append(" " * line_w + "\n", style=state_style(risk.state))
    text.append(label.center(line_w), style=state_style(risk.state))
    if big:
        text.append("\n" + " " * line_w, style=state_style(risk.state))
    flags = risk.flags
    text.append("\n")
    text.append("paused " if flags.operator_paused else "", style="bold yellow")
    text.append("VENUE " if flags.venue_integrity else "", style="bold white on red")
    text.append("feed stale " if flags.feed_stale else "feed ok ",
                style="bold yellow" if flags.feed_stale else "green")
    text.append(f"exec err {flags.exec_errors}", style="red" if flags.exec_errors else "grey62")
    name_w = max((len(lim.name) for lim in risk.limits), default=4) + 1
    wide = width >= 44
    rows = []
    for lim in risk.limits[: max(0, height - (4 if big else 2))]:
        frac = lim.used / lim.limit if is_num(lim.used) and is_num(lim.limit) and lim.limit else None
        tail = limit_values(lim, wide)
        if wide:
            tail = ("  n/a" if frac is None else f"{100 * frac:4.0f}%") + " " + tail
        rows.append((lim, frac, tail))
    tail_w = max((len(tail) for _, _, tail in rows), default=0)  # bars line up
    for lim, frac, tail in rows:
        tail = tail.rjust(tail_w)
        bar_w = max(3, width - name_w - tail_w - 1)
        text.append("\n" + lim.name.ljust(name_w), style="grey70")
        text.append_text(bar(frac, bar_w))
        text.append(" " + tail, style=usage_style(frac) if frac is not None else "dim")
    return text


class RiskPanel(Widget):
    """Trading state and limit usage."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.risk: RiskInfo | None = None
        self.border_title = "risk"

    def show(self, risk: RiskInfo | None) -> None:
        """Take the risk section of a snapshot (or a command answer) and redraw."""
        self.risk = risk
        self.refresh()

    def render(self) -> Text:
        """Draw at the current content size."""
        size = self.content_size
        return render_risk(self.risk, size.width, size.height)
