"""Recordings → Parquet: a ticks table and an events table, for DuckDB and training.

``convert(src, dst)`` replays ``src`` (a file or folder, any supported format) and writes

- ``dst/ticks.parquet`` — one row per game update: ``game_id, tick, price, phase,
  active, rugged, cooldown_ms, ts_ms, source_file`` (cooldown/presale updates included;
  ``phase`` is the state machine's ``classify`` of the update);
- ``dst/events.parquet`` — one row per trade or sidebet: ``kind`` (trade|sidebet),
  ``game_id, ts_ms, tick, player_id, username, type, price, qty, amount, x_payout,
  start_tick, end_tick, trade_id, source_file``.

``source_file`` is relative to ``src`` (portable). Rows are written in row groups of
``batch_rows`` so memory stays flat on large folders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rugsd.daemon.events import GameUpdate, Phase, SidebetEvent, TradeEvent
from rugsd.daemon.feed.replay import ReplaySource, ReplayStats
from rugsd.daemon.state.machine import classify

TICKS_SCHEMA = pa.schema(
    [
        ("game_id", pa.string()),
        ("tick", pa.int32()),
        ("price", pa.float64()),
        ("phase", pa.string()),
        ("active", pa.bool_()),
        ("rugged", pa.bool_()),
        ("cooldown_ms", pa.int32()),
        ("ts_ms", pa.int64()),
        ("source_file", pa.string()),
    ]
)

EVENTS_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("game_id", pa.string()),
        ("ts_ms", pa.int64()),
        ("tick", pa.int32()),
        ("player_id", pa.string()),
        ("username", pa.string()),
        ("type", pa.string()),
        ("price", pa.float64()),
        ("qty", pa.float64()),
        ("amount", pa.float64()),
        ("x_payout", pa.float64()),
        ("start_tick", pa.int32()),
        ("end_tick", pa.int32()),
        ("trade_id", pa.string()),
        ("source_file", pa.string()),
    ]
)


def phase_of(update: GameUpdate) -> Phase:
    """The phase an update describes: the state machine's own rule (one definition)."""
    return classify(update)


@dataclass(slots=True)
class ConvertStats:
    """Rows written and the replay counts behind them."""

    ticks: int
    events: int
    replay: ReplayStats
    ticks_path: Path
    events_path: Path


class _Table:
    """Column buffers flushed to a ParquetWriter in row groups."""

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int) -> None:
        self.schema = schema
        self.cols: dict[str, list[Any]] = {name: [] for name in schema.names}
        self.batch_rows = batch_rows
        self.rows = 0
        self._pending = 0
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")

    def append(self, row: tuple[Any, ...]) -> None:
        for col, value in zip(self.cols.values(), row, strict=True):
            col.append(value)
        self._pending += 1
        if self._pending >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        table = pa.table(self.cols, schema=self.schema)
        self.writer.write_table(table)
        self.rows += self._pending
        self._pending = 0
        for col in self.cols.values():
            col.clear()

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _int32(value: Any) -> int | None:
    # ticks beyond int32 only come from corrupt data: store null rather than fail
    if value is None or not -(2**31) <= value < 2**31:
        return None
    return int(value)


def convert(
    src: str | Path, dst: str | Path, batch_rows: int = 100_000, source: ReplaySource | None = None,
    on_file: Callable[[int, int], None] | None = None,
) -> ConvertStats:
    """Convert recordings under ``src`` to ``dst/ticks.parquet`` and ``dst/events.parquet``
    (``on_file(files started, files)``: a progress bar)."""
    src_path = Path(src)
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    replay = source or ReplaySource(src_path)
    base = src_path if src_path.is_dir() else src_path.parent
    ticks = _Table(out / "ticks.parquet", TICKS_SCHEMA, batch_rows)
    events = _Table(out / "events.parquet", EVENTS_SCHEMA, batch_rows)
    rel: dict[str, str] = {}
    try:
        for path, ev in replay.iter_with_source():
            name = rel.get(path)
            if name is None:
                name = rel[path] = _relative(path, base)
                if on_file is not None:
                    on_file(len(rel), len(replay.files))
            if type(ev) is GameUpdate:
                ticks.append((ev.game_id, _int32(ev.tick), ev.price, phase_of(ev).value,
                              ev.active, ev.rugged, _int32(ev.cooldown_ms), ev.ts_ms, name))
            elif type(ev) is TradeEvent:
                events.append(("trade", ev.game_id, ev.ts_ms, _int32(ev.tick), ev.player_id,
                               ev.username, ev.type, ev.price, ev.qty, ev.amount, None, None,
                               None, ev.trade_id, name))
            elif type(ev) is SidebetEvent:
                events.append(("sidebet", ev.game_id, ev.ts_ms, _int32(ev.tick), ev.player_id,
                               ev.username, ev.type, ev.price, None, ev.bet_amount, ev.x_payout,
                               _int32(ev.start_tick), _int32(ev.end_tick), None, name))
    finally:
        ticks.close()
        events.close()
    return ConvertStats(ticks.rows, events.rows, replay.stats, out / "ticks.parquet",
                        out / "events.parquet")


def _relative(path: str, base: Path) -> str:
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return Path(path).name
