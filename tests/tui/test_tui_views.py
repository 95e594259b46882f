"""Pure view functions of the TUI (chart, bars, panels) and its import boundary."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.control.protocol import (
    Marker,
    RiskInfo,
    example_snapshot,
    parse_snapshot,
)
from rugsd.tui.format import bar
from rugsd.tui.link import LinkState, LinkStatus
from rugsd.tui.widgets.banner import banner_lines
from rugsd.tui.widgets.chart import render_chart
from rugsd.tui.widgets.header import header_badges, render_header
from rugsd.tui.widgets.model import render_model
from rugsd.tui.widgets.risk import render_risk
from rugsd.tui.widgets.venue import venue_alert

TUI_DIR = Path(__file__).resolve().parents[2] / "tui"
SNAP, _ = parse_snapshot(example_snapshot())


def _lines(text) -> list[str]:
    return text.plain.split("\n")


def test_tui_chart_fills_exactly_the_given_size():
    for width, height in ((50, 10), (20, 4), (120, 30), (8, 2)):
        lines = _lines(render_chart(SNAP.game.prices, 0, SNAP.markers, width, height))
        assert len(lines) == height
        assert all(len(line) == width for line in lines), (width, height)


def test_tui_chart_puts_markers_at_their_ticks_and_scales_the_axis():
    prices = [1.0, 1.5, 2.0, 1.5, 1.0]
    markers = [Marker(tick=100, price=1.0, kind="buy"), Marker(tick=102, price=2.0, kind="sell")]
    lines = _lines(render_chart(prices, 100, markers, 48, 10))
    assert "2.00x" in lines[0] and "1.00x" in lines[8]
    assert lines[9].strip().startswith("t100") and lines[9].endswith("t104")
    sell_col = lines[0].index("▼")
    buy_row = next(i for i, line in enumerate(lines) if "▲" in line)
    assert buy_row == 8 and lines[buy_row].index("▲") == 8, "first tick, bottom row"
    assert abs(sell_col - (8 + 20)) <= 1, "middle tick, top row"


def test_tui_chart_log_scale_changes_the_middle_label():
    prices = [1.0, 10.0, 100.0]
    lin = _lines(render_chart(prices, 0, [], 40, 10))
    log = _lines(render_chart(prices, 0, [], 40, 10, log_scale=True))
    assert "50.50x" in lin[4] and "10.00x" in log[4]


def test_tui_chart_without_prices_says_waiting():
    assert "waiting for ticks" in render_chart([], 0, [], 40, 6).plain


@settings(max_examples=150, deadline=None)
@given(
    prices=st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
                    max_size=400),
    width=st.integers(0, 200),
    height=st.integers(0, 60),
    log_scale=st.booleans(),
)
def test_tui_chart_never_raises_on_any_price_list(prices, width, height, log_scale):
    text = render_chart(prices, 0, [Marker(tick=3, price=1.0, kind="odd")], width, height,
                        log_scale=log_scale)
    assert len(_lines(text)) <= max(height, 1)


def test_tui_bar_width_and_fill_are_exact():
    assert bar(0.5, 10).plain == "█████░░░░░"
    assert bar(1.7, 4).plain == "████" and bar(-1, 4).plain == "░░░░"
    assert len(bar(0.33, 9).plain) == 9 and bar(None, 3).plain == "···"


def test_tui_risk_panel_shows_state_and_fits_limits_to_height():
    text = render_risk(SNAP.risk, 30, 5).plain
    assert "ACTIVE" in text and text.count("\n") == 4 and "position" in text
    full = render_risk(SNAP.risk, 50, 20).plain
    assert "0.0102/0.1 SOL" in full and "orders/min" in full
    killed = render_risk(RiskInfo(state="killed", kill_latched=True), 30).plain
    assert "KILLED (latched)" in killed


def test_tui_model_panel_ranks_actions_and_handles_missing_outputs():
    lines = _lines(render_model(SNAP.model, 32, 4))
    assert lines[0].startswith("p_rug") and lines[1].startswith("wait")
    assert lines[2].startswith("sell_100") and len(lines) == 4
    empty = render_model(SNAP.model.model_copy(update={"action_probs": None, "non_finite": 2}),
                         32).plain
    assert "no policy output" in empty and "non-finite outputs: 2" in empty


def test_tui_header_and_banner_texts():
    header = render_header(SNAP.daemon, LinkState(LinkStatus.CONNECTED, restarts=2), 80)
    assert header.cell_len == 80 and header.plain.endswith("● connected ")
    assert "PAPER" in header.plain and "↻2" in header.plain
    offline = LinkState(LinkStatus.OFFLINE, reason="refused", retry_in_s=8)
    assert banner_lines(offline, True) == [
        ("DAEMON NOT REACHABLE — retrying in 8s · refused", "offline"),
        (("■ KILLED — kill latch set, no orders (last known). Review, then clear with "
          "`rugsd arm`. ■"), "killed"),
    ]
    assert banner_lines(LinkState(LinkStatus.CONNECTED), False) == []


def test_tui_header_counts_fair_games_and_the_banner_alerts_on_a_mismatch():
    raw = copy.deepcopy(example_snapshot())
    header = render_header(SNAP.daemon, LinkState(LinkStatus.CONNECTED), 100,
                           header_badges(raw))
    assert "fair 132/132" in header.plain and header.cell_len == 100
    assert venue_alert(raw) is None
    raw["audit"].update(verified=131, path_mismatch=1, last_mismatch={
        "game_id": "g1", "result": "path_mismatch", "tick": 57, "expected": 1.25,
        "observed": 1.2500000000000002})
    raw["risk"]["flags"]["venue_integrity"] = True
    assert header_badges(raw) == [("fair 131/132 ✗1", "bold white on red")]
    alert = ("⚠ VENUE INTEGRITY — game g1: path mismatch at tick 57 (seed 1.25, venue "
             "1.2500000000000002). HALTED until `rugsd resume`. ⚠")
    assert venue_alert(raw) == alert
    assert banner_lines(LinkState(LinkStatus.CONNECTED), False, alert) == [(alert, "venue")]
    # no audit section (an older daemon) or a malformed one: nothing, never an error
    assert header_badges({"daemon": {}}) == [] and header_badges({"audit": 7}) == []
    assert venue_alert({"audit": {"last_mismatch": "x"}}) is None
    risk = SNAP.risk.model_copy(update={"state": "HALTED", "flags": SNAP.risk.flags.model_copy(
        update={"venue_integrity": True})})
    assert "VENUE" in render_risk(risk, 40).plain


def test_tui_imports_only_the_control_client_and_protocol_from_the_daemon():
    allowed = {"rugsd.daemon.control.client", "rugsd.daemon.control.protocol"}
    offenders = []
    for path in TUI_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in {"daemon", "risk", "strategy", "training"}
                          and n not in allowed]
    assert offenders == []
