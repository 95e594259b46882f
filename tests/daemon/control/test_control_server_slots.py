"""Availability of the control plane: idle clients are dropped, and a kill always finds a
slot even when every normal one is taken."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from kits.scripted_daemon import ScriptedDaemon

from rugsd.daemon.control import server as server_module
from rugsd.daemon.control.client import send_command
from rugsd.daemon.control.protocol import Command

T = 5.0


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "run" / "control.sock"


async def _idle_clients(path: Path, n: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    conns = [await asyncio.wait_for(asyncio.open_unix_connection(str(path)), T) for _ in range(n)]
    await asyncio.sleep(0.05)  # let the server register them
    return conns


async def _close(conns) -> None:
    for _reader, writer in conns:
        writer.close()


async def test_kill_gets_through_when_every_slot_is_held_by_idle_clients(sock_path):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, max_clients=4) as server:
        conns = await _idle_clients(sock_path, 4)
        try:
            assert server.client_count == 4
            answer = await send_command(sock_path, "kill", {"reason": "flood"}, timeout=T)
            status = await send_command(sock_path, "status", timeout=T)
        finally:
            await _close(conns)
    assert answer["type"] == "result" and answer["ok"], answer
    assert answer["risk"]["state"] == "KILLED"
    assert [c.cmd for c in daemon.commands] == [Command.KILL]
    # the reserved slot is for kill only: other commands are told why
    assert status["type"] == "error" and "only kill" in status["error"]


async def test_silent_clients_on_every_reserved_slot_do_not_keep_the_kill_out(
    sock_path, monkeypatch: pytest.MonkeyPatch
):
    # found by the reliability suite: 64 silent clients that reconnect held the 4 reserved
    # slots for 2 s each, again and again, and every socket kill was refused
    monkeypatch.setattr(server_module, "RESERVED_SLOTS", 3)
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, max_clients=2):
        conns = await _idle_clients(sock_path, 2 + 3 + 2)  # normal, reserved, and more
        try:
            answer = await send_command(sock_path, "kill", {"reason": "flood"}, timeout=T)
            # the silent ones that waited longest gave their reserved slot away
            evicted = [await asyncio.wait_for(r.read(), T) for r, _w in conns[2:5]]
        finally:
            await _close(conns)
    assert answer["type"] == "result" and answer["ok"], answer
    assert [c.cmd for c in daemon.commands] == [Command.KILL]
    assert evicted == [b"", b"", b""]  # closed: silent, they have nothing to be told


async def test_idle_clients_are_dropped_so_status_and_subscribers_come_back(sock_path):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, max_clients=4, idle_timeout_s=0.3) as server:
        conns = await _idle_clients(sock_path, 4)
        try:
            for reader, _writer in conns:  # each is told, then disconnected
                line = json.loads(await asyncio.wait_for(reader.readline(), T))
                assert line["type"] == "error" and "idle" in line["error"]
                assert await asyncio.wait_for(reader.readline(), T) == b""
            status = await send_command(sock_path, "status", timeout=T)
        finally:
            await _close(conns)
        assert server.counters.errors["idle_timeout"] == 4
    assert status["type"] == "result" and status["ok"]


async def test_a_subscriber_is_not_idle(sock_path):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, idle_timeout_s=0.2) as server:
        reader, writer = await asyncio.open_unix_connection(str(sock_path), limit=1 << 22)
        writer.write(b'{"cmd":"subscribe"}\n')
        await writer.drain()
        seen = 0
        async with asyncio.timeout(T):
            while seen < 12:  # 0.6 s of snapshots at 0.05 s: well past the idle timeout
                line = json.loads(await reader.readline())
                assert line["type"] == "snapshot", line
                seen += 1
        assert server.client_count == 1
        writer.close()
