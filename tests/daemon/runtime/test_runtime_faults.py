"""The failure policy in a real daemon (in-process, embedded simulator on a free loopback
port): a failed journal write stops trading at once and moves no paper money without its
record; a strategy that raises holds decisions; a supervised task that dies kills and
stops the daemon; hostile frames and absurd prices are counted by reason in ``status``
and the Prometheus metrics, never traded on (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from rugsd.daemon.config import Settings
from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.runtime.daemon import Daemon
from rugsd.risk import killswitch
from rugsd.risk.states import TradingState
from rugsd.strategy.base import Decision

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _settings(**sections: Any) -> Settings:
    port = _free_port()  # the feed URL must find nothing: never another helper's simulator
    base = {
        "sim": {"port": port, "speed": 20, "seed": 18},
        "feed": {"url": f"http://{HOST}:{port}"},
        "strategy": {"name": "presale_target", "max_hold_ticks": 3},
        "paper": {"starting_balance_sol": 10},
        "journal": {"decision_flush_interval_ms": 100},
        "control": {"metrics_port": 0},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return Settings.model_validate(base)


async def until(cond: Callable[[], Any], timeout: float, what: str,
                task: asyncio.Task | None = None) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = cond()
        if value:
            return value
        if task is not None and task.done():
            raise AssertionError(f"daemon ended ({task.result()!r}) waiting for {what}")
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running(daemon: Daemon) -> AsyncIterator[asyncio.Task]:
    task = asyncio.create_task(daemon.run())
    try:
        await until(lambda: hasattr(daemon, "core") and daemon.core.view.tick >= 0, 30,
                    "the first tick", task)
        yield task
    finally:
        daemon.stop()
        daemon.stop()  # a second request: no settling wait in teardown
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)


def _fills_in_journal(daemon: Daemon) -> int:
    conn = sqlite3.connect(f"file:{daemon.paths.journal}?mode=ro", uri=True, timeout=2)
    try:
        return conn.execute("SELECT count(*) FROM fills").fetchone()[0]
    finally:
        conn.close()


async def test_a_full_disk_kills_at_once_and_moves_no_paper_money(tmp_path: Path) -> None:
    # Arrange: a trading daemon
    daemon = Daemon(_settings(), tmp_path / "data")
    async with running(daemon) as task:
        await until(lambda: daemon.core.stats["fills"] >= 2, 30, "fills", task)
        # Act: the journal's database cannot grow any more (SQLITE_FULL, as on a full disk)
        pages = daemon.journal.conn.execute("PRAGMA page_count").fetchone()[0]
        daemon.journal.conn.execute(f"PRAGMA max_page_count = {pages}")
        # Assert: KILLED by the first failed write, in memory at once
        await until(lambda: daemon.core.risk.killed, 30, "the kill", task)
        assert daemon.core.risk.kill_reason.value == "journal_write_failed"
        assert daemon.core.stats["fault_journal_write"] >= 1
        # while the disk stays full no order's intent reaches the journal, so none is
        # released to the paper venue: the flattening sell waits (money never moves
        # ahead of its record)
        intents = daemon.journal.counters["orders"]
        ticks = daemon.core.stats["ticks"]
        idle: list[bool] = []

        def sampled() -> bool:
            idle.append(not daemon.core.held and daemon.core.paper.pending == 0)
            return daemon.core.stats["ticks"] > ticks + 40

        await until(sampled, 30, "more ticks", task)
        assert all(idle) and len(idle) > 10
        assert daemon.journal.counters["orders"] == intents
        assert daemon.core.stats["orders"] > 0
        snap = daemon.snapshot()
        assert snap["risk"]["state"] == "KILLED"
        assert snap["risk"]["kill_reason"] == "journal_write_failed"
        assert snap["risk"]["faults"]["journal_write"] >= 1
        assert 'rugsd_faults_total{kind="journal_write"}' in daemon.metrics.render().decode()
        # Act 2: space comes back; the kill stays (latched in memory) and the
        # flattening sell now goes out with its record
        daemon.journal.conn.execute("PRAGMA max_page_count = 1073741823")
        await until(lambda: daemon.core.account.qty == 0, 30, "the flattening sell", task)
        assert daemon.core.trading_state is TradingState.KILLED
        before = _fills_in_journal(daemon)
        assert before > 0
    assert task.result() == 0


class RaisingStrategy:
    """Buys in presale; every third decision raises (a model bug)."""

    name = "raising"

    def __init__(self) -> None:
        self.calls = 0

    def decide(self, view, account, features=None) -> Decision:
        from rugsd.strategy.intents import WAIT, Action, Intent

        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError("onnx session exploded")
        if view.phase is Phase.PRESALE and account.qty == 0:
            return Decision(Intent(Action.BUY, amount=1_000_000, source="test"))
        return Decision(WAIT)


async def test_a_raising_strategy_holds_decisions_and_trading_goes_on(tmp_path: Path) -> None:
    daemon = Daemon(_settings(), tmp_path / "data", strategy=RaisingStrategy())
    async with running(daemon) as task:
        await until(lambda: daemon.core.stats["strategy_errors"] >= 5
                    and daemon.core.stats["fills"] >= 1, 30, "errors and fills", task)
        assert daemon.core.trading_state is TradingState.ACTIVE
        snap = daemon.snapshot()
        assert snap["risk"]["faults"]["strategy_error"] >= 5
        await until(lambda: daemon.journal.count("decisions") > 0, 10, "decisions", task)
        held = daemon.journal.conn.execute(
            "SELECT count(*), min(intent_action) FROM decisions WHERE reason = ?",
            ("strategy_error",)).fetchone()
        assert held[0] >= 1 and held[1] == "wait"
    assert task.result() == 0


async def test_a_dying_timer_kills_latches_and_stops_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: the kill-file poll (the timer's job) starts failing
    daemon = Daemon(_settings(), tmp_path / "data")
    task = asyncio.create_task(daemon.run())
    try:
        await until(lambda: hasattr(daemon, "core") and daemon.core.stats["ticks"] > 5, 30,
                    "ticks", task)

        def unreadable(*_args: Any) -> None:
            raise PermissionError("run dir unreadable")

        monkeypatch.setattr(killswitch, "kill_file_latch", unreadable)
        # Assert: the daemon does not run on without its timer (stale-feed check, kill file)
        code = await asyncio.wait_for(task, 30)
    finally:
        if not task.done():
            daemon.stop()
            daemon.stop()
            await asyncio.wait_for(task, 30)
    assert code == 1
    assert daemon.core.risk.killed and daemon.core.risk.kill_reason.value == "task_died"
    latch = killswitch.read_latch(daemon.paths.run_dir)
    assert latch is not None and "task_died" in latch.reason
    conn = sqlite3.connect(daemon.paths.journal)
    try:
        (detail,) = conn.execute(
            "SELECT detail FROM risk_events WHERE reason = 'task_died'").fetchone()
        kills = conn.execute("SELECT count(*) FROM kill_events").fetchone()[0]
    finally:
        conn.close()
    assert "timer" in detail and "run dir unreadable" in detail
    assert kills == 1


async def test_hostile_frames_and_absurd_prices_are_counted_in_status_and_metrics(
    tmp_path: Path,
) -> None:
    daemon = Daemon(_settings(), tmp_path / "data")
    async with running(daemon) as task:
        sim = daemon.venue.sim
        assert sim is not None
        payloads: list[dict] = []
        daemon.feed.add_raw_listener(
            lambda name, args, ts: payloads.append(args[-1])
            if name == "gameStateUpdate" and isinstance(args[-1], dict)
            and args[-1].get("active") and not args[-1].get("rugged") else None)
        await until(lambda: len(payloads) > 3, 30, "active updates", task)
        # Act: malformed Socket.IO frames, then absurd prices for the game being played
        for frame in ('2["gameStateUpdate",{"gameId":', '2{"x": 1}', "2[]"):
            for sid in list(sim.sio.eio.sockets):
                await sim.sio.eio.send(sid, frame)
        fake = dict(payloads[-1])
        fake["tickCount"] = fake.get("tickCount", 0) + 1
        for price in (1e9, 1e300, -2.0):
            await sim.sio.emit("gameStateUpdate", {**fake, "price": price})
        # Assert
        await until(lambda: daemon.snapshot()["feed"]["rejected"] >= 6, 10, "rejections",
                    task)
        feed = daemon.snapshot()["feed"]
        by_reason = feed["rejected_by_reason"]
        assert by_reason["frame:undecodable"] == 1 and by_reason["frame:bad_event"] == 2
        assert by_reason["implausible:price_above_max"] == 2
        assert by_reason["parse:gameStateUpdate:price:greater_than_equal"] == 1  # the parser
        assert feed["rejected"] == sum(by_reason.values())
        metrics = daemon.metrics.render().decode()
        assert 'rugsd_feed_rejected_total{reason="frame:bad_event"} 2.0' in metrics
        assert 'rugsd_feed_rejected_total{reason="implausible:price_above_max"} 2.0' in metrics
        assert daemon.core.trading_state is TradingState.ACTIVE
        await until(lambda: daemon.journal.count("fills") > 0, 20, "fills", task)
        top = daemon.journal.conn.execute("SELECT max(price) FROM fills").fetchone()[0]
        assert top < 1e5


async def test_a_fake_rug_of_another_game_leaves_the_position_alone(tmp_path: Path) -> None:
    # Arrange: hold a position through the game (no take-profit, no time exit)
    daemon = Daemon(_settings(strategy={"max_hold_ticks": 5000, "target_multiple": 1000}),
                    tmp_path / "data")
    async with running(daemon) as task:
        await until(lambda: daemon.core.account.qty > 0
                    and daemon.core.view.phase is Phase.ACTIVE, 30, "a held position", task)
        account = daemon.core.account
        game = daemon.core.view.game_id
        # Act: a rug of a game id nobody ever saw, at a fake price
        update = GameUpdate(ts_ms=daemon.core.view.ts_ms, game_id="20260101-00000000deadbeef",
                            active=True, rugged=True, cooldown_ms=0, price=0.001, tick=2)
        daemon.step(update)
        # Assert: nothing settled, the real game goes on
        assert daemon.core.account == account
        assert daemon.core.view.game_id == game
        assert daemon.snapshot()["feed"]["rejected_by_reason"][
            "implausible:rug_other_game"] == 1
