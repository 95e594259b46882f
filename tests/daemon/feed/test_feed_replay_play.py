"""ReplaySource.play: ordered delivery, async callbacks, real-time pacing, early stop."""

from __future__ import annotations

import asyncio
import json

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.feed.replay import ReplaySource


def _write_ours(path, n: int, step_ms: int, t0: int = 1_761_000_000_000) -> None:
    lines = []
    for i in range(n):
        payload = {"gameId": "20251029-b9466781d3e64c27", "active": False, "rugged": False,
                   "cooldownTimer": 15_000 - 100 * (i % 149 + 1), "allowPreRoundBuys": False}
        lines.append(json.dumps({"recv_ts_ms": t0 + i * step_ms, "event": "gameStateUpdate",
                                 "args": [{"__trace": True}, payload]}))
    path.write_text("\n".join(lines) + "\n")


async def test_play_delivers_every_event_in_order_to_an_async_callback(tmp_path) -> None:
    _write_ours(tmp_path / "a.jsonl", 2500, 100)
    got: list[int] = []

    async def callback(event) -> None:
        got.append(event.ts_ms)

    stats = await asyncio.wait_for(ReplaySource(tmp_path).play(callback), 30)

    assert stats.events == len(got) == 2500
    assert got == sorted(got)


async def test_realtime_play_follows_recorded_time_scaled_by_speed(tmp_path) -> None:
    _write_ours(tmp_path / "a.jsonl", 20, 100)  # 1.9 s of recorded time
    got: list[GameUpdate] = []

    stats = await asyncio.wait_for(
        ReplaySource(tmp_path).play(got.append, realtime=True, speed=20.0), 10)

    assert stats.events == len(got) == 20
    assert [e.cooldown_ms for e in got] == [15_000 - 100 * (i + 1) for i in range(20)]


async def test_realtime_play_stops_when_asked(tmp_path) -> None:
    _write_ours(tmp_path / "a.jsonl", 50, 1000)  # 49 s of recorded time at speed 1
    stop = asyncio.Event()
    got: list = []

    def callback(event) -> None:
        got.append(event)
        if len(got) == 3:
            stop.set()

    await asyncio.wait_for(
        ReplaySource(tmp_path).play(callback, realtime=True, speed=1.0, stop_event=stop), 10)

    assert len(got) == 3


def test_folder_files_replay_in_order_of_their_first_record_not_their_name(tmp_path) -> None:
    _write_ours(tmp_path / "zzz.jsonl", 2, 100, t0=1_000)
    _write_ours(tmp_path / "aaa.jsonl", 2, 100, t0=5_000)
    (tmp_path / "sub").mkdir()
    _write_ours(tmp_path / "sub" / "mmm.jsonl", 2, 100, t0=3_000)

    ts = [e.ts_ms for e in ReplaySource(tmp_path).iter_events()]

    assert ts == [1_000, 1_100, 3_000, 3_100, 5_000, 5_100]


def test_raw_samples_format_is_read_too(real_data_dir) -> None:
    source = ReplaySource(real_data_dir / "websocket_raw_samples.jsonl")

    events = list(source.iter_events())

    assert source.stats.lines == 200 and source.stats.malformed == 0
    assert sum(isinstance(e, GameUpdate) for e in events) == 176
