"""Training data: complete games from the daemon's Parquet dataset, recordings and the
fast simulator, split by game and time (never by row).

Sources, all turned into ``rugsd.training.episodes.GameSpec``:

- the daemon's dataset ``DATA_DIR/dataset/ticks/*.parquet``, exported from the journal
  first (``rugsd.daemon.journal.export``: ticks are journaled, Parquet is derived), read
  with DuckDB: a game is kept when it has every active tick ``0..R-1`` and a ``rugged``
  row at ``R`` (duplicates across runs collapse by game id); an unreadable file is
  skipped with a warning;
- recordings (ours or the real ones) through ``rugsd.daemon.feed.replay.ReplaySource`` and the
  daemon's own ``GameStateMachine``: a game is kept when the machine saw it start at
  tick 0, saw its rug and had no carried (unknown) tick — incomplete games are counted;
- simulated games from ``rugsd.daemon.game.fast.generate_batch`` (volume), rug prices from
  the simulator's ``rug_price`` rule.

Splits: real games are ordered by start time and the newest fraction is held out;
simulated training and held-out games come from different seeds. So no held-out game
(nor any tick of one) is ever seen in training.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import structlog

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game.engine import rug_price
from rugsd.daemon.game.fast import generate_batch
from rugsd.training.episodes import HISTORY_SIZE, GameSpec, next_start_ms

log = structlog.get_logger(__name__)

SIM_EPOCH_MS = 1_700_000_000_000  # simulated games get plausible, ordered timestamps


@dataclass(slots=True)
class LoadStats:
    """What each source gave and what was dropped (and why)."""

    dataset_games: int = 0
    dataset_incomplete: int = 0
    dataset_unreadable_files: int = 0
    recording_games: int = 0
    recording_incomplete: int = 0
    recording_files: int = 0
    recording_malformed_lines: int = 0
    duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        """Plain dict for manifests and reports."""
        return {k: getattr(self, k) for k in self.__slots__}


def games_from_dataset(data_dir: str | Path, stats: LoadStats | None = None) -> list[GameSpec]:
    """Complete games from ``DATA_DIR/dataset/ticks/*.parquet`` (empty when absent)."""
    stats = stats if stats is not None else LoadStats()
    folder = Path(data_dir) / "dataset" / "ticks"
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return []
    from rugsd.daemon.journal.readers import query_files

    rows, used, warnings = query_files(
        """
        SELECT game_id, tick, price, phase, ts_ms FROM (
          SELECT *, row_number() OVER (PARTITION BY game_id, tick ORDER BY ts_ms) AS rn
          FROM read_parquet(?)
        ) WHERE rn = 1 ORDER BY game_id, tick
        """,
        files,
        fetch=lambda cur: cur.fetchnumpy(),
    )
    for warning in warnings:
        log.warning("dataset file skipped", detail=warning)
    stats.dataset_unreadable_files += len(warnings)
    out: list[GameSpec] = []
    if not used or len(rows["game_id"]) == 0:
        return out
    gids = rows["game_id"]
    ticks = np.asarray(rows["tick"], dtype=np.int64)
    prices = np.asarray(rows["price"], dtype=np.float64)
    phases = rows["phase"]
    ts = np.asarray(rows["ts_ms"], dtype=np.int64)
    bounds = np.flatnonzero(gids[1:] != gids[:-1]) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(gids)], strict=True):
        t = ticks[lo:hi]
        ph = phases[lo:hi]
        rugged = np.flatnonzero(ph == "rugged")
        if len(rugged) != 1 or rugged[0] != hi - lo - 1:
            stats.dataset_incomplete += 1
            continue
        r = int(t[-1])
        if r < 1 or not np.array_equal(t[:-1], np.arange(r)):
            stats.dataset_incomplete += 1
            continue
        out.append(GameSpec(str(gids[lo]), prices[lo:hi - 1].copy(), float(prices[hi - 1]),
                            int(ts[lo]), "dataset"))
        stats.dataset_games += 1
    return out


def refresh_dataset(data_dir: str | Path) -> None:
    """Export the journal's latest ticks to the Parquet dataset (nothing without a
    journal; a failure is logged and training reads what is already exported)."""
    from rugsd.daemon.journal.errors import JournalError
    from rugsd.daemon.journal.export import export_data_dir

    if not (Path(data_dir) / "journal.sqlite").is_file():
        return
    try:
        summary = export_data_dir(Path(data_dir))
    except (JournalError, OSError) as err:
        log.warning("dataset not refreshed from the journal", error=str(err))
        return
    log.info("dataset refreshed from the journal", **summary.rows_written)


def games_from_recordings(
    paths: Iterable[str | Path], stats: LoadStats | None = None
) -> list[GameSpec]:
    """Complete games from recording files/folders (missing paths are skipped).

    The paths are read in order through ONE state machine, exactly as ``rugsd replay``
    feeds its core, so each game keeps its recorded events and the finished games the
    replay knew when it began (``GameSpec.events`` / ``.recent``): training on a
    recorded game sees the vectors the daemon computes on it.
    """
    from rugsd.daemon.feed.replay import ReplayError, ReplaySource
    from rugsd.daemon.state.machine import GameStateMachine
    from rugsd.daemon.state.transitions import GameFinished

    stats = stats if stats is not None else LoadStats()
    out: list[GameSpec] = []
    machine = GameStateMachine()
    group: list[GameUpdate] = []
    gid: str | None = None
    recent: tuple = ()
    done: dict | None = None  # the finished game of the current group, until it ends

    def close() -> None:
        if done is not None:
            out.append(GameSpec(**done, events=tuple(group)))
            stats.recording_games += 1

    for path in paths:
        try:
            source = ReplaySource(path)
        except ReplayError as err:
            log.info("no recordings", path=str(path), reason=str(err))
            continue
        for event in source.iter_events():
            if not isinstance(event, GameUpdate):
                continue
            first = event.game_id != gid
            if first:
                close()
                gid, group, done = event.game_id, [], None
            group.append(event)
            transitions = machine.apply(event)
            if first:
                recent = machine.view.recent[-HISTORY_SIZE:]
            for tr in transitions:
                if not isinstance(tr, GameFinished) or tr.summary.game_id != gid:
                    if isinstance(tr, GameFinished):  # a previous game, finished late
                        stats.recording_incomplete += 1
                    continue
                started = machine.view.started_ts_ms
                full = tr.prices
                if not (tr.complete and tr.rug_seen and started is not None and len(full) > 1):
                    stats.recording_incomplete += 1
                    continue
                done = {"game_id": gid, "prices": np.asarray(full[:-1], dtype=np.float64),
                        "rug_price": float(full[-1]), "start_ms": int(started),
                        "source": "recording", "recent": recent}
        stats.recording_files += source.stats.files
        stats.recording_malformed_lines += source.stats.malformed
    close()
    return out


def simulated_games(n: int, seed: int, prefix: str = "sim") -> list[GameSpec]:
    """``n`` simulated v3 games (fast generator), ids ``<prefix>-<seed>-<i>``."""
    rng = np.random.default_rng(seed)
    out: list[GameSpec] = []
    start = SIM_EPOCH_MS + seed * 10_000_000_000
    left, i = n, 0
    while left > 0:
        batch = generate_batch(min(left, 2048), rng)
        us = rng.random(batch.n_games)
        for j in range(batch.n_games):
            prices = batch.game(j).copy()
            spec = GameSpec(f"{prefix}-{seed}-{i}", prices, rug_price(float(prices[-1]), us[j]),
                            start, "sim")
            out.append(spec)
            start = next_start_ms(spec)
            i += 1
        left -= batch.n_games
    return out


def dedupe(games: Sequence[GameSpec], stats: LoadStats | None = None) -> list[GameSpec]:
    """Drop repeated game ids (first kept), then order by start time."""
    seen: set[str] = set()
    out = []
    for g in games:
        if g.game_id in seen:
            if stats is not None:
                stats.duplicates += 1
            continue
        seen.add(g.game_id)
        out.append(g)
    out.sort(key=lambda g: (g.start_ms, g.game_id))
    return out


def split_by_time(
    games: Sequence[GameSpec], heldout_frac: float
) -> tuple[list[GameSpec], list[GameSpec]]:
    """(train, held-out): the newest ``heldout_frac`` of the games (by start) held out."""
    ordered = sorted(games, key=lambda g: (g.start_ms, g.game_id))
    n_held = round(len(ordered) * heldout_frac)
    if len(ordered) >= 2:
        n_held = min(max(n_held, 1), len(ordered) - 1)
    cut = len(ordered) - n_held
    return ordered[:cut], ordered[cut:]


@dataclass(slots=True)
class Dataset:
    """Training, validation and held-out games plus where they came from.

    Real games are split by time (oldest → train, then validation, newest → held-out);
    simulated games are added to each by the pipeline from different seeds.
    """

    train: list[GameSpec]
    validation: list[GameSpec]
    heldout: list[GameSpec]
    stats: LoadStats = field(default_factory=LoadStats)
    new_real_games: int = 0

    def data_range(self) -> dict:
        """Summary for the manifest: counts by source, time range of the real games."""
        def describe(games: Sequence[GameSpec]) -> dict:
            by: dict[str, int] = {}
            for g in games:
                by[g.source] = by.get(g.source, 0) + 1
            real = [g.start_ms for g in games if g.real]
            return {
                "games": len(games),
                "ticks": int(sum(g.rug_tick for g in games)),
                "by_source": by,
                "real_first_ts_ms": min(real) if real else None,
                "real_last_ts_ms": max(real) if real else None,
            }

        return {
            "train": describe(self.train),
            "validation": describe(self.validation),
            "heldout": describe(self.heldout),
            "load": self.stats.as_dict(),
            "new_real_games_since_last_run": self.new_real_games,
        }

    def real(self, games: Sequence[GameSpec]) -> list[GameSpec]:
        """The real games of ``games`` (recordings, the daemon's dataset)."""
        return [g for g in games if g.real]

    def last_real_ts_ms(self) -> int | None:
        """Start time of the newest real game (the next run's "new data" cut-off)."""
        real = [g.start_ms for g in (*self.train, *self.validation, *self.heldout) if g.real]
        return max(real) if real else None


def split_three(games: Sequence[GameSpec], valid_frac: float, heldout_frac: float
                ) -> tuple[list[GameSpec], list[GameSpec], list[GameSpec]]:
    """(train, validation, held-out) by start time: the newest ``heldout_frac`` held out,
    the ``valid_frac`` before them for validation (at least one each when ≥ 3 games)."""
    rest, held = split_by_time(games, heldout_frac) if games else ([], [])
    if len(rest) < 2:
        return rest, [], held
    share = valid_frac / max(1e-9, 1.0 - heldout_frac)
    train, valid = split_by_time(rest, share)
    return train, valid, held


def real_games(data_dir: str | Path | None, recordings: Sequence[str | Path],
               stats: LoadStats) -> list[GameSpec]:
    """Every complete real game: the data dir's dataset and recordings, ``recordings``."""
    real: list[GameSpec] = []
    if data_dir is not None:
        refresh_dataset(data_dir)
        real += games_from_dataset(data_dir, stats)
        rec = Path(data_dir) / "recordings"
        if rec.is_dir():
            real += games_from_recordings([rec], stats)
    real += games_from_recordings(recordings, stats)
    return dedupe(real, stats)


def build_dataset(
    *,
    data_dir: str | Path | None,
    recordings: Sequence[str | Path] = (),
    sim_train: int = 2000,
    sim_valid: int = 200,
    sim_heldout: int = 500,
    valid_frac: float = 0.15,
    heldout_frac: float = 0.25,
    seed: int = 0,
    sim_seed: int | None = None,
    since_ts_ms: int | None = None,
    real: Sequence[GameSpec] | None = None,
) -> Dataset:
    """Load every source, dedupe, split real games by time, add simulated games.

    Simulated training games come from ``seed``, the validation and held-out ones from
    ``sim_seed`` (``rugsd retrain`` draws a new one every run); ``real`` are the real
    games when already loaded (``real_games``)."""
    stats = LoadStats()
    real = list(real) if real is not None else real_games(data_dir, recordings, stats)
    train, valid, held = split_three(real, valid_frac, heldout_frac)
    eval_seed = (2 * seed + 1001) if sim_seed is None else sim_seed
    train += simulated_games(sim_train, seed=2 * seed + 1000, prefix="sim-train")
    valid += simulated_games(sim_valid, seed=eval_seed + 1, prefix="sim-valid")
    held += simulated_games(sim_heldout, seed=eval_seed, prefix="sim-heldout")
    new = sum(1 for g in real if since_ts_ms is None or g.start_ms > since_ts_ms)
    ds = Dataset(train, valid, held, stats, new)
    log.info("dataset", **{k: v for k, v in ds.data_range().items() if k != "load"})
    return ds
