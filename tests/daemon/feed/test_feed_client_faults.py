"""The feed client's failure paths against the real simulator on loopback: websocket first
on every reconnect, malformed Socket.IO frames counted by reason, consumer failures
reported (not a TypeError of the logger), a clean close on both transports."""

from __future__ import annotations

import asyncio

import pytest
from feed_helpers import fast_feed, running, until
from structlog.testing import capture_logs

from rugsd.daemon.config import SimConfig
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.feed.client import FeedClient
from rugsd.daemon.feed.recorder import Recorder
from rugsd.daemon.sim.server import SimServer

HOST = "127.0.0.1"
SPEED = 40.0


def _sim(seed: int, transports: list[str] | None = None) -> SimServer:
    sim = SimServer(SimConfig(), seed=seed, speed=SPEED)
    if transports is not None:  # e.g. a proxy that blocks websocket upgrades
        sim.sio.eio.transports = transports
    return sim


# a server that ends a polling session is noticed at once, not after the engine.io
# long-poll times out (25 s ping interval + 20 s timeout): well inside this bound
RECONNECT_BOUND_S = 10


async def test_each_reconnect_tries_websocket_first_again() -> None:
    # Arrange: the first server refuses websocket, so the first session falls back to polling
    sim = _sim(61, ["polling"])
    port = await sim.start(HOST, 0)
    updates: list[GameUpdate] = []
    client = FeedClient(fast_feed(sim.url), on_event=lambda e: updates.append(e))
    async with running(client):
        await until(lambda: client.connected and len(updates) > 3, 15, "a polling session")
        assert client._sio.transport() == "polling"
        # what python-socketio's own reconnects (after a transport error) will try
        assert client._sio.connection_transports == ["websocket", "polling"]
        # Act: the server restarts, now with websocket allowed
        await sim.stop()
        await until(lambda: not client.connected, 10, "the disconnect")
        sim = _sim(62)
        assert await sim.start(HOST, port) == port
        try:
            await until(lambda: client.health_snapshot().reconnects >= 1, RECONNECT_BOUND_S,
                         "a reconnect")
            # Assert: the reconnect went back to websocket, not the fallback of last time
            assert client._sio.transport() == "websocket"
        finally:
            await sim.stop()


async def test_a_polling_session_the_server_ends_reconnects_without_waiting_for_the_poll(
) -> None:
    # issue 10 #10: on polling, a server restart took 26.8 s to reconnect (0.4 s on ws)
    sim = _sim(66, ["polling"])
    port = await sim.start(HOST, 0)
    client = FeedClient(fast_feed(sim.url, transports=["polling"]))
    async with running(client):
        await until(lambda: client.connected, 15, "a polling session")
        await sim.stop()
        await until(lambda: not client.connected, 10, "the disconnect")
        sim = _sim(67, ["polling"])
        assert await sim.start(HOST, port) == port
        try:
            await until(lambda: client.health_snapshot().reconnects >= 1, RECONNECT_BOUND_S,
                         "a reconnect")
        finally:
            await sim.stop()
    assert client.counters.frames_rejected == {}


async def test_malformed_socketio_frames_are_counted_by_reason_and_the_feed_goes_on() -> None:
    sim = _sim(63)
    await sim.start(HOST, 0)
    updates: list[GameUpdate] = []
    client = FeedClient(fast_feed(sim.url), on_event=lambda e: updates.append(e))
    bad = {
        '2["gameStateUpdate",{"gameId": bro': "undecodable",  # cut JSON
        '9["x"]': "unknown_packet_type",
        '2{"not": "a list"}': "bad_event",
        "2[]": "bad_event",
    }
    try:
        async with running(client):
            await until(lambda: len(updates) > 3, 15, "updates")
            # Act: the server sends raw Engine.IO messages that are not valid Socket.IO
            for frame in bad:
                for sid in list(sim.sio.eio.sockets):
                    await sim.sio.eio.send(sid, frame)
            await until(lambda: sum(client.counters.frames_rejected.values()) == len(bad),
                         10, "the bad frames counted")
            seen = len(updates)
            await until(lambda: len(updates) > seen + 3, 10, "updates after the bad frames")
    finally:
        await sim.stop()

    assert client.counters.frames_rejected == {"undecodable": 1, "unknown_packet_type": 1,
                                               "bad_event": 2}
    by_reason = client.rejected_by_reason()
    assert by_reason["frame:bad_event"] == 2 and by_reason["frame:undecodable"] == 1
    assert client.counters.callback_errors == 0


async def test_a_failing_consumer_is_counted_and_logged_without_breaking_the_logger() -> None:
    sim = _sim(64)
    await sim.start(HOST, 0)

    def consumer(event: object) -> None:
        raise RuntimeError("consumer bug")

    client = FeedClient(fast_feed(sim.url), on_event=consumer)
    try:
        with capture_logs() as logs:
            async with running(client):
                await until(lambda: client.counters.callback_errors >= 3, 15, "failures")
    finally:
        await sim.stop()

    failures = [e for e in logs if e["event"] == "feed_callback_failed"]
    assert failures and "consumer bug" in failures[0]["error"]
    assert failures[0]["event_name"] in ("gameStateUpdate", "playerUpdate")
    assert client.counters.frames_rejected == {}  # the handler itself never raised


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_concurrent_closes_share_one_shutdown(transport: str) -> None:
    # a signal handler and the run loop's own ``finally`` both close the client
    sim = _sim(65)
    await sim.start(HOST, 0)
    client = FeedClient(fast_feed(sim.url, transports=[transport]))
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    try:
        await until(lambda: client.connected, 15, "connected")
        stop.set()
        await asyncio.wait_for(asyncio.gather(client.close(), client.close(), task), 10)
    finally:
        await sim.stop()
    assert not client.connected


def test_recorder_counts_an_unencodable_event_instead_of_raising(tmp_path) -> None:
    loop: list = []
    loop.append(loop)  # json cannot encode a circular structure
    rec = Recorder(tmp_path)
    with capture_logs() as logs:
        rec.on_raw("gameStateUpdate", [loop], 1)
    assert rec.stats.errors == 1
    assert [e["event_name"] for e in logs if e["event"] == "record_encode_failed"] == [
        "gameStateUpdate"]
