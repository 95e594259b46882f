"""The control server over a real Unix socket: permissions, streaming, bad input, slow
and vanishing clients, command delivery."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from pathlib import Path

import pytest
from kits.scripted_daemon import ScriptedDaemon

from rugsd.daemon.control.client import ControlConnection, send_command
from rugsd.daemon.control.protocol import Command, CommandRequest
from rugsd.daemon.control.server import ControlServer, ControlSocketInUse
from rugsd.daemon.control.sockpath import SocketPathError

T = 5.0  # bound on every wait


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "run" / "control.sock"


async def _raw(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_unix_connection(str(path), limit=1 << 22), T)


async def _line(reader: asyncio.StreamReader) -> dict:
    return json.loads(await asyncio.wait_for(reader.readline(), T))


async def _ask(reader, writer, payload: bytes) -> dict:
    writer.write(payload)
    await writer.drain()
    return await _line(reader)


async def test_control_socket_is_created_with_mode_0600_in_a_private_run_dir(sock_path):
    async with ScriptedDaemon().serve(sock_path):
        mode = os.stat(sock_path).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
        assert stat.S_IMODE(os.stat(sock_path.parent).st_mode) == 0o700
    assert not sock_path.exists(), "stop() removes the socket file"


async def test_stale_socket_file_is_replaced(sock_path):
    sock_path.parent.mkdir(parents=True)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock_path))  # bound, never listening: connect is refused
    stale.close()
    async with ScriptedDaemon().serve(sock_path):
        answer = await send_command(sock_path, "status", timeout=T)
    assert answer["type"] == "result" and answer["cmd"] == "status"


async def test_second_server_refuses_a_live_socket_and_a_non_socket_file(sock_path, tmp_path):
    async with ScriptedDaemon().serve(sock_path):
        with pytest.raises(ControlSocketInUse):
            await ScriptedDaemon().serve(sock_path).__aenter__()
        # the first server still answers
        assert (await send_command(sock_path, "status", timeout=T))["ok"] is True
    regular = tmp_path / "plain" / "control.sock"
    regular.parent.mkdir()
    regular.write_text("not a socket")
    with pytest.raises(SocketPathError, match="not a socket"):
        await ScriptedDaemon().serve(regular).__aenter__()
    assert regular.read_text() == "not a socket"


async def test_subscribe_streams_snapshots_with_increasing_seq(sock_path):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, interval_s=0.02):
        conn = await ControlConnection.open(sock_path)
        seqs = []
        async with conn:
            stream = conn.subscribe(read_timeout=T)
            async for snap in stream:
                assert snap["type"] == "snapshot" and snap["v"] == 1
                assert snap["risk"]["state"] == "ACTIVE"
                seqs.append(snap["seq"])
                if len(seqs) == 6:
                    break
            await stream.aclose()
    assert seqs == sorted(seqs) and len(set(seqs)) == 6


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"{not json\n", "malformed JSON"),
        (b"[1, 2]\n", "must be a JSON object"),
        (b'{"id": 1, "cmd": "explode"}\n', "unknown command 'explode'"),
        (b'{"id": 2}\n', "missing 'cmd'"),
        (b'{"id": 3, "cmd": "arm", "args": {}}\n', "bad args for arm: token"),
        (b'{"id": 4, "cmd": "pause", "args": {"colour": "red"}}\n', "bad args for pause"),
        (b'{"id": 5, "cmd": "kill", "args": "now"}\n', "'args' must be an object"),
        (b'{"id": 6, "cmd": "status", "v": 99}\n', "protocol version 99 not supported"),
        (b"\xff\xfe\n", "not UTF-8"),
    ],
)
async def test_bad_request_gets_one_error_line_and_connection_stays_up(sock_path, payload, expected):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path) as server:
        reader, writer = await _raw(sock_path)
        err = await _ask(reader, writer, payload)
        assert err["type"] == "error"
        assert expected in err["error"] and "\n" not in err["error"]
        ok = await _ask(reader, writer, b'{"id": "next", "cmd": "status"}\n')
        assert ok["type"] == "result" and ok["id"] == "next"
        writer.close()
        assert sum(server.counters.errors.values()) == 1
    assert daemon.commands == [], "refused requests never reach the handler"


async def test_error_answer_echoes_the_request_id(sock_path):
    async with ScriptedDaemon().serve(sock_path):
        reader, writer = await _raw(sock_path)
        err = await _ask(reader, writer, b'{"id": 41, "cmd": "nope"}\n')
        assert err["id"] == 41
        writer.close()


async def test_over_long_line_is_refused_and_the_stream_resynchronises(sock_path):
    async with ScriptedDaemon().serve(sock_path) as server:
        reader, writer = await _raw(sock_path)
        writer.write(b'{"pad": "' + b"x" * 300_000 + b'"}\n{"id": 9, "cmd": "status"}\n')
        await writer.drain()
        err = await _line(reader)
        ok = await _line(reader)
        assert err["type"] == "error" and "longer than" in err["error"]
        assert ok["type"] == "result" and ok["id"] == 9
        assert server.counters.errors["too_long"] == 1
        writer.close()


async def test_commands_reach_the_handler_with_who_and_when(sock_path):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, clock_ms=lambda: 1_700_000_000_123):
        answer = await send_command(sock_path, "pause", {"reason": "lunch"},
                                    who="test:alice@pts/1", timeout=T)
    assert answer == {
        "type": "result", "v": 1, "id": answer["id"], "ok": True, "cmd": "pause",
        "risk": daemon.risk, "detail": "",  # the real handler: a pause that took says nothing
    }
    assert answer["risk"]["state"] == "HALTED"
    (req,) = daemon.commands
    assert isinstance(req, CommandRequest)
    assert (req.cmd, req.args, req.who, req.ts_ms) == (
        Command.PAUSE, {"reason": "lunch"}, "test:alice@pts/1", 1_700_000_000_123)
    assert (req.peer_pid, req.peer_uid) == (os.getpid(), os.getuid())


async def test_arm_token_reaches_the_handler_which_decides(sock_path):
    daemon = ScriptedDaemon()
    daemon.kill_by_file()
    async with daemon.serve(sock_path):
        wrong = await send_command(sock_path, "arm", {"token": "guess"}, timeout=T)
        right = await send_command(sock_path, "arm", {"token": daemon.arm_token}, timeout=T)
    assert (wrong["ok"], wrong["risk"]["state"]) == (False, "KILLED")
    assert (right["ok"], right["risk"]["state"]) == (True, "ACTIVE")


async def test_failing_or_slow_handler_gives_an_error_and_the_server_stays_up(sock_path):
    calls = []

    def handler(req: CommandRequest) -> dict:  # a sync handler is allowed too
        calls.append(req.cmd)
        if req.cmd is Command.FLATTEN:
            raise RuntimeError("executor\nexploded")
        return {"ok": True, "detail": "fine"}

    async def slow(req: CommandRequest) -> dict:
        await asyncio.sleep(30)
        return {}

    daemon = ScriptedDaemon()
    server = ControlServer(sock_path, daemon.provide, handler, 0.05)
    async with server:
        err = await send_command(sock_path, "flatten", timeout=T)
        ok = await send_command(sock_path, "resume", timeout=T)
    assert err["type"] == "error" and err["error"] == (
        "flatten failed: RuntimeError: executor exploded")
    assert ok["ok"] is True and ok["risk"]["state"] == "ACTIVE", "risk filled from the snapshot"
    assert calls == [Command.FLATTEN, Command.RESUME]

    server = ControlServer(sock_path, daemon.provide, slow, 0.05, command_timeout_s=0.1)
    async with server:
        err = await send_command(sock_path, "pause", timeout=T)
        assert "timed out" in err["error"]
        assert server.counters.errors["handler_timeout"] == 1


async def test_client_vanishing_mid_stream_does_not_disturb_other_subscribers(sock_path):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, interval_s=0.01) as server:
        steady = await ControlConnection.open(sock_path)
        steady_stream = steady.subscribe(read_timeout=T)
        first = (await anext(steady_stream))["seq"]
        for _ in range(5):  # subscribers that read a bit, then vanish abruptly
            reader, writer = await _raw(sock_path)
            writer.write(b'{"cmd": "subscribe"}\n')
            await _line(reader)
            writer.transport.abort()
        later = [(await anext(steady_stream))["seq"] for _ in range(10)]
        assert later == sorted(later) and later[0] > first
        answer = await send_command(sock_path, "status", timeout=T)
        assert answer["ok"] is True
        await steady_stream.aclose()
        await steady.close()
        for _ in range(100):  # the server notices the closes (bounded wait)
            if server.client_count == 0:
                break
            await asyncio.sleep(0.01)
        assert server.client_count == 0


async def test_many_slow_clients_do_not_block_the_provider(sock_path):
    # a big snapshot fills the socket buffers of clients that never read
    snap = ScriptedDaemon().snapshot
    snap["padding"] = "x" * 200_000
    daemon = ScriptedDaemon(snap)
    async with daemon.serve(sock_path, interval_s=0.005) as server:
        sleepers = []
        for _ in range(20):
            _reader, writer = await _raw(sock_path)
            writer.write(b'{"cmd": "subscribe"}\n')
            await writer.drain()
            sleepers.append(writer)
        before = daemon.provider_calls
        for _ in range(500):  # bounded: until the provider has run 50 more times
            if daemon.provider_calls >= before + 50 and server.counters.snapshots_dropped:
                break
            await asyncio.sleep(0.01)
        assert daemon.provider_calls >= before + 50, "the broadcast loop kept running"
        assert server.counters.snapshots_dropped > 0, "slow subscribers had snapshots dropped"
        answer = await send_command(sock_path, "pause", timeout=T)
        assert answer["ok"] is True, "a command still gets through"
        for writer in sleepers:
            writer.transport.abort()


async def test_failing_provider_is_counted_and_streaming_resumes(sock_path):
    daemon = ScriptedDaemon()
    broken = {"on": True}

    def provider() -> dict:
        if broken["on"]:
            raise ValueError("half-built state")
        return daemon.provide()

    server = ControlServer(sock_path, provider, daemon.handle, 0.01)
    async with server:
        conn = await ControlConnection.open(sock_path)
        stream = conn.subscribe(read_timeout=T)
        nxt = asyncio.ensure_future(anext(stream))
        for _ in range(200):
            if server.counters.errors["provider_error"] >= 3:
                break
            await asyncio.sleep(0.01)
        assert server.counters.errors["provider_error"] >= 3
        assert not nxt.done()
        broken["on"] = False
        snap = await asyncio.wait_for(nxt, T)
        assert snap["type"] == "snapshot"
        await stream.aclose()
        await conn.close()


async def test_peer_with_another_uid_is_rejected(sock_path):
    daemon = ScriptedDaemon()
    async with daemon.serve(sock_path, allowed_uid=os.getuid() + 1) as server:
        answer = await send_command(sock_path, "kill", timeout=T)
    assert answer["type"] == "error" and "permission denied" in answer["error"]
    assert daemon.commands == [] and server.counters.errors["peer_rejected"] == 1


async def test_non_finite_snapshot_values_go_out_as_null(sock_path):
    daemon = ScriptedDaemon()
    daemon.snapshot["model"]["p_rug"] = float("nan")
    async with daemon.serve(sock_path):
        reader, writer = await _raw(sock_path)
        writer.write(b'{"cmd": "subscribe"}\n')
        raw = await asyncio.wait_for(reader.readline(), T)
        writer.close()
    assert b"NaN" not in raw
    assert json.loads(raw)["model"]["p_rug"] is None
