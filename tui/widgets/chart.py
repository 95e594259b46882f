"""The price chart of the current game: a braille line scaled to the widget (or 5-tick
candles, ``candles.py``), with entry/exit markers at their ticks and an optional log scale.

``render_chart`` is pure (prices in, Rich ``Text`` out) and works down to ~20×4 cells;
``PriceChart`` is the widget that re-renders the chosen view at its current size.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from rugsd.daemon.control.protocol import Marker, Snapshot
from rugsd.tui.format import is_num, mult, short_id
from rugsd.tui.widgets.candles import render_candles
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

# braille dot bits by [row 0..3][column 0..1] inside one character cell
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def _resample(values: Sequence[float], cols: int) -> list[tuple[float, float]]:
    """(low, high) per dot column: interpolated when stretching, min/max when squeezing."""
    n = len(values)
    if n == 1:
        return [(values[0], values[0])] * cols
    out = []
    if n <= cols:
        for x in range(cols):
            pos = x * (n - 1) / (cols - 1) if cols > 1 else n - 1
            i = min(int(pos), n - 2)
            a, b = values[i], values[i + 1]
            v = min(max(a + (b - a) * (pos - i), min(a, b)), max(a, b))  # no float overshoot
            out.append((v, v))
        return out
    for x in range(cols):
        chunk = values[x * n // cols : max((x + 1) * n // cols, x * n // cols + 1)]
        out.append((min(chunk), max(chunk)))
    return out


def _column_of(index: int, n: int, cols: int) -> int:
    """Dot column of point ``index`` of ``n`` (consistent with ``_resample``)."""
    if n <= 1:
        return cols - 1
    if n <= cols:
        return round(index * (cols - 1) / (n - 1))
    return min(cols - 1, index * cols // n)


def render_chart(
    prices: Sequence[float | None],
    first_tick: int,
    markers: Sequence[Marker],
    width: int,
    height: int,
    *,
    log_scale: bool = False,
    rugged: bool = False,
) -> Text:
    """Draw the price path into ``width``×``height`` cells (pure)."""
    if width < 4 or height < 1:
        return Text()
    values = clean_prices(prices, log_scale)
    if not values:
        return waiting(width, height)
    frame = Frame.of(width, height)
    plot_w, plot_h = frame.plot_w, frame.plot_h
    cols, rows = plot_w * 2, plot_h * 4
    lo_v, hi_v = min(min(values), 1.0), max(max(values), 1.0)
    row_of = scaler(lo_v, hi_v, log_scale, rows)  # value -> dot row, 0 = top

    cells = [[0] * plot_w for _ in range(plot_h)]
    colour = [[""] * plot_w for _ in range(plot_h)]
    prev: int | None = None
    for x, (low, high) in enumerate(_resample(values, cols)):
        top, bottom = row_of(high), row_of(low)
        if prev is not None:  # connect to the previous column so the line has no gaps
            top, bottom = min(top, prev), max(bottom, prev)
        prev = row_of(high if x == 0 else (low + high) / 2)
        style = "red" if rugged else ("green" if high >= 1.0 else "red")
        for r in range(top, bottom + 1):
            cy, cx = r // 4, x // 2
            cells[cy][cx] |= _DOTS[r % 4][x % 2]
            colour[cy][cx] = style
    base = row_of(1.0) // 4
    glyphs: dict[tuple[int, int], tuple[str, str]] = {}
    for m in markers:
        idx = m.tick - first_tick
        if not 0 <= idx < len(values) or not plottable(m.price, log_scale):
            continue
        cx = _column_of(idx, len(values), cols) // 2
        glyphs[(row_of(m.price) // 4, cx)] = MARKER_GLYPHS.get(m.kind, ("●", "bold"))

    def cell(cy: int, cx: int) -> tuple[str, str] | None:
        if (cy, cx) in glyphs:
            return glyphs[(cy, cx)]
        if cells[cy][cx]:
            return chr(0x2800 + cells[cy][cx]), colour[cy][cx]
        return None

    return draw(frame, labels_for(plot_h, lo_v, hi_v, log_scale), cell, base, first_tick,
                first_tick + len(values) - 1)


class PriceChart(Widget):
    """The current game's price path with entry/exit markers: a line, or 5-tick candles."""

    log_scale: reactive[bool] = reactive(False)
    candles: reactive[bool] = reactive(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._snap: Snapshot | None = None
        self.border_title = "game"

    def show(self, snap: Snapshot | None) -> None:
        """Take a new snapshot and redraw."""
        self._snap = snap
        self._retitle()
        self.refresh()

    def _retitle(self) -> None:
        self.border_title = chart_title(self._snap, self.log_scale, max(10, self.size.width - 4))

    def watch_log_scale(self) -> None:
        """Redraw with the other scale."""
        self.show(self._snap)

    def watch_candles(self) -> None:
        """Redraw as candles / as a line."""
        self.show(self._snap)

    def on_resize(self) -> None:
        """The title fits the new width."""
        self._retitle()

    def render(self) -> Text:
        """Draw at the current content size."""
        snap = self._snap
        size = self.content_size
        if snap is None:
            return Text(" no data yet", style="dim")
        game = snap.game
        draw = render_candles if self.candles else render_chart
        return draw(
            game.prices, game.first_tick, snap.markers, size.width, size.height,
            log_scale=self.log_scale, rugged=game.phase == "rugged",
        )


def chart_title(snap: Snapshot | None, log_scale: bool = False, width: int = 200) -> str:
    """``ACTIVE t120 · 1.5433x · peak 1.79x · game 20260101-5bd2… · log`` — the parts
    that matter most first; the game id shortens, then goes, when the width is short."""
    if snap is None:
        return "game"
    g = snap.game
    state = g.phase.upper()
    if g.phase in ("cooldown", "presale") and is_num(g.cooldown_ms):
        state += f" {g.cooldown_ms / 1000:.1f}s"
    elif is_num(g.tick):
        state += f" t{g.tick}"
    parts = [state, mult(g.price)]
    if is_num(g.peak):
        parts.append(f"peak {mult(g.peak, 2)}")
    views = ["log"] if log_scale else []  # (the candle view says so on its axis)
    for game in (f"game {short_id(g.game_id, 26)}", f"game {short_id(g.game_id, 14)}", None):
        title = " · ".join(parts + ([game] if game else []) + views)
        if len(title) <= width:
            return title
    return title
