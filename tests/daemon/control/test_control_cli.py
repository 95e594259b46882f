"""``rugsd pause|resume|flatten|status`` and ``try_control_command`` against a real socket,
and their behaviour when the daemon is not running."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from pathlib import Path

from kits.scripted_daemon import ScriptedDaemon

from rugsd.daemon import cli_control
from rugsd.daemon.control.client import try_control_command
from rugsd.daemon.control.protocol import Command, socket_path
from rugsd.daemon.journal import KillEvent, PositionSnapshot, RiskEvent, open_journal
from rugsd.risk.killswitch import KillLatch, write_latch


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rugsd")
    cli_control.add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def _json_out(text: str) -> dict:
    """The JSON document in captured stdout (structlog lines of the in-process server may
    precede it: its default logger prints to stdout)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return json.JSONDecoder().raw_decode("".join(lines[start:]))[0]


async def _run(argv: list[str]) -> int:
    args = _parse(argv)
    return await asyncio.to_thread(args.func, args)  # blocking CLI; server runs in this loop


async def test_cli_pause_resume_flatten_reach_the_daemon(tmp_path, capsys):
    daemon = ScriptedDaemon()
    async with daemon.serve(socket_path(tmp_path)):
        assert await _run(["pause", "--data-dir", str(tmp_path), "--reason", "coffee"]) == 0
        assert "pause: ok — trading state HALTED" in capsys.readouterr().out
        assert await _run(["resume", "--data-dir", str(tmp_path)]) == 0
        assert "trading state ACTIVE" in capsys.readouterr().out
        assert await _run(["flatten", "--data-dir", str(tmp_path), "--json"]) == 0
        out = _json_out(capsys.readouterr().out)
    assert out["ok"] is True and out["trading_state"] == "REDUCING"
    assert [c.cmd for c in daemon.commands] == [Command.PAUSE, Command.RESUME, Command.FLATTEN]
    assert daemon.commands[0].args == {"reason": "coffee"}
    assert all(c.who.startswith("cli:") for c in daemon.commands)


async def test_cli_refused_command_exits_1(tmp_path, capsys):
    daemon = ScriptedDaemon()
    daemon.kill_by_file()
    async with daemon.serve(socket_path(tmp_path)):
        assert await _run(["resume", "--data-dir", str(tmp_path)]) == 1
    assert "trading is KILLED: clear the latch with `rugsd arm` first" in capsys.readouterr().err


async def test_cli_status_json_has_trading_state(tmp_path, capsys):
    async with ScriptedDaemon().serve(socket_path(tmp_path)):
        assert await _run(["status", "--data-dir", str(tmp_path), "--json"]) == 0
        report = _json_out(capsys.readouterr().out)
        assert await _run(["status", "--data-dir", str(tmp_path)]) == 0
        text = capsys.readouterr().out
    assert report["daemon_running"] is True and report["trading_state"] == "ACTIVE"
    assert report["snapshot"]["daemon"]["pid"] == 4242
    assert "running (pid 4242" in text and "state      ACTIVE" in text


def test_cli_pause_without_daemon_fails_clearly(tmp_path, capsys):
    args = _parse(["pause", "--data-dir", str(tmp_path)])
    assert args.func(args) == 3
    err = capsys.readouterr().err
    assert "daemon not reachable" in err and "nothing was sent" in err


def test_cli_status_without_daemon_reads_latch_and_journal(tmp_path, capsys):
    with open_journal(tmp_path) as journal:
        journal.write(RiskEvent("run-1", 1000, "active", "killed", "operator_kill", "tui"))
        journal.write(KillEvent("run-1", 1000, "tui", "operator_kill"))
        journal.write(PositionSnapshot("run-1", 1001, "g-1", 50, 9_500_000_000, 0, 0,
                                       -500_000_000, 10_000_000_000, None, None, None, None))
    write_latch(tmp_path / "run", KillLatch(1000, "tui:alice@pts/1", "operator_kill"))
    args = _parse(["status", "--data-dir", str(tmp_path), "--json"])
    assert args.func(args) == 3
    report = _json_out(capsys.readouterr().out)
    assert report["daemon_running"] is False and report["trading_state"] == "KILLED"
    assert report["kill"]["who"] == "tui:alice@pts/1"
    assert report["journal"]["last_risk_event"]["new_state"] == "killed"
    assert report["journal"]["last_position"]["balance_sol"] == 9.5
    args = _parse(["status", "--data-dir", str(tmp_path)])
    assert args.func(args) == 3
    text = capsys.readouterr().out
    assert "NOT RUNNING" in text and "KILLED (latched)" in text and "rugsd arm" in text


def test_cli_status_without_daemon_or_files(tmp_path, capsys):
    args = _parse(["status", "--data-dir", str(tmp_path / "nothing"), "--json"])
    assert args.func(args) == 3
    report = _json_out(capsys.readouterr().out)
    assert report["trading_state"] is None and report["kill_latched"] is False
    assert report["journal"] is None and "no control socket" in report["error"]


def test_try_control_command_returns_none_for_missing_and_stale_sockets(tmp_path):
    assert try_control_command(tmp_path, "kill", timeout=1) is None
    path = socket_path(tmp_path)
    path.parent.mkdir(parents=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    assert try_control_command(tmp_path, "kill", timeout=1) is None


async def test_try_control_command_answers_when_the_daemon_runs(tmp_path: Path):
    daemon = ScriptedDaemon()
    async with daemon.serve(socket_path(tmp_path)):
        answer = await asyncio.to_thread(
            try_control_command, tmp_path, "kill", {"reason": "test"}, "cli:test", 5.0)
    assert answer is not None and answer["ok"] is True
    assert answer["risk"]["state"] == "KILLED" and answer["risk"]["kill_latched"] is True
    assert daemon.commands[0].who == "cli:test"
