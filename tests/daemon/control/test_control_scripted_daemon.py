"""The test kit ``ScriptedDaemon`` answers every command exactly as the real daemon's
handler does (it delegates to it): an earlier fake re-implemented the commands and had
drifted (``reload-model`` said "model reloaded"; the daemon only schedules a reload)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kits.scripted_daemon import ScriptedDaemon, real_daemon

from rugsd.daemon.control.client import send_command
from rugsd.daemon.control.protocol import Command, CommandRequest
from rugsd.daemon.runtime.operator import handle_command
from rugsd.risk import killswitch

T = 5.0
ARM = "<the latch's code>"
# every command the handler answers (``status`` is answered by the server itself)
SCRIPT: list[tuple[str, dict]] = [
    ("pause", {"reason": "lunch"}), ("resume", {}), ("flatten", {}), ("reload-model", {}),
    ("kill", {"reason": "parity"}), ("resume", {}), ("pause", {}), ("flatten", {}),
    ("arm", {"token": "NOPE00"}), ("arm", {"token": ARM}), ("arm", {"token": "ABCDEF"}),
    ("reload-model", {}),
]


def _token(run_dir: Path, token: str) -> str:
    latch = killswitch.current_kill(run_dir)
    return latch.token if token == ARM and latch is not None else token


async def test_every_command_answers_as_the_real_handler_does(tmp_path: Path) -> None:
    # Arrange: the kit behind a real socket, and a separate real daemon as the reference
    scripted = ScriptedDaemon(data_dir=tmp_path / "kit")
    reference = real_daemon(tmp_path / "ref")
    sock = tmp_path / "run" / "control.sock"
    # Act: the same script through both
    got, want = [], []
    async with scripted.serve(sock):
        for i, (cmd, args) in enumerate(SCRIPT):
            answer = await send_command(
                sock, cmd, {**args, **({"token": _token(scripted.daemon.paths.run_dir,
                                                         args["token"])} if "token" in args
                                       else {})},
                who="test:parity", timeout=T)
            got.append({k: v for k, v in answer.items() if k not in ("type", "v", "id")})
            ref_args = dict(args)
            if "token" in ref_args:
                ref_args["token"] = _token(reference.paths.run_dir, ref_args["token"])
            want.append(handle_command(reference, CommandRequest(
                id=i, cmd=Command(cmd), args=ref_args, who="test:parity", ts_ms=i)))
    # Assert: answer for answer, the same (ok, detail and the whole risk section)
    for (cmd, _), g, w in zip(SCRIPT, got, want, strict=True):
        assert g == w, cmd
    by_cmd = {(c, i): g for i, ((c, _), g) in enumerate(zip(SCRIPT, got, strict=True))}
    assert by_cmd[("reload-model", 3)]["detail"] == "reload scheduled for the next cooldown"
    assert scripted.daemon.reload_requested, "only scheduled: the reload is the daemon's job"
    assert by_cmd[("kill", 4)]["risk"]["state"] == "KILLED"
    assert by_cmd[("resume", 5)]["ok"] is False
    assert by_cmd[("arm", 8)]["ok"] is False and by_cmd[("arm", 9)]["ok"] is True
    assert by_cmd[("arm", 10)]["detail"] == "not_killed"
    assert [c.cmd for c in scripted.commands] == [Command(c) for c, _ in SCRIPT]


async def test_commands_and_refusals_reach_the_kits_real_journal(tmp_path: Path) -> None:
    scripted = ScriptedDaemon(data_dir=tmp_path / "data")
    sock = tmp_path / "run" / "control.sock"
    async with scripted.serve(sock):
        await send_command(sock, "reload-model", who="test:j", timeout=T)
        await send_command(sock, "kill", {"reason": "j"}, who="test:j", timeout=T)
        await send_command(sock, "arm", {"token": "NOPE00"}, who="test:j", timeout=T)
    scripted.close()
    conn = sqlite3.connect(tmp_path / "data" / "journal.sqlite")
    try:
        rows = conn.execute("SELECT command, result FROM operator_commands ORDER BY id").fetchall()
    finally:
        conn.close()
    assert ("reload-model", "scheduled") in rows
    assert any(c == "arm" and r.startswith("refused: wrong_token") for c, r in rows)
    assert killswitch.latch_present(tmp_path / "data" / "run")
