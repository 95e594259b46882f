"""Pure formatting helpers shared by the TUI widgets (no Textual, no clocks)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from rich.text import Text

STATE_STYLES = {
    "ACTIVE": "bold black on green",
    "REDUCING": "bold black on yellow",
    "HALTED": "bold black on dark_orange",
    "KILLED": "bold white on red",
}
_EIGHTHS = " ▏▎▍▌▋▊▉"


def is_num(value: object) -> bool:
    """A finite int/float (bools excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def sol(value: float | None, digits: int = 4, signed: bool = False) -> str:
    """SOL amount text; ``-`` when unknown."""
    if not is_num(value):
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def pnl(value: float | None, digits: int = 4) -> Text:
    """Signed SOL amount coloured by sign."""
    if not is_num(value):
        return Text("-", style="dim")
    style = "green" if value > 0 else "red" if value < 0 else ""
    return Text(f"{value:+.{digits}f}", style=style)


def percent(p: float | None) -> str:
    """A probability as ``" 61.0%"`` (5 cells; ``" 100%"`` at one); ``"  n/a"`` if unknown."""
    if not is_num(p):
        return "  n/a"
    return " 100%" if p >= 0.9995 else f"{100 * p:4.1f}%"


def fits(text: Text, width: int) -> bool:
    """True when ``text`` fits in ``width`` cells."""
    return text.cell_len <= width


def mult(value: float | None, digits: int = 4) -> str:
    """A price multiple like ``1.2345x``."""
    return f"{value:.{digits}f}x" if is_num(value) else "-"


def hms_utc(ts_ms: int | None) -> str:
    """``HH:MM:SS`` in UTC (deterministic, whatever the machine's time zone)."""
    if not is_num(ts_ms):
        return "--:--:--"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%H:%M:%S")


def state_style(state: str) -> str:
    """Rich style of a trading state label."""
    return STATE_STYLES.get(state, "bold white on grey37")


def usage_style(fraction: float) -> str:
    """Green below 60 %, yellow below 85 %, red above."""
    if fraction >= 0.85:
        return "red"
    if fraction >= 0.6:
        return "yellow"
    return "green"


def bar(fraction: float | None, width: int, style: str | None = None) -> Text:
    """A horizontal bar of ``width`` cells with eighth-block resolution."""
    width = max(0, width)
    if not is_num(fraction):
        return Text("·" * width, style="dim")
    frac = min(1.0, max(0.0, float(fraction)))
    eighths = round(frac * width * 8)
    full, part = divmod(eighths, 8)
    filled = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    text = Text(filled, style=style or usage_style(frac))
    text.append("░" * (width - len(filled)), style="grey30")
    return text


def short_id(value: str | None, keep: int = 12) -> str:
    """Shorten long ids (game ids, run ids) for narrow screens."""
    if not value:
        return "-"
    return value if len(value) <= keep else value[: keep - 1] + "…"
