"""The training dataset's Parquet schemas (ticks, decisions, games), row -> Arrow
conversion, atomic file writes, and ``DatasetWriter``.

The daemon's dataset under ``DATA_DIR/dataset/{ticks,decisions,games}/`` is exported
from the journal into one file per UTC day (``rugsd.daemon.journal.export``). Data dirs
from before that also hold ``part-<first_ts_ms:013d>-<run_id>.parquet`` files written
by ``DatasetWriter`` during the run; readers glob ``*.parquet`` and get both.

``DatasetWriter`` writes records straight to Parquet (buffered per game, a file set every
``games_per_file`` games): for tools and tests that build a dataset without a journal.
Files are written atomically: a hidden temp file in the same directory, fsynced, then
renamed, so ``read_parquet('dataset/ticks/*.parquet')`` never sees half a file.

Training reads them with DuckDB, e.g.
``SELECT * FROM read_parquet('dataset/ticks/*.parquet')``.
"""

from __future__ import annotations

import os
import re
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import structlog

from rugsd.daemon.journal.records import DecisionRecord, GameRecord, TickRecord, features_bytes

log = structlog.get_logger(__name__)

DATASET_DIR = "dataset"

TICKS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("ts_ms", pa.int64()),
        ("game_id", pa.string()),
        ("tick", pa.int32()),
        ("price", pa.float64()),
        ("phase", pa.string()),
    ]
)

DECISIONS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("seq", pa.int64()),
        ("ts_ms", pa.int64()),
        ("game_id", pa.string()),
        ("tick", pa.int32()),
        ("phase", pa.string()),
        ("price", pa.float64()),
        ("features_hash", pa.string()),
        ("features", pa.list_(pa.float32())),
        ("action_probs", pa.list_(pa.float64())),
        ("p_rug", pa.float64()),
        ("intent_action", pa.string()),
        ("intent_amount", pa.int64()),
        ("intent_percentage", pa.int32()),
        ("verdict", pa.string()),
        ("reason", pa.string()),
        ("order_id", pa.string()),
        ("trading_state", pa.string()),
    ]
)

GAMES_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("game_id", pa.string()),
        ("rug_tick", pa.int32()),
        ("peak", pa.float64()),
        ("server_seed", pa.string()),
        ("ended_ts_ms", pa.int64()),
    ]
)

_FEATURES_COL = 8
_PROBS_COL = 9
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=-]")


def _float_lists(values: list[Any], dtype: type, arrow_type: pa.DataType) -> pa.Array:
    """A list<float> array from per-row little-endian bytes of ``dtype`` (float32
    features, float64 probabilities: as the journal stores them) or float tuples
    (None = null).

    Built from one flat buffer (no per-row numpy calls): a file has thousands of rows.
    """
    present = [v for v in values if v is not None]
    if present and isinstance(present[0], bytes):
        width = np.dtype(dtype).itemsize
        flat = np.frombuffer(b"".join(present), dtype=np.dtype(dtype).newbyteorder("<"))
        flat = flat.astype(dtype, copy=False)
        lengths = [0 if v is None else len(v) // width for v in values]
    else:
        flat = np.fromiter(chain.from_iterable(present), dtype=dtype)
        lengths = [0 if v is None else len(v) for v in values]
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    mask = pa.array([v is None for v in values], type=pa.bool_())
    return pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(flat, type=arrow_type.value_type), mask=mask
    )


