"""Feed health: stale/fresh transitions of the pure state and the watchdog shell."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rugsd.daemon.feed.health import FeedHealth, HealthWatchdog, StaleReason, stats_dict


def test_health_starts_stale_and_turns_fresh_on_first_update() -> None:
    health = FeedHealth(stale_after_ms=2000)
    assert health.stale and health.reason is StaleReason.STARTING
    health.on_connect()

    change = health.on_game_update(ts_ms=1_700_000_000_000, now_mono_ms=10)

    assert change is not None and change.stale is False
    assert not health.stale and health.updates == 1


def test_health_goes_stale_only_after_the_window_of_silence() -> None:
    health = FeedHealth(stale_after_ms=2000)
    health.on_connect()
    health.on_game_update(ts_ms=1, now_mono_ms=1000)

    assert health.check(now_mono_ms=3000) is None  # exactly the window: still fresh
    change = health.check(now_mono_ms=3001)

    assert change is not None and change.stale and change.reason is StaleReason.NO_UPDATES
    assert health.check(now_mono_ms=9000) is None  # no repeated transition


def test_health_disconnect_is_stale_at_once_and_reconnects_are_counted() -> None:
    health = FeedHealth(stale_after_ms=2000)
    health.on_connect()
    health.on_game_update(ts_ms=1, now_mono_ms=0)

    change = health.on_disconnect()
    health.on_connect()
    snap = health.snapshot(now_mono_ms=500)

    assert change is not None and change.reason is StaleReason.DISCONNECTED
    assert snap.stale and snap.connected
    assert snap.connects == 2 and snap.reconnects == 1 and snap.disconnects == 1
    assert snap.age_ms == 500


def test_stats_dict_accepts_dataclass_mapping_and_objects() -> None:
    @dataclass
    class Stats:
        parsed: int = 3

    class Obj:
        def __init__(self) -> None:
            self.rejected = 2
            self._private = 1

    assert stats_dict(Stats()) == {"parsed": 3}
    assert stats_dict({"a": 1}) == {"a": 1}
    assert stats_dict(Obj()) == {"rejected": 2}
    assert stats_dict(None) == {}


async def test_watchdog_reports_stale_then_fresh_and_survives_a_failing_callback() -> None:
    now = [0]
    health = FeedHealth(stale_after_ms=100)
    seen: list[bool] = []

    def on_change(change, snap) -> None:
        seen.append(change.stale)
        raise RuntimeError("consumer bug")

    dog = HealthWatchdog(health, on_change, clock=lambda: now[0], interval_s=0.001)
    health.on_connect()
    dog.report(health.on_game_update(ts_ms=1, now_mono_ms=0))
    now[0] = 500
    stop = asyncio.Event()
    task = asyncio.create_task(dog.run(stop))
    await asyncio.wait_for(_until(lambda: len(seen) >= 2), 5)
    stop.set()
    await asyncio.wait_for(task, 5)

    assert seen == [False, True]
    assert dog.callback_errors == 2


async def _until(cond) -> None:
    while not cond():
        await asyncio.sleep(0.001)


def test_stats_dict_calls_a_stats_method() -> None:
    class Parser:
        def stats(self) -> dict:
            return {"total": 4}

    assert stats_dict(Parser().stats) == {"total": 4}


def test_an_update_dispatched_after_the_disconnect_does_not_look_fresh() -> None:
    health = FeedHealth(stale_after_ms=2000)
    health.on_connect()
    health.on_game_update(ts_ms=1, now_mono_ms=0)
    health.on_disconnect()

    change = health.on_game_update(ts_ms=2, now_mono_ms=10)

    assert change is None and health.stale and health.updates == 2
