"""The feed client against the real simulator on loopback: games, restarts, staleness."""

from __future__ import annotations

import asyncio

import pytest
import socketio
from aiohttp import web
from feed_helpers import fast_feed, running, until

from rugsd.daemon.config import SimConfig
from rugsd.daemon.events import GameUpdate, Phase, PlayerUpdate
from rugsd.daemon.feed.client import FeedClient, NotConnectedError
from rugsd.daemon.sim.players import player_id_for
from rugsd.daemon.sim.server import SimServer
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.transitions import (
    Anomaly,
    GameFinished,
    NewGame,
    PhaseChanged,
    TickAdvanced,
)

SPEED = 40.0
HOST = "127.0.0.1"


class Observer:
    """Feeds every GameUpdate into a state machine and keeps what happened."""

    def __init__(self) -> None:
        self.machine = GameStateMachine()
        self.transitions: list = []
        self.updates = 0

    def __call__(self, event) -> None:
        if isinstance(event, GameUpdate):
            self.updates += 1
            self.transitions.extend(self.machine.apply(event))


async def test_client_observes_a_full_game_from_cooldown_to_rug() -> None:
    sim = SimServer(SimConfig(), seed=11, speed=SPEED)
    await sim.start(HOST, 0)
    obs = Observer()
    try:
        async with running(FeedClient(fast_feed(sim.url), on_event=obs)) as client:
            await until(lambda: any(isinstance(t, GameFinished) and t.complete
                                     for t in obs.transitions), 40, "a complete game")
            assert client.connected
    finally:
        await sim.stop()

    finished = next(t for t in obs.transitions if isinstance(t, GameFinished) and t.complete)
    # the same game went through cooldown/presale before it ticked
    idx = obs.transitions.index(finished)
    phases = [t.new for t in obs.transitions[:idx] if isinstance(t, PhaseChanged)]
    assert Phase.PRESALE in phases and Phase.ACTIVE in phases
    assert finished.rug_seen and finished.summary.rug_tick == len(finished.prices) - 1


async def test_client_reconnects_after_a_sim_restart_and_the_machine_recovers() -> None:
    sim = SimServer(SimConfig(), seed=21, speed=10.0)
    port = await sim.start(HOST, 0)
    obs = Observer()
    client = FeedClient(fast_feed(sim.url), on_event=obs)
    async with running(client):
        await until(lambda: obs.machine.view.phase is Phase.ACTIVE
                     and obs.machine.view.tick >= 2, 30, "an active game")
        await sim.stop()
        phase_at_stop = obs.machine.view.phase  # nearly always ACTIVE (rug hazard 0.5 %/tick)
        await until(lambda: not client.health_snapshot().connected, 10, "the disconnect")
        ticks_before = sum(isinstance(t, TickAdvanced) for t in obs.transitions)
        seen_before = len(obs.transitions)

        sim = SimServer(SimConfig(), seed=22, speed=10.0)
        assert await sim.start(HOST, port) == port
        try:
            await until(lambda: client.health_snapshot().reconnects >= 1, 15, "a reconnect")
            await until(
                lambda: sum(isinstance(t, TickAdvanced) for t in obs.transitions)
                > ticks_before + 5, 30, "tick progress after the restart")
        finally:
            await sim.stop()

    after = obs.transitions[seen_before:]
    assert client.health_snapshot().reconnects >= 1
    assert any(isinstance(t, NewGame) for t in after)  # the restarted sim's game is tracked
    if phase_at_stop is Phase.ACTIVE:  # the lost game is counted as an anomaly, not fatal
        assert any(isinstance(t, Anomaly) for t in after)
        assert obs.machine.stats().get("anomaly.missed_rug", 0) >= 1
    assert client.counters.callback_errors == 0


async def test_stale_flag_rises_when_the_sim_stops_and_falls_when_ticks_resume() -> None:
    sim = SimServer(SimConfig(), seed=31, speed=SPEED)
    port = await sim.start(HOST, 0)
    changes: list[bool] = []
    client = FeedClient(fast_feed(sim.url, stale_after_s=0.5),
                        on_health_change=lambda change, snap: changes.append(change.stale))
    async with running(client):
        await until(lambda: changes == [False], 15, "fresh")
        await sim.stop()
        await until(lambda: changes[-1:] == [True], 10, "stale")
        assert client.health_snapshot().stale

        sim = SimServer(SimConfig(), seed=32, speed=SPEED)
        await sim.start(HOST, port)
        try:
            await until(lambda: changes[-1:] == [False], 15, "fresh again")
        finally:
            await sim.stop()

    assert changes[:3] == [False, True, False]


async def test_emit_without_a_connection_is_a_clear_error() -> None:
    client = FeedClient(fast_feed("http://127.0.0.1:9"))

    with pytest.raises(NotConnectedError):
        await client.emit_with_ack("buyOrder", {"amount": 0.001}, timeout=0.1)


async def test_first_connect_failure_is_retried_until_the_server_appears(free_port) -> None:
    obs = Observer()
    client = FeedClient(fast_feed(f"http://{HOST}:{free_port}"), on_event=obs)
    async with running(client):
        await until(lambda: client.counters.connect_failures >= 2, 10, "failed attempts")
        sim = SimServer(SimConfig(), seed=41, speed=SPEED)
        await sim.start(HOST, free_port)
        try:
            await until(lambda: obs.updates > 5, 15, "updates after the late start")
        finally:
            await sim.stop()

    assert client.health_snapshot().connects == 1


async def test_a_silent_connection_is_dropped_and_reconnected() -> None:
    server = socketio.AsyncServer(async_mode="aiohttp")  # accepts, then never emits
    app = web.Application()
    server.attach(app)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    port = runner.addresses[0][1]
    client = FeedClient(fast_feed(f"http://{HOST}:{port}", silent_reconnect_s=0.3))
    try:
        async with running(client):
            await until(lambda: client.health_snapshot().connects >= 2, 15, "a reconnect")
    finally:
        await runner.cleanup()

    assert client.counters.silent_drops >= 1
    assert client.health_snapshot().reconnects >= 1


async def test_auth_names_the_player_and_orders_get_their_ack_as_a_dict() -> None:
    sim = SimServer(SimConfig(), seed=51, speed=SPEED)
    await sim.start(HOST, 0)
    players: list[PlayerUpdate] = []
    client = FeedClient(fast_feed(sim.url), auth={"player": "alice"},
                        on_event=lambda e: players.append(e) if isinstance(e, PlayerUpdate)
                        else None)
    try:
        async with running(client):
            assert await client.wait_connected(10)
            ack = await client.emit_with_ack("buyOrder", {"amount": 0.001}, timeout=10)
            await until(lambda: bool(players), 10, "a playerUpdate")
    finally:
        await sim.stop()

    assert isinstance(ack, dict) and isinstance(ack.get("success"), bool)
    assert players[0].player_id == player_id_for("alice")


async def test_cancelling_run_closes_the_connection() -> None:
    sim = SimServer(SimConfig(), seed=61, speed=SPEED)
    await sim.start(HOST, 0)
    client = FeedClient(fast_feed(sim.url))
    task = asyncio.create_task(client.run(asyncio.Event()))
    try:
        assert await client.wait_connected(10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
    finally:
        await sim.stop()

    assert not client.connected
    assert client.health_snapshot().stale
