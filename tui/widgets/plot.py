"""Pieces the two chart views share (line and candles): price cleaning, marker glyphs,
axis labels and the tick axis. Pure functions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text

from rugsd.tui.format import is_num, mult

MARKER_GLYPHS = {
    "buy": ("▲", "bold bright_green"),
    "sell": ("▼", "bold bright_magenta"),
    "rug_sell": ("✖", "bold bright_red"),
    "sidebet": ("◆", "bold bright_yellow"),
}
LABEL_W = 8
MAX_PRICE = 1e12  # anything above is junk (real multiples stay far below), not a number to plot


def price_floor(log_scale: bool) -> float:
    """Prices must be above this to plot (never negative; log needs > 0)."""
    return 1e-9 if log_scale else -1e-12


def clean_prices(prices: Sequence[float | None], log_scale: bool) -> list[float]:
    """Junk or missing prices carry the last good one forward (the first good one back),
    so ticks stay aligned with markers; empty when there is no good price at all."""
    floor = price_floor(log_scale)
    carried: list[float | None] = []
    last: float | None = None
    for p in prices:
        if is_num(p) and floor < p <= MAX_PRICE:
            last = float(p)
        carried.append(last)
    first_good = next((v for v in carried if v is not None), None)
    return [first_good if v is None else v for v in carried] if first_good else []


def plottable(price: object, log_scale: bool) -> bool:
    """A marker price that can be drawn."""
    return is_num(price) and price_floor(log_scale) < price <= MAX_PRICE


def scaler(lo_v: float, hi_v: float, log_scale: bool, steps: int) -> Callable[[float], int]:
    """Value → sub-row (0 = top, ``steps - 1`` = bottom) for a plot spanning ``lo_v`` …
    ``hi_v``; values off the range sit on its edge."""
    def scale(v: float) -> float:
        return math.log(v) if log_scale else v

    lo, hi = scale(lo_v), scale(hi_v)
    span = (hi - lo) or 1.0

    def index(v: float) -> int:
        return max(0, min(steps - 1, round((hi - scale(v)) / span * (steps - 1))))

    return index


def labels_for(plot_h: int, lo_v: float, hi_v: float, log_scale: bool) -> dict[int, str]:
    """Price labels by row: top, bottom and (5 rows or more) the middle."""
    labels = {0: hi_v, plot_h - 1: lo_v}
    if plot_h >= 5:
        mid = (math.exp((math.log(hi_v) + math.log(lo_v)) / 2) if log_scale
               else (hi_v + lo_v) / 2)
        labels[(plot_h - 1) // 2] = mid
    return {row: axis_label(v) for row, v in labels.items()}


def axis_label(value: float) -> str:
    """A price label of at most ``LABEL_W - 1`` cells: ``1.79x``, ``123.4x``, ``2e+05x``."""
    for text in (mult(value, 2), mult(value, 1), mult(value, 0)):
        if len(text) < LABEL_W:
            return text
    return f"{value:.0e}x"


def axis_line(label_w: int, plot_w: int, first: int, last: int, middle: str = "") -> Text:
    """``t0──── 5-tick candles ────t120`` under the plot."""
    left, right = f"t{first}", f"t{last}"
    fill = max(0, plot_w - len(left) - len(right))
    if middle and len(middle) + 2 <= fill:
        a = (fill - len(middle)) // 2
        line = left + "─" * a + middle + "─" * (fill - a - len(middle)) + right
    else:
        line = left + "─" * fill + right
    return Text(" " * label_w + line[:plot_w], style="grey50")


@dataclass(frozen=True, slots=True)
class Frame:
    """Where a chart draws inside ``width``×``height`` cells: price labels on the left
    (24 columns or more), the plot, the tick axis at the bottom (5 rows or more)."""

    label_w: int
    plot_w: int
    plot_h: int
    axis: bool

    @classmethod
    def of(cls, width: int, height: int) -> Frame:
        """The layout for a size (at least 4×1)."""
        label_w = LABEL_W if width >= 24 else 0
        axis = height >= 5
        return cls(label_w, width - label_w, height - (1 if axis else 0), axis)


def waiting(width: int, height: int) -> Text:
    """The chart before the first tick."""
    pad = max(0, (height - 1) // 2)
    return Text("\n" * pad + "waiting for ticks…".center(width)[:width], style="dim",
                no_wrap=True, overflow="crop")


Cell = Callable[[int, int], "tuple[str, str] | None"]


def draw(frame: Frame, labels: dict[int, str], cell: Cell, base: int, first: int,
         last: int, axis_middle: str = "") -> Text:
    """Rows of ``cell(row, col)`` (glyph, style) with the price labels, the 1.00x baseline
    where a cell is empty, then the tick axis."""
    text = Text(no_wrap=True, overflow="crop")
    for cy in range(frame.plot_h):
        if frame.label_w:
            label = labels.get(cy)
            text.append(f"{label:>{frame.label_w - 1}} " if label else " " * frame.label_w,
                        style="grey62")
        for cx in range(frame.plot_w):
            drawn = cell(cy, cx)
            if drawn is not None:
                text.append(drawn[0], style=drawn[1])
            elif cy == base:
                text.append("┈", style="grey35")
            else:
                text.append(" ")
        if cy < frame.plot_h - 1 or frame.axis:
            text.append("\n")
    if frame.axis:
        text.append_text(axis_line(frame.label_w, frame.plot_w, first, last, axis_middle))
    return text
