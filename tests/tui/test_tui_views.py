"""Pure view functions of the TUI (chart, bars, panels) and its import boundary."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.control.protocol import (
    DecisionInfo,
    LimitUsage,
    Marker,
    ModelInfo,
    RiskInfo,
    example_snapshot,
    parse_snapshot,
)
from rugsd.tui.format import bar
from rugsd.tui.link import LinkState, LinkStatus
from rugsd.tui.widgets.banner import banner_lines
from rugsd.tui.widgets.chart import render_chart
from rugsd.tui.widgets.header import header_badges, render_header
from rugsd.tui.widgets.health import render_health
from rugsd.tui.widgets.model import render_model
from rugsd.tui.widgets.positions import render_account
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
    assert all(len(line) <= width for line in _lines(text)), "labels of huge prices fit too"


def test_tui_bar_width_and_fill_are_exact():
    assert bar(0.5, 10).plain == "█████░░░░░"
    assert bar(1.7, 4).plain == "████" and bar(-1, 4).plain == "░░░░"
    assert len(bar(0.33, 9).plain) == 9 and bar(None, 3).plain == "···"


def test_tui_risk_panel_shows_state_and_fits_limits_to_height():
    text = render_risk(SNAP.risk, 30, 5).plain
    assert "ACTIVE" in text and text.count("\n") == 4 and "position" in text
    full = render_risk(SNAP.risk, 50, 20).plain
    assert "0.0102/0.1000 SOL" in full and "orders/min" in full and "4/30" in full
    killed = render_risk(RiskInfo(state="killed", kill_latched=True), 30).plain
    assert "KILLED (latched)" in killed


def test_tui_risk_values_have_fixed_decimals_at_every_width():
    """Regression: drawdown showed 0.02232986 (``:g``); now 3 or 4 decimals, bars aligned."""
    risk = SNAP.risk.model_copy(update={"limits": [
        LimitUsage(name="drawdown", used=0.02232986, limit=0.3, unit="SOL"),
        LimitUsage(name="orders/min", used=6.0, limit=30.0, unit="orders"),
    ]})
    narrow = _lines(render_risk(risk, 34, 7))
    assert narrow[-2].endswith("0.022/0.300") and narrow[-1].endswith("6/30")
    wide = _lines(render_risk(risk, 46, 7))
    assert wide[-2].endswith("7% 0.0223/0.3000 SOL") and wide[-1].endswith("20% 6/30")
    for lines in (narrow, wide):
        assert len(lines[-2]) == len(lines[-1]), "tails right-aligned, bars the same width"
        assert not re.search(r"\d\.\d{5,}", "\n".join(lines)), "no long decimals"


def test_tui_model_shows_every_action_in_fixed_order_and_the_decision():
    """Regression: rows were re-sorted by probability every tick and only 7 of 8 fit
    ("buy_mediu" cut); now the policy's order, all 8, whole names, at 80×24 too."""
    names = SNAP.model.action_names
    for width, height in ((34, 5), (46, 10), (80, 12)):
        text = render_model(SNAP.model, width, height).plain
        lines = text.split("\n")
        assert len(lines) <= height and all(len(line) <= width for line in lines), (width, height)
        positions = [text.index(name + " ") for name in names]
        assert all(name in text for name in names) and "…" not in text
        assert lines[0].startswith("t120 → wait") and "18.3%" in text
        if height >= 10:  # one per row: the fixed order top to bottom
            assert positions == sorted(positions)
            assert [line.split()[0] for line in lines[2:]] == names
    flipped = SNAP.model.model_copy(update={"action_probs": list(reversed(SNAP.model.action_probs))})
    assert (render_model(flipped, 46, 10).plain.split("\n")[2].split()[0]
            == render_model(SNAP.model, 46, 10).plain.split("\n")[2].split()[0] == "wait")


def test_tui_model_says_why_a_decision_has_no_model_outputs():
    flatten = DecisionInfo(tick=130, intent="sell 100%", source="risk:flatten", verdict="order")
    model = SNAP.model.model_copy(update={"action_probs": None, "p_rug": None,
                                          "action_index": None, "decision": flatten,
                                          "non_finite": 2})
    text = render_model(model, 34, 5).plain
    assert text.startswith("t130 → sell 100%") and "…" not in text
    assert all(len(line) <= 34 for line in text.split("\n"))
    assert "decided by the risk layer (risk:flatten), not the model" in text.replace("\n", " ")
    assert "non-finite outputs held: 2" in text
    fell_back = model.model_copy(update={"fallbacks": 3})
    assert "combined model failed 3×: decided on the two graphs" in render_model(
        fell_back, 80).plain
    rule = model.model_copy(update={"decision": DecisionInfo(
        tick=3, intent="wait", source="presale_target:wait")})
    assert "rule strategy (presale_target): no model" in render_model(rule, 60).plain
    bare_wait = model.model_copy(update={"decision": DecisionInfo(tick=3, intent="wait")})
    assert "rule strategy (presale_target): no model" in render_model(
        bare_wait, 60, strategy="presale_target").plain
    assert "no decision yet" in render_model(ModelInfo(), 30).plain


def test_tui_account_shows_balance_position_and_all_pnl_at_80_columns():
    text = render_account(SNAP.account, 42).plain
    lines = text.split("\n")
    assert all(len(line) <= 42 for line in lines), lines
    assert lines[2] == "P&L +0.0061  real +0.0042  unreal +0.0047"
    assert "0.9810 SOL" in lines[0] and "t95" in lines[1] and "20 ticks left" in lines[3]


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
    pending = "kill latch NOT persisted (disk full): trading stays KILLED"
    assert banner_lines(LinkState(LinkStatus.CONNECTED), True, None, pending) == [
        (f"■ KILLED — {pending} ■", "killed")]


def test_tui_header_badges_stay_visible_and_unknown_sections_are_harmless():
    raw = copy.deepcopy(example_snapshot())
    raw.pop("audit", None)  # the fair badge has its own test
    raw["execution"]["mirror"] = {"sent": 9, "mismatches": 2}
    raw["venue_audit"] = {"whatever": [1, 2]}  # a section this TUI does not know yet
    badges = header_badges(raw)
    assert badges == [("mismatch 2", "bold black on yellow")]
    header = render_header(SNAP.daemon, LinkState(LinkStatus.CONNECTED), 60, badges).plain
    assert len(header) == 60 and "mismatch 2" in header and header.endswith("● connected ")
    for junk in (None, {}, {"execution": "x"}, {"execution": {"mirror": {"mismatches": "2"}}}):
        assert header_badges(junk) == []


def test_tui_health_line_fits_80_columns_without_losing_fields():
    for width in (80, 100, 200):
        text = render_health(SNAP.feed, SNAP.execution, width).plain
        assert len(text) <= width, (width, text)
        assert "feed ● ok" in text and "120" in text and "pending 0" in text
        assert "rej" in text and "err" in text
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
