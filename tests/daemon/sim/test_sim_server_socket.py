"""``SimServer`` over real Socket.IO on loopback: games, determinism, accounts and orders."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import socketio

from rugsd.daemon.config import SimConfig
from rugsd.daemon.game import accounting, engine
from rugsd.daemon.game.accounting import open_account
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS, plan_game
from rugsd.daemon.sim.server import SimServer

HOST = "127.0.0.1"
SOL = 1_000_000_000
START = 10 * SOL
WAIT = 30.0


class Recorder:
    """A python-socketio client that keeps every event it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, tuple]] = []
        self._changed = asyncio.Event()
        self.sio.on("*", self._on_any)

    async def _on_any(self, event: str, *args: Any) -> None:
        self.events.append((event, args))
        self._changed.set()

    async def connect(self, url: str, player: str | None = None) -> None:
        auth = {"player": player} if player else None
        await self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)

    def states(self) -> list[dict]:
        return [a[-1] for e, a in self.events if e == "gameStateUpdate"]

    def of(self, name: str) -> list[tuple]:
        return [a for e, a in self.events if e == name]

    async def wait_state(self, pred, after: int = 0, timeout: float = WAIT) -> tuple[int, dict]:
        """The first gameStateUpdate at index >= ``after`` matching ``pred``."""

        async def scan() -> tuple[int, dict]:
            while True:
                for i, s in enumerate(self.states()):
                    if i >= after and pred(s):
                        return i, s
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def call(self, event: str, data: dict) -> dict:
        return await self.sio.call(event, data, timeout=10)

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def ledger(url: str, player: str) -> dict:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/ledger/{player}") as r:
        assert r.status == 200
        return await r.json()


def seed_where(pred) -> int:
    """The first integer seed whose first two games' rug ticks satisfy ``pred``."""
    for seed in range(5000):
        p0 = plan_game(str(seed), 0, DETERMINISTIC_EPOCH_MS, "v3")
        p1 = plan_game(str(seed), 1, p0.next_start_ms, "v3")
        if pred(p0.rug_tick, p1.rug_tick):
            return seed
    raise AssertionError("no seed found")


def presale(s: dict) -> bool:
    return s.get("allowPreRoundBuys") is True


def is_rug(s: dict) -> bool:
    return s.get("rugged") is True


def new_game_with_history(s: dict) -> bool:
    return s.get("cooldownTimer") == 15000 and bool(s.get("gameHistory"))


async def test_full_cycle_over_socketio_and_history_reproduced_by_the_engine() -> None:
    # short games: the cycle may begin with game 0 or 1, depending on when we connect
    sim = SimServer(SimConfig(), seed=seed_where(lambda r0, r1: r0 <= 60 and r1 <= 60), speed=50)
    await sim.start(HOST, 0)
    rec = Recorder()
    try:
        await rec.connect(sim.url)
        i, first = await rec.wait_state(lambda s: s.get("cooldownTimer") == 15000)
        game_id = first["gameId"]
        i, _pre = await rec.wait_state(lambda s: presale(s) and s["cooldownTimer"] == 10000, i)
        i, start = await rec.wait_state(lambda s: s.get("active") is True, i)
        assert (start["tickCount"], start["price"], start["gameId"]) == (0, 1, game_id)
        i, rug = await rec.wait_state(is_rug, i)
        i, nxt = await rec.wait_state(new_game_with_history, i)
    finally:
        await rec.close()
        await sim.stop()
    assert nxt["gameId"] != game_id and nxt["active"] is False
    finished = nxt["gameHistory"][0]
    assert finished["id"] == game_id and finished["rugged"] is True
    pf = finished["provablyFair"]
    assert pf["serverSeedHash"] == first["provablyFair"]["serverSeedHash"]
    outcome = engine.generate_game(pf["serverSeed"], game_id, finished["gameVersion"])
    assert list(outcome.prices) == finished["prices"][:-1]
    assert rug["tickCount"] == outcome.rug_tick and rug["price"] == finished["prices"][-1]
    ticks = [
        s["tickCount"]
        for s in rec.states()
        if s.get("gameId") == game_id and s.get("active") is True and not s["rugged"]
    ]
    assert ticks == list(range(outcome.rug_tick))  # one event per tick, none lost on loopback


async def test_two_servers_with_the_same_seed_play_the_same_games() -> None:
    histories = []
    seed = seed_where(lambda r0, _r1: r0 <= 60)
    for _ in range(2):
        sim = SimServer(SimConfig(), seed=seed, speed=50)
        await sim.start(HOST, 0)
        rec = Recorder()
        try:
            await rec.connect(sim.url)
            _, s = await rec.wait_state(new_game_with_history)
            histories.append(s["gameHistory"][0])
        finally:
            await rec.close()
            await sim.stop()
    assert histories[0] == histories[1]
    assert histories[0]["id"].startswith("20260101-")


