"""Recordings → Parquet → DuckDB: the tables hold exactly what the replay yields."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import duckdb

from rugsd.daemon.events import GameUpdate, TradeEvent
from rugsd.daemon.feed.parquet import convert
from rugsd.daemon.feed.replay import ReplaySource


def _our_format_from_raw_samples(real_data_dir, dst) -> None:
    """Rewrite websocket_raw_samples.jsonl in our recorder's line format."""
    from rugsd.daemon.feed.lines import iso_to_ms

    lines = []
    for raw in (real_data_dir / "websocket_raw_samples.jsonl").read_text().splitlines():
        obj = json.loads(raw)
        data = obj["data"]
        args = data if isinstance(data, list) else [data]
        lines.append(json.dumps({"recv_ts_ms": iso_to_ms(obj["timestamp"]),
                                 "event": obj["event_type"], "args": args}))
    dst.write_text("\n".join(lines) + "\n")


def test_parquet_tick_counts_match_the_replay_per_game(real_data_dir, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for path in sorted((real_data_dir / "recordings").glob("*.jsonl"))[:25]:
        shutil.copy(path, src / path.name)
    expected = Counter(ev.game_id for ev in ReplaySource(src).iter_events()
                       if isinstance(ev, GameUpdate))

    result = convert(src, tmp_path / "pq")
    rows = duckdb.sql(
        f"select game_id, count(*) from read_parquet('{result.ticks_path}') group by 1"
    ).fetchall()

    assert dict(rows) == dict(expected)
    assert result.ticks == sum(expected.values()) > 0
    files = duckdb.sql(
        f"select count(distinct source_file) from read_parquet('{result.ticks_path}')"
    ).fetchall()[0]
    assert files == (25,)


def test_parquet_phases_and_ticks_are_queryable(real_data_dir, tmp_path) -> None:
    src = real_data_dir / "recordings" / "game_20251029_183909.jsonl"

    result = convert(src, tmp_path / "pq")
    phases = dict(duckdb.sql(
        f"select phase, count(*) from read_parquet('{result.ticks_path}') group by 1"
    ).fetchall())
    max_tick = duckdb.sql(
        f"select max(tick) from read_parquet('{result.ticks_path}') where phase = 'active'"
    ).fetchall()[0][0]

    assert phases.get("active", 0) > 0 and phases.get("rugged", 0) > 0
    assert max_tick is not None and max_tick > 0


def test_parquet_events_table_holds_the_trades_of_our_recordings(real_data_dir, tmp_path) -> None:
    src = tmp_path / "ours"
    src.mkdir()
    _our_format_from_raw_samples(real_data_dir, src / "samples.jsonl")
    trades = [ev for ev in ReplaySource(src).iter_events() if isinstance(ev, TradeEvent)]

    result = convert(src, tmp_path / "pq")
    rows = duckdb.sql(
        f"select trade_id, type, price from read_parquet('{result.events_path}') "
        "where kind = 'trade' order by ts_ms, trade_id"
    ).fetchall()

    assert len(trades) > 0
    assert sorted(r[0] for r in rows) == sorted(t.trade_id for t in trades)
    assert result.events == len(rows)
