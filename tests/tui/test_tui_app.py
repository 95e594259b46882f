"""The Textual TUI against a real ControlServer (ScriptedDaemon): live updates, the kill
switch and other commands, the disconnected banner, reconnection and daemon restarts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from kits.scripted_daemon import ScriptedDaemon

from rugsd.daemon.control.client import send_command
from rugsd.daemon.control.protocol import Command, example_snapshot
from rugsd.tui.app import RugsdTui
from rugsd.tui.link import LinkStatus
from rugsd.tui.widgets.banner import Banner
from rugsd.tui.widgets.chart import PriceChart
from rugsd.tui.widgets.confirm import ConfirmScreen
from rugsd.tui.widgets.decisions import DecisionLog
from rugsd.tui.widgets.header import StatusHeader
from rugsd.tui.widgets.health import HealthLine
from rugsd.tui.widgets.model import ModelPanel
from rugsd.tui.widgets.positions import AccountPanel
from rugsd.tui.widgets.risk import RiskPanel

SIZES = [(80, 24), (160, 48)]
WHO = "tui:tester@pts/9"
SNAP_ACTIONS = example_snapshot()["model"]["action_names"]


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "run" / "control.sock"


def _app(sock: Path) -> RugsdTui:
    return RugsdTui(sock, who=WHO, retry_min_s=0.05, retry_max_s=0.2, stale_after_s=2.0)


async def until(pilot, cond: Callable[[], bool], what: str, steps: int = 250) -> None:
    """Let the app run until ``cond()`` holds (bounded: ~5 s)."""
    for _ in range(steps):
        if cond():
            return
        await pilot.pause(0.02)
    pytest.fail(f"timed out waiting for: {what}")


def _text(widget) -> str:
    return widget.render().plain


def _banner(app: RugsdTui) -> str:
    banner = app.query_one(Banner)
    return banner.content.plain if banner.display else ""


@pytest.mark.parametrize("size", SIZES)
async def test_tui_snapshots_update_the_widgets(sock, size):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock, interval_s=0.1):
        app = _app(sock)
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: app.snapshot is not None, "first snapshot")
            chart = app.query_one(PriceChart)
            assert "ACTIVE t120" in chart.border_title and "1.5433x" in chart.border_title
            assert any(ch in _text(chart) for ch in "▲▼◆"), "entry/exit markers drawn"
            assert "ACTIVE" in _text(app.query_one(RiskPanel))
            account = _text(app.query_one(AccountPanel))
            assert "0.9810 SOL" in account and "20 ticks left" in account
            assert "real +0.0042" in account and "P&L +0.0061" in account
            model = _text(app.query_one(ModelPanel))
            assert "p_rug" in model and "18.3%" in model and "61.0%" in model
            assert "t120 → wait" in model
            assert all(name in model for name in SNAP_ACTIONS), "every action shown"
            assert "feed ● ok" in _text(app.query_one(HealthLine))
            assert "● connected" in _text(app.query_one(StatusHeader))
            log = app.query_one(DecisionLog)
            assert any("REFUSED  sidebet_open ×14 to t118" in line for line in log.entries)

            daemon.snapshot["game"].update(price=2.5, tick=121)
            daemon.snapshot["decision_log"].append(
                {"ts_ms": 1_767_225_601_000, "game_id": "20260101-5bd2e1c09a7f4e21",
                 "tick": 121, "intent": "buy 0.100", "verdict": "refused",
                 "reason": "max_exposure", "order_id": None})
            await until(pilot, lambda: "2.5000x" in chart.border_title, "new price")
            await until(pilot, lambda: any("max_exposure" in e for e in log.entries),
                        "new refusal in the log")
            # the same refusal again: its row counts up in place, no new line
            daemon.snapshot["decision_log"][-1].update(repeat=3, last_tick=123)
            await until(pilot, lambda: any("max_exposure ×3 to t123" in e for e in log.entries),
                        "the refusal counted up")
            assert sum("max_exposure" in e for e in log.entries) == 1, "no duplicates"
            assert "t121" in chart.border_title


async def test_tui_kill_asks_then_sends_kill_and_shows_the_latch(sock):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock, interval_s=0.1):
        app = _app(sock)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.snapshot is not None, "first snapshot")
            await pilot.press("k")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")  # declined: nothing is sent
            assert not isinstance(app.screen, ConfirmScreen)
            await pilot.press("k", "enter")  # Enter on the focused default ("No")
            await pilot.pause(0.1)
            assert daemon.commands == []

            await pilot.press("k")
            await pilot.press("y")
            await until(pilot, lambda: bool(daemon.commands), "kill reaches the daemon")
            (req,) = daemon.commands
            assert (req.cmd, req.who, req.args) == (Command.KILL, WHO, {"reason": "tui"})
            await until(pilot, lambda: "KILLED" in _banner(app), "KILLED banner")
            assert app.screen.has_class("-killed")
            assert "KILLED (latched)" in _text(app.query_one(RiskPanel))
            assert app.answers[-1]["ok"] is True


async def test_tui_pause_resume_flatten_send_their_commands(sock):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock, interval_s=0.1):
        app = _app(sock)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.snapshot is not None, "first snapshot")
            risk = app.query_one(RiskPanel)
            await pilot.press("p")
            await until(pilot, lambda: "HALTED" in _text(risk), "HALTED after pause")
            await pilot.press("r")
            await until(pilot, lambda: len(daemon.commands) == 2, "resume sent")
            await until(pilot, lambda: "ACTIVE" in _text(risk), "ACTIVE after resume")
            await pilot.press("f")
            assert isinstance(app.screen, ConfirmScreen), "flatten asks first"
            await pilot.press("y")
            await until(pilot, lambda: len(daemon.commands) == 3, "flatten sent")
            await until(pilot, lambda: "REDUCING" in _text(risk), "REDUCING after flatten")
    assert [c.cmd for c in daemon.commands] == [Command.PAUSE, Command.RESUME, Command.FLATTEN]
    assert all(c.who == WHO for c in daemon.commands)


async def test_tui_without_daemon_shows_banner_then_reconnects(sock):
    app = _app(sock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.link.status is LinkStatus.OFFLINE, "offline state")
        assert "DAEMON NOT REACHABLE — retrying in 1s" in _banner(app)
        assert "no control socket" in _banner(app)
        assert app.screen.has_class("-offline")
        await pilot.press("p")  # a command while offline says so, nothing crashes
        log = app.query_one(DecisionLog)
        await until(pilot, lambda: any("pause NOT sent" in e for e in log.entries),
                    "offline command note")

        daemon = ScriptedDaemon()
        async with daemon.serve(sock, interval_s=0.1):
            await until(pilot, lambda: app.link.status is LinkStatus.CONNECTED, "reconnect")
            assert _banner(app) == "" and not app.screen.has_class("-offline")
            assert "ACTIVE" in _text(app.query_one(RiskPanel))
        await until(pilot, lambda: app.link.status is LinkStatus.OFFLINE, "daemon stopped")
        assert "DAEMON NOT REACHABLE" in _banner(app)
        assert any("lost the daemon" in e for e in log.entries)


async def test_tui_notes_a_daemon_restart(sock):
    first = ScriptedDaemon()
    second = ScriptedDaemon()
    second.snapshot["daemon"]["run_id"] = "20260101-1015-b001"
    second.kill_by_file()  # the latch survived the restart
    app = _app(sock)
    async with app.run_test(size=(80, 24)) as pilot:
        async with first.serve(sock, interval_s=0.1):
            await until(pilot, lambda: app.snapshot is not None, "first daemon")
        async with second.serve(sock, interval_s=0.1):
            await until(pilot, lambda: app.link.restarts == 1, "restart noticed")
            await until(pilot, lambda: "KILLED" in _banner(app), "latched after restart")
        log = app.query_one(DecisionLog)
        assert any("daemon restarted: run 20260101-0930-7f3a → 20260101-1015-b001" in e
                   for e in log.entries)
        assert "↻1" in _text(app.query_one(StatusHeader))


async def test_tui_quit_leaves_the_daemon_running(sock):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock, interval_s=0.1) as server:
        app = _app(sock)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.snapshot is not None, "first snapshot")
            await pilot.press("q")
        assert daemon.commands == []
        answer = await send_command(sock, "status", timeout=5)
        assert answer["ok"] is True and server.counters.commands_total == 0


async def test_tui_tolerates_a_sparse_snapshot(sock):
    app = RugsdTui(sock, who=WHO, connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.apply_snapshot({"type": "snapshot", "seq": 1, "risk": {"state": "halted"},
                            "game": {"prices": [1.0, None, float("nan"), 1.2]},
                            "account": {"balance_sol": "junk"}})
        await pilot.pause()
        assert "HALTED" in _text(app.query_one(RiskPanel))
        assert "balance - SOL" in _text(app.query_one(AccountPanel))
        assert app.bad_sections == 1
        assert "t0" in _text(app.query_one(PriceChart))


async def test_tui_c_toggles_the_five_tick_candles(sock):
    app = RugsdTui(sock, who=WHO, connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.apply_snapshot(example_snapshot())
        await pilot.pause()
        chart = app.query_one(PriceChart)
        line = _text(chart)
        assert "5-tick candles" not in line and "⠀" <= max(line)  # braille line
        await pilot.press("c")
        assert chart.candles and "peak 1.79x" in chart.border_title
        candles = _text(chart)
        assert "5-tick candles" in candles and "█" in candles and candles != line
        assert any(ch in candles for ch in "▲▼◆"), "markers on the candles"
        await pilot.press("c")
        assert not chart.candles and _text(chart) == line


async def test_tui_kill_dialog_says_what_a_kill_does(sock):
    """Regression: it said the daemon "stops", which reads as if the process exits."""
    app = RugsdTui(sock, who=WHO, connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.apply_snapshot(example_snapshot())
        await pilot.press("k")
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.query_one("#question").render().plain
        for words in ("sells any open position", "no new orders", "latched on disk",
                      "daemon keeps running", "rugsd arm"):
            assert words in question, words
        assert "stops" not in question
        await pilot.press("n")


async def test_tui_at_80x24_keeps_state_position_pnl_decisions_and_keys(sock):
    """Regression: at 80×24 the peak, limit values, realised P&L, the status bar and 5 of
    8 actions were cut."""
    app = RugsdTui(sock, who=WHO, connect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.apply_snapshot(example_snapshot())
        await pilot.pause()
        chart = app.query_one(PriceChart)
        assert "peak 1.79x" in chart.border_title and "…" not in chart.border_title
        panels = {kind: _text(app.query_one(kind)) for kind in
                  (RiskPanel, AccountPanel, ModelPanel, HealthLine, StatusHeader)}
        for kind, text in panels.items():
            assert "…" not in text, (kind.__name__, text)
        assert "ACTIVE" in panels[RiskPanel] and "0.004/0.300" in panels[RiskPanel]
        assert "4/30" in panels[RiskPanel]
        assert "real +0.0042" in panels[AccountPanel] and "0.009523" in panels[AccountPanel]
        assert all(n in panels[ModelPanel] for n in SNAP_ACTIONS)
        assert "err 0" in panels[HealthLine]
        log = app.query_one(DecisionLog)
        assert log.content_size.height >= 5, "at least five decision lines"
        shown = [log.render_line(y).text for y in range(log.content_size.height)]
        assert any("sidebet_open ×14" in line for line in shown), "the newest line in view"
        keys = {k.key: k for k in app.screen.query("FooterKey")}
        assert set(keys) >= {"k", "p", "r", "f", "c", "l", "q"}
        assert all(k.region.right <= 80 and k.region.width > 0 for k in keys.values()), \
            "every key visible"
        assert keys["k"].description == "Kill" and keys["k"].region.x == 0, "kill comes first"


async def test_tui_shows_why_a_kill_is_not_latched_on_disk(sock, monkeypatch):
    # Arrange: the latch file cannot be written (as on a full disk)
    def full_disk(run_dir, latch):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rugsd.risk.killswitch.trip", full_disk)
    daemon = ScriptedDaemon()
    async with daemon.serve(sock, interval_s=0.1):
        app = _app(sock)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.snapshot is not None, "first snapshot")
            # Act: kill from the TUI; the daemon is KILLED in memory, its latch pending
            await pilot.press("k", "y")
            await until(pilot, lambda: "KILLED" in _banner(app), "KILLED banner")
            # Assert: the banner says the latch is not on disk, and why (status says so too)
            assert daemon.risk["latch_error"] and "No space left" in daemon.risk["latch_error"]
            await until(pilot, lambda: "NOT persisted" in _banner(app), "latch error shown")
            assert "No space left on device" in _banner(app)
            assert "kill latch set" not in _banner(app), "it is not set: never say so"
