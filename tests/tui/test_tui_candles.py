"""The 5-tick candle view of the chart (as the venue draws it): grouping, drawing, markers."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from rugsd.daemon.control.protocol import Marker, example_snapshot, parse_snapshot
from rugsd.tui.widgets.candles import Candle, candles_of, render_candles
from rugsd.tui.widgets.plot import LABEL_W

SNAP, _ = parse_snapshot(example_snapshot())
CONSOLE = Console(width=200)


def _grid(text) -> list[list[tuple[str, str]]]:
    """(character, style name) per cell, line by line."""
    out = []
    for line in text.split("\n"):
        out.append([(ch, str(line.get_style_at_offset(CONSOLE, i)))
                    for i, ch in enumerate(line.plain)])
    return out


def test_candles_group_five_ticks_from_absolute_boundaries():
    values = [1.0, 1.1, 1.2, 1.0, 0.9, 1.3, 1.4]
    assert candles_of(values, 0) == [
        Candle(0, 1.0, 1.2, 0.9, 0.9),
        Candle(5, 0.9, 1.4, 0.9, 1.4),  # opens at the previous close
    ]
    # a window starting at tick 3: the first candle (ticks 0-4) has ticks 3 and 4 only
    assert [(c.first_tick, c.open, c.close) for c in candles_of(values, 3)] == [
        (0, 1.0, 1.1), (5, 1.1, 1.4)]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(0.001, 1000.0), min_size=1, max_size=300),
       first_tick=st.integers(0, 1000))
def test_candles_partition_the_ticks_and_keep_open_high_low_close(values, first_tick):
    candles = candles_of(values, first_tick)
    assert [c.first_tick % 5 for c in candles] == [0] * len(candles)
    assert len(candles) == (first_tick + len(values) - 1) // 5 - first_tick // 5 + 1
    prev = None
    for c in candles:
        lo_i = max(c.first_tick, first_tick) - first_tick
        chunk = values[lo_i: c.first_tick + 5 - first_tick]
        assert c.close == chunk[-1]
        assert c.open == (prev.close if prev else chunk[0])
        assert c.high == max(c.open, *chunk) and c.low == min(c.open, *chunk)
        prev = c


def test_candles_draw_green_up_and_red_down_candles_with_gaps():
    # ticks 0-4 rise 1 → 2 (up), ticks 5-9 fall back to 1 (down)
    prices = [1.0, 1.25, 1.5, 1.75, 2.0, 1.8, 1.6, 1.4, 1.2, 1.0]
    text = render_candles(prices, 0, [], 30, 10)
    grid = _grid(text)
    assert len(grid) == 10 and all(len(row) == 30 for row in grid)
    # two candles on 22 plot columns: each 3 columns wide, then a gap column
    for first, colour in ((LABEL_W, "green"), (LABEL_W + 4, "red")):
        for x in range(first, first + 3):
            cells = [row[x] for row in grid[:9]]
            drawn = [(ch, st) for ch, st in cells if ch not in " ┈"]
            assert drawn and all(ch in "█▀▄" for ch, _ in drawn), (x, cells)
            assert all(colour in st for _, st in drawn), (x, colour)
    assert all(row[LABEL_W + 3][0] in " ┈" for row in grid[:9]), "a gap column between"
    assert all(row[LABEL_W + 7][0] in " ┈" for row in grid[:9]), "nothing after the last"
    assert "5-tick candles" in text.plain.split("\n")[-1]
    assert text.plain.split("\n")[-1].strip().startswith("t0")


def test_candles_show_markers_at_their_candle_and_the_newest_candles():
    prices = SNAP.game.prices
    text = render_candles(prices, 0, SNAP.markers, 60, 14)
    lines = text.plain.split("\n")
    assert len(lines) == 14 and all(len(line) == 60 for line in lines)
    for glyph in "▲▼◆":
        assert glyph in text.plain
    narrow = render_candles(prices, 0, [], 24, 8).plain.split("\n")
    # only the newest candles fit: the axis starts at a later candle, ends at the last tick
    assert narrow[-1].strip().endswith("t120") and not narrow[-1].strip().startswith("t0")


@settings(max_examples=150, deadline=None)
@given(
    prices=st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
                    max_size=400),
    first_tick=st.integers(0, 10_000),
    width=st.integers(0, 200),
    height=st.integers(0, 60),
    log_scale=st.booleans(),
)
def test_candles_never_raise_and_fit_the_size(prices, first_tick, width, height, log_scale):
    markers = [Marker(tick=first_tick + 3, price=1.0, kind="odd"),
               Marker(tick=first_tick, price=math.inf, kind="buy")]
    text = render_candles(prices, first_tick, markers, width, height, log_scale=log_scale)
    lines = text.plain.split("\n")
    assert len(lines) <= max(height, 1)
    assert all(len(line) <= width for line in lines)


def test_candles_draw_the_wick_down_the_middle_of_the_body():
    # one candle: opens 1.0, spikes to 2.0, closes 1.1 — a short body under a long wick
    text = render_candles([1.0, 2.0, 1.5, 1.2, 1.1], 0, [], 30, 10)
    grid = _grid(text)
    middle = [row[LABEL_W + 1][0] for row in grid[:9]]
    side = [row[LABEL_W][0] for row in grid[:9]]
    assert middle[0] in "│╷" and middle.count("│") >= 5, middle
    assert set(side[:5]) <= {" ", "┈"}, "no wick on the side columns"
    assert side[-1] in "█▀▄" and middle[-1] in "█▀▄", "the body at the bottom"
