"""The Textual TUI against a real ControlServer (ScriptedDaemon): live updates, the kill
switch and other commands, the disconnected banner, reconnection and daemon restarts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rugsd.daemon.control.client import send_command
from rugsd.daemon.control.protocol import Command
from rugsd.daemon.control.testing import ScriptedDaemon
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
            assert "9.9810 SOL" in account and "20 ticks left" in account
            model = _text(app.query_one(ModelPanel))
            assert "p_rug" in model and "18.3%" in model and "61.0%" in model
            assert "feed ● ok" in _text(app.query_one(HealthLine))
            assert "● connected" in _text(app.query_one(StatusHeader))
            log = app.query_one(DecisionLog)
            assert any("REFUSED  sidebet_open" in line for line in log.entries)

            daemon.snapshot["game"].update(price=2.5, tick=121)
            daemon.snapshot["decisions"].append(
                {"ts_ms": 1_767_225_601_000, "game_id": "20260101-5bd2e1c09a7f4e21",
                 "tick": 121, "intent": "buy 0.100", "verdict": "refused",
                 "reason": "max_exposure", "order_id": None})
            await until(pilot, lambda: "2.5000x" in chart.border_title, "new price")
            await until(pilot, lambda: any("max_exposure" in e for e in log.entries),
                        "new refusal in the log")
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
    second.set_killed()  # the latch survived the restart
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