async def test_named_player_keeps_its_account_across_reconnects_anonymous_do_not() -> None:
    sim = SimServer(SimConfig(), seed=303, speed=20)
    await sim.start(HOST, 0)
    a, b, anon1, anon2 = Recorder(), Recorder(), Recorder(), Recorder()
    try:
        await a.connect(sim.url, "bob")
        await a.wait_state(presale)
        ack = await a.call("buyOrder", {"amount": 0.5})
        assert ack["success"] is True
        await a.close()
        await b.connect(sim.url, "bob")
        await anon1.connect(sim.url)
        await anon2.connect(sim.url)
        await asyncio.wait_for(_until(lambda: len(anon2.of("playerUpdate")) >= 1), WAIT)
        bob = b.of("playerUpdate")[0][-1]
        assert bob["id"] == "sim:bob" and bob["cash"] == 9.5
        ids = {
            anon1.of("playerUpdate")[0][-1]["id"],
            anon2.of("playerUpdate")[0][-1]["id"],
        }
        assert len(ids) == 2 and "sim:bob" not in ids
        bad = Recorder()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await bad.connect(sim.url, "no spaces allowed")
        await bad.close()
        led = await ledger(sim.url, "bob")
        assert led["balance"] == START - SOL // 2
        # a flat anonymous player is forgotten when it leaves; a named one is kept
        gone = anon1.of("playerUpdate")[0][-1]["id"]
        assert gone.startswith("sim:~anon-")
        await anon1.close()
        await b.close()
        await asyncio.wait_for(_until(lambda: gone not in sim.room.players), WAIT)
        assert "sim:bob" in sim.room.players
        assert sim.refused_connections == 1
    finally:
        for r in (a, b, anon1, anon2):
            await r.close()
        await sim.stop()


async def _until(cond) -> None:
    while not cond():
        await asyncio.sleep(0.005)


