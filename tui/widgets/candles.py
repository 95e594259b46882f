"""The price chart as the venue draws it: 5-tick candles.

Candle ``k`` covers ticks ``5k … 5k+4`` (absolute tick numbers, so candles do not shift
as the window slides); its open is the previous candle's close (the game's first candle
opens at the first price), high/low the extremes including the open, green when it
closed at or above its open. The newest candle may be partial. A candle is 1-3 columns
wide with a gap column after it (the newest that fit are shown); each cell holds two
half-rows (body ``█▀▄``, wick ``│╵╷``). ``render_candles`` is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from rugsd.daemon.control.protocol import Marker
from rugsd.tui.widgets.plot import (
    MARKER_GLYPHS,
    Frame,
    clean_prices,
    draw,
    labels_for,
    plottable,
    scaler,
    waiting,
)

TICKS_PER_CANDLE = 5
UP, DOWN = "bold green", "bold red"
# (top half, bottom half) → glyph; B body, W wick, "" empty
_GLYPHS = {
    ("B", "B"): "█", ("B", "W"): "█", ("W", "B"): "█",
    ("B", ""): "▀", ("", "B"): "▄",
    ("W", "W"): "│", ("W", ""): "╵", ("", "W"): "╷",
}


@dataclass(frozen=True, slots=True)
class Candle:
    """One 5-tick candle."""

    first_tick: int
    open: float
    high: float
    low: float
    close: float

    @property
    def up(self) -> bool:
        """Closed at or above its open."""
        return self.close >= self.open


def candles_of(values: Sequence[float], first_tick: int,
               per: int = TICKS_PER_CANDLE) -> list[Candle]:
    """Group ``values`` (price at tick ``first_tick + i``) into candles of ``per`` ticks."""
    out: list[Candle] = []
    prev_close: float | None = None
    i = 0
    while i < len(values):
        tick = first_tick + i
        end = i + (per - tick % per)  # the next candle boundary
        chunk = values[i:end]
        open_ = prev_close if prev_close is not None else chunk[0]
        out.append(Candle(tick - tick % per, open_, max(open_, *chunk), min(open_, *chunk),
                          chunk[-1]))
        prev_close = chunk[-1]
        i = end
    return out


def render_candles(
    prices: Sequence[float | None],
    first_tick: int,
    markers: Sequence[Marker],
    width: int,
    height: int,
    *,
    log_scale: bool = False,
    rugged: bool = False,
) -> Text:
    """Draw the newest candles that fit into ``width``×``height`` cells (pure)."""
    if width < 4 or height < 1:
        return Text()
    values = clean_prices(prices, log_scale)
    if not values:
        return waiting(width, height)
    frame = Frame.of(width, height)
    plot_w, plot_h = frame.plot_w, frame.plot_h
    every = candles_of(values, first_tick)
    # a candle is 1-3 columns wide plus a gap column, as on the venue; short games get
    # wide candles, long ones the newest candles that fit
    step = 1 if plot_w < 16 else max(2, min(4, plot_w // len(every)))
    body_w = max(1, step - 1)
    shown = every[-max(1, plot_w // step):]
    lo_v = min(min(c.low for c in shown), 1.0)
    hi_v = max(max(c.high for c in shown), 1.0)
    half_of = scaler(lo_v, hi_v, log_scale, plot_h * 2)  # value -> half-row, 0 = top

    grid = [[""] * plot_w for _ in range(plot_h)]
    style = [[""] * plot_w for _ in range(plot_h)]
    column = {}
    for n, c in enumerate(shown):
        x = n * step
        column[c.first_tick // TICKS_PER_CANDLE] = x
        body = sorted((half_of(c.open), half_of(c.close)))
        wick = (half_of(c.high), half_of(c.low))
        colour = DOWN if rugged and n == len(shown) - 1 else (UP if c.up else DOWN)
        for dx in range(body_w):
            has_wick = dx == body_w // 2  # the wick runs down the middle column
            for cy in range(plot_h):
                parts = []
                for h in (2 * cy, 2 * cy + 1):
                    if body[0] <= h <= body[1]:
                        parts.append("B")
                    elif has_wick and wick[0] <= h <= wick[1]:
                        parts.append("W")
                    else:
                        parts.append("")
                glyph = _GLYPHS.get((parts[0], parts[1]))
                if glyph:
                    grid[cy][x + dx], style[cy][x + dx] = glyph, colour
    for m in markers:
        x = column.get(m.tick // TICKS_PER_CANDLE)
        if x is None or not plottable(m.price, log_scale):
            continue
        glyph, mstyle = MARKER_GLYPHS.get(m.kind, ("●", "bold"))
        cy = half_of(m.price) // 2
        # in the gap right of its candle when there is one, else on it
        mx = x + body_w if step > 1 and x + body_w < plot_w else x
        grid[cy][mx], style[cy][mx] = glyph, mstyle
    base = half_of(1.0) // 2

    def cell(cy: int, cx: int) -> tuple[str, str] | None:
        return (grid[cy][cx], style[cy][cx]) if grid[cy][cx] else None

    return draw(frame, labels_for(plot_h, lo_v, hi_v, log_scale), cell, base,
                shown[0].first_tick, first_tick + len(values) - 1,
                f" {TICKS_PER_CANDLE}-tick candles ")