def arrow_table(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in ``schema`` order) as an Arrow table of exactly ``schema``."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    arrays = []
    for i, field in enumerate(schema):
        col = list(columns[i])
        if pa.types.is_list(field.type):
            dtype = np.float32 if field.type.value_type == pa.float32() else np.float64
            arrays.append(_float_lists(col, dtype, field.type))
        else:
            arrays.append(pa.array(col, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` via a hidden temp file + fsync + rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh, compression="zstd")
        publish(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def publish(tmp: Path, path: Path) -> None:
    """fsync ``tmp``, rename it to ``path`` and fsync the directory (the rename too)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class _GameRows:
    """The buffered rows of one game."""

    __slots__ = ("decisions", "ended", "game", "ticks")

    def __init__(self) -> None:
        self.ticks: list[tuple[Any, ...]] = []
        self.decisions: list[tuple[Any, ...]] = []
        self.game: tuple[Any, ...] | None = None
        self.ended = False


class DatasetWriter:
    """Buffers ``TickRecord`` / ``DecisionRecord`` / ``GameRecord`` rows per game and
    writes Parquet files every ``games_per_file`` games (``close()`` writes the rest).

    ``keep_features=False`` drops the feature vectors from the decision rows.
    """

    def __init__(
        self, dataset_dir: str | Path, games_per_file: int = 50, *, keep_features: bool = True
    ) -> None:
        self.dataset_dir = Path(dataset_dir)
        self.games_per_file = max(1, games_per_file)
        self.keep_features = keep_features
        # keyed by (run_id, game_id); insertion order = order games were seen
        self._buf: dict[tuple[str, str], _GameRows] = {}
        self.files_written: list[Path] = []
        self.counters = {"ticks": 0, "decisions": 0, "games": 0, "bad_records": 0, "errors": 0}
        for sub in ("ticks", "decisions", "games"):
            (self.dataset_dir / sub).mkdir(parents=True, exist_ok=True)

    def _game(self, run_id: str, game_id: str) -> _GameRows:
        key = (run_id, game_id)
        rows = self._buf.get(key)
        if rows is None:
            rows = self._buf[key] = _GameRows()
        return rows

    def write(self, record: TickRecord | DecisionRecord | GameRecord) -> None:
        """Buffer one record; may write a file set when enough games are complete."""
        kind = type(record)
        if kind is TickRecord:
            r = record
            self._game(r.run_id, r.game_id).ticks.append(
                (r.run_id, r.ts_ms, r.game_id, r.tick, r.price, str(r.phase))
            )
            self.counters["ticks"] += 1
        elif kind is DecisionRecord:
            r = record
            feats = None
            if self.keep_features and r.features is not None:
                feats = features_bytes(r.features)
            p_rug = None if r.p_rug is None else float(r.p_rug)  # numpy scalars welcome
            self._game(r.run_id, r.game_id).decisions.append(
                (r.run_id, r.seq, r.ts_ms, r.game_id, r.tick, str(r.phase), float(r.price),
                 r.features_hash, feats, r.action_probs, p_rug, str(r.intent_action),
                 r.intent_amount, r.intent_percentage, str(r.verdict), str(r.reason),
                 r.order_id, str(r.trading_state))
            )  # fmt: skip
            self.counters["decisions"] += 1
        elif kind is GameRecord:
            r = record
            rows = self._game(r.run_id, r.game_id)
            rows.game = (r.run_id, r.game_id, r.rug_tick, r.peak, r.server_seed, r.ended_ts_ms)
            rows.ended = True
            self.counters["games"] += 1
        else:
            self.counters["bad_records"] += 1
            log.warning("dataset_bad_record", type=kind.__name__)
            return
        self._maybe_roll(kind is GameRecord)

    def _maybe_roll(self, game_ended: bool) -> None:
        n = self.games_per_file
        if game_ended:
            ended = [g for g, rows in self._buf.items() if rows.ended]
            if len(ended) >= n:
                self._write_games(ended)
        elif len(self._buf) > n:
            # games that never ended (no GameRecord): roll all but the newest one
            self._write_games(list(self._buf)[:-1])

    def flush(self) -> None:
        """Write every buffered game now (also the unfinished ones)."""
        if self._buf:
            self._write_games(list(self._buf))

    def close(self) -> None:
        """Write the remainder."""
        self.flush()

    def _write_games(self, keys: list[tuple[str, str]]) -> None:
        groups = [self._buf.pop(k) for k in keys]
        ticks = [row for g in groups for row in g.ticks]
        decisions = [row for g in groups for row in g.decisions]
        games = [g.game for g in groups if g.game is not None]
        for sub, rows, schema, ts_col in (
            ("ticks", ticks, TICKS_SCHEMA, 1),
            ("decisions", decisions, DECISIONS_SCHEMA, 2),
            ("games", games, GAMES_SCHEMA, 5),
        ):
            if not rows:
                continue
            try:
                path = self._file_name(sub, min(r[ts_col] for r in rows), rows[0][0])
                write_atomic(arrow_table(rows, schema), path)
                self.files_written.append(path)
            except (OSError, pa.ArrowException, ValueError, TypeError) as err:
                # training data, not safety-critical: count, log and drop the rows
                self.counters["errors"] += 1
                log.error("dataset_write_failed", kind=sub, rows=len(rows), error=str(err))

    def _file_name(self, sub: str, first_ts: int, run_id: str) -> Path:
        base = f"part-{first_ts:013d}-{_UNSAFE.sub('_', run_id)}"
        path = self.dataset_dir / sub / f"{base}.parquet"
        n = 1
        while path.exists():  # same first ts twice (replayed timestamps): keep both
            path = self.dataset_dir / sub / f"{base}-{n}.parquet"
            n += 1
        return path