async def test_orders_over_socketio_fill_by_the_rule_and_the_books_match_exactly() -> None:
    # game 0 rugs inside a presale sidebet's window, late enough to sell first; game 1 rugs
    # after the window, so its sidebet loses
    seed = seed_where(lambda r0, r1: 25 <= r0 <= 40 and 45 < r1 <= 150)
    sim = SimServer(SimConfig(), seed=seed, speed=30)
    await sim.start(HOST, 0)
    rec = Recorder()
    acct = open_account(START)
    try:
        await rec.connect(sim.url, "alice")
        # ---- game 0: presale buy and sidebet, refusals, a sell at the next tick, the rug
        i, pre = await rec.wait_state(presale)
        game0 = pre["gameId"]
        buy = await rec.call("buyOrder", {"amount": 0.1})
        assert buy["success"] is True and (buy["price"], buy["tickIndex"]) == (1.0, 0)
        acct, _ = accounting.buy(acct, SOL // 10, 1.0, 0)
        bet = await rec.call(
            "requestSidebet", {"amount": 0.01, "coinAddress": "0xPractice", "xPayout": 5}
        )
        assert bet["success"] is True and bet["message"]
        assert (bet["sidebet"]["startTick"], bet["sidebet"]["endTick"]) == (0, 40)
        acct, _ = accounting.place_sidebet(acct, SOL // 100, 0)
        again = await rec.call("requestSidebet", {"amount": 0.01, "xPayout": 5})
        assert again["success"] is False and again["reason"] == "sidebet_active"
        small = await rec.call("buyOrder", {"amount": 0.0005})
        assert small["success"] is False and small["reason"] == "below_min_bet"
        early_sell = await rec.call("sellOrder", {"percentage": 50})
        assert early_sell["success"] is False and early_sell["reason"] == "no_sell_before_start"
        i, seen = await rec.wait_state(lambda s: s.get("active") is True and s["tickCount"] >= 2, i)
        sell = await rec.call("sellOrder", {"percentage": 50})
        assert sell["success"] is True and sell["tickIndex"] > seen["tickCount"]
        sell_tick = sell["tickIndex"]
        i, rug0 = await rec.wait_state(is_rug, i)
        assert rug0["gameId"] == game0
        late = await rec.call("buyOrder", {"amount": 0.01})
        assert late["success"] is False and late["reason"] == "game_over"
        i, g1 = await rec.wait_state(new_game_with_history, i)
        hist0 = g1["gameHistory"][0]
        assert hist0["id"] == game0
        prices0 = hist0["prices"]
        assert sell["price"] == prices0[sell_tick]
        acct, _ = accounting.sell(acct, 50, prices0[sell_tick], sell_tick)
        rug_tick0 = len(prices0) - 1
        assert rug_tick0 <= 40
        acct, fills = accounting.settle_rug(acct, rug_tick0, prices0[-1])
        assert {f.kind for f in fills} == {
            accounting.FillKind.RUG_SELL,
            accounting.FillKind.SIDEBET_WIN,
        }
        assert _exact(await ledger(sim.url, "alice")) == _exact_acct(acct)
        # ---- game 1: a losing sidebet and a position held into the rug
        i, _ = await rec.wait_state(presale, i)
        assert (await rec.call("buyOrder", {"amount": 0.2}))["success"] is True
        acct, _ = accounting.buy(acct, SOL // 5, 1.0, 0)
        assert (await rec.call("requestSidebet", {"amount": 0.02, "xPayout": 5}))["success"]
        acct, _ = accounting.place_sidebet(acct, 2 * SOL // 100, 0)
        i, _ = await rec.wait_state(new_game_with_history, i)
        hist1 = rec.states()[i]["gameHistory"][0]
        prices1 = hist1["prices"]
        assert len(prices1) - 1 > 40
        acct, lost = accounting.settle_tick(acct, 40)  # tick 40 came without a rug
        assert lost is not None and lost.kind == accounting.FillKind.SIDEBET_LOSS
        acct, fills = accounting.settle_rug(acct, len(prices1) - 1, prices1[-1])
        assert [f.kind for f in fills] == [accounting.FillKind.RUG_SELL]
        final = await ledger(sim.url, "alice")
        assert _exact(final) == _exact_acct(acct)
        assert final["balance"] + final["cost"] == final["credited"] + final["realised"]
    finally:
        await rec.close()
        await sim.stop()
    # the public feed saw this player's fills
    trades = rec.of("standard/newTrade")
    assert all(len(a) == 2 and a[0]["__trace"] is True for a in trades)
    mine = [a[1] for a in trades if a[1]["playerId"] == "sim:alice"]
    assert [t["type"] for t in mine] == ["buy", "sell", "buy"]
    assert mine[1]["tickIndex"] == sell_tick
    sidebets = [a[-1] for a in rec.of("newSideBet")]
    assert [(s["startTick"], s["endTick"], s["betAmount"]) for s in sidebets] == [
        (0, 40, 0.01),
        (0, 40, 0.02),
    ]
    updates = [a[-1] for a in rec.of("playerUpdate")]
    assert updates[-1]["cash"] == acct.balance / SOL and updates[-1]["positionQty"] == 0


def _exact(led: dict) -> tuple:
    return led["balance"], led["qty"], led["cost"], led["realised"], led["credited"]


def _exact_acct(a: accounting.Account) -> tuple:
    return a.balance, a.qty, a.cost, a.realised, a.credited


async def test_health_reports_game_phase_tick_and_players() -> None:
    sim = SimServer(SimConfig(), seed=404, speed=20)
    await sim.start(HOST, 0)
    rec = Recorder()
    try:
        await rec.connect(sim.url, "carol")
        await rec.wait_state(presale)
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{sim.url}/health") as r:
                health = await r.json()
            async with s.get(f"{sim.url}/ledger/nobody") as r:
                assert r.status == 404
    finally:
        await rec.close()
        await sim.stop()
    assert health["gameId"] == sim.room.plan.game_id or health["gameId"].startswith("20260101-")
    assert health["phase"] in ("presale", "active", "rugged", "cooldown")
    assert health["players"] == 1 and health["seed"] == "404"


async def test_stop_disconnects_reconnecting_clients_and_does_not_hang() -> None:
    sim = SimServer(SimConfig(), seed=505, speed=20)
    await sim.start(HOST, 0)
    client = socketio.AsyncClient(reconnection=True, reconnection_delay=0.05)
    disconnected = asyncio.Event()
    client.on("disconnect", lambda *a: disconnected.set())
    try:
        await client.connect(sim.url, transports=["websocket"], wait_timeout=10)
        await asyncio.wait_for(sim.stop(), 10)  # aiohttp would otherwise wait ~45 s
        await asyncio.wait_for(disconnected.wait(), 10)
        with pytest.raises(aiohttp.ClientConnectionError):
            async with aiohttp.ClientSession() as s, s.get(f"{sim.url}/health"):
                pass
    finally:
        await client.disconnect()
        await sim.stop()  # idempotent
