"""Recording the simulator's feed: one file per game, replay gives back what was received."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from feed_helpers import until

from rugsd.daemon import cli_record
from rugsd.daemon.config import FeedConfig, SimConfig
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.feed.client import FeedClient
from rugsd.daemon.feed.recorder import Recorder
from rugsd.daemon.feed.replay import ReplaySource
from rugsd.daemon.sim.server import SimServer

HOST = "127.0.0.1"
# the record command alone, without the lead's full CLI (other areas may be mid-edit)
_CLI = (
    "import sys, argparse; from daemon import cli_record;"
    "p = argparse.ArgumentParser(); cli_record.add_parser(p.add_subparsers());"
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)


async def test_recorded_games_replay_to_the_same_event_sequence(tmp_path) -> None:
    sim = SimServer(SimConfig(), seed=5, speed=40.0)
    await sim.start(HOST, 0)
    received: list = []
    recorder = Recorder(tmp_path)
    client = FeedClient(FeedConfig(url=sim.url), on_event=received.append)
    client.add_raw_listener(recorder.on_raw)
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    try:
        await until(lambda: len({e.game_id for e in received if isinstance(e, GameUpdate)}) >= 3,
                     40, "three games")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        recorder.close()
        await sim.stop()

    games = {e.game_id for e in received if isinstance(e, GameUpdate)}
    assert {p.stem for p in tmp_path.glob("*.jsonl")} == games
    replay = ReplaySource(tmp_path)
    replayed = list(replay.iter_events())
    assert replayed == received
    assert replay.stats.malformed == 0
    assert replay.stats.lines == recorder.stats.lines == client.counters.events


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rugsd")
    cli_record.add_parser(parser.add_subparsers())
    return parser


async def test_record_command_stops_cleanly_on_sigint(tmp_path, repo_root) -> None:
    sim = SimServer(SimConfig(), seed=6, speed=40.0)
    await sim.start(HOST, 0)
    out = tmp_path / "rec"
    env = {**os.environ, "RUGSD_LOGGING__LEVEL": "warning"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CLI, "record", "--url", sim.url, "--out", str(out),
        "--duration", "60", cwd=repo_root, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await until(lambda: len(list(out.glob("*.jsonl"))) >= 2, 40, "two game files")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await sim.stop()

    assert proc.returncode == 0, stderr.decode()[-2000:]
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert summary["lines"] > 0 and summary["errors"] == 0
    stats = ReplaySource(out)
    assert sum(1 for _ in stats.iter_events()) > 0 and stats.stats.malformed == 0


async def test_kill_9_loses_at_most_the_line_being_written(tmp_path, repo_root) -> None:
    sim = SimServer(SimConfig(), seed=8, speed=40.0)
    await sim.start(HOST, 0)
    out = tmp_path / "rec"
    env = {**os.environ, "RUGSD_LOGGING__LEVEL": "warning"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CLI, "record", "--url", sim.url, "--out", str(out),
        cwd=repo_root, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await until(lambda: len(list(out.glob("*.jsonl"))) >= 2, 40, "two game files")
        proc.kill()
        await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await sim.stop()

    source = ReplaySource(out)
    events = sum(1 for _ in source.iter_events())
    assert events > 0 and source.stats.malformed <= 1


async def test_record_command_duration_bounds_the_run(tmp_path) -> None:
    sim = SimServer(SimConfig(), seed=7, speed=40.0)
    await sim.start(HOST, 0)
    try:
        from rugsd.daemon.feed.recorder import record

        stats = await asyncio.wait_for(
            record(tmp_path, FeedConfig(url=sim.url), duration_s=1.5), 15)
    finally:
        await sim.stop()

    assert stats.lines > 0 and stats.files >= 1


def test_to_parquet_command_converts_a_folder(real_data_dir, tmp_path, capsys) -> None:
    src = real_data_dir / "recordings" / "game_20251029_183909.jsonl"
    args = _parser().parse_args(["record", "--to-parquet", str(src), "--out", str(tmp_path)])

    code = args.func(args)

    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and summary["tick_rows"] == summary["replay"]["events"] > 0
    assert summary["event_rows"] == 0 and summary["replay"]["malformed"] == 0
    assert (tmp_path / "ticks.parquet").is_file()


def test_to_parquet_command_reports_a_missing_source(tmp_path, capsys) -> None:
    args = _parser().parse_args(["record", "--to-parquet", str(tmp_path / "nope"),
                                 "--out", str(tmp_path / "o")])

    assert args.func(args) == 2
    assert "does not exist" in capsys.readouterr().err
