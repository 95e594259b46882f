"""Journal throughput and latency, storage per game and per day, compaction, reports over
30 days, and what ``kill -9`` loses.

Figures (medians of ``ROUNDS`` rounds where it applies; the temp dir is on the same
filesystem as the data dir would be):

- ``decisions_per_s``: DecisionRecords with a 32-float feature vector and 6 action
  probabilities through ``Journal.write`` (batched ``executemany``), flushed at the end.
- ``decisions_per_s_with_dataset``: the same plus one TickRecord per decision, both
  journaled in sqlite (the dataset is exported from the journal since schema v2; before,
  ticks went to a Parquet writer attached to the journal).
- ``order_intent_us_{p50,p99}_durable``: ``record_order_intent`` with
  ``synchronous=FULL`` (fsync per order); ``..._normal``: with ``durable=False``.
- ``fill_write_us_p50``: one FillRecord committed immediately (NORMAL).
- ``report_ms``: ``build_report`` over the benchmark journal.
- ``parquet_roll_ms_50_games``: ``DatasetWriter`` writing one 50-game file set (10 000
  ticks + 10 000 decisions, zstd, fsync + rename). The daemon no longer does this on its
  loop; ``export_ms_50_games`` is the same rows exported from the journal
  (``export_days``), which now runs off the hot path (``rugsd export``, compaction).
- ``parquet_files_per_run``: tick day files the export of that journal wrote.

Storage (``bench/_journal_storage.py`` says how they are made):

- ``games_per_day_real_time``; ``journal_bytes_per_game`` / ``..._per_day_real_time``
  (everything journaled: the growth without compaction);
  ``journal_kept_bytes_per_day_real_time`` (what compaction never prunes: the growth
  that remains); ``dataset_bytes_per_game`` / ``..._per_day_real_time`` (Parquet).
- ``journal_bytes_30_days_without_compaction_est`` (30 x the daily growth) against the
  measured ``journal_bytes_30_days_after_compaction`` of 30 synthesised days (retention
  7), ``dataset_bytes_30_days``, ``compact_rows_per_s``, the daemon-style bounded calls
  ``compact_call_ms_{p50,p99,max}`` (budget 40 ms) and ``compact_calls_per_day``.
- ``report_ms_30_days`` (all time), ``..._since_7d``, ``..._since_1d`` (``build_report``)
  and ``report_cli_s_30_days`` (the whole ``rugsd report --json`` process).
- ``quick_check_ms_steady_journal`` / ``full_check_ms_steady_journal``: the start-up check
  on that 30-day journal; ``reclaim_ms_steady_journal``.
- ``kill9_lost_rows_max`` / ``kill9_lost_ms_max``: a writer at real time (a tick and a
  decision every 250 ms, default batching) killed at random moments.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench import _journal_storage as storage
from rugsd.daemon.journal import (
    DatasetWriter,
    DecisionRecord,
    FillRecord,
    GameRecord,
    Journal,
    OrderRecord,
    TickRecord,
    features_hash,
)
from rugsd.daemon.journal.export import export_days
from rugsd.daemon.journal.records import features_bytes
from rugsd.daemon.journal.report import build_report

ROUNDS = 3
N_DECISIONS = 100_000
N_ORDERS = 300
TICKS_PER_GAME = 200
FEATURES = tuple(float(i) / 7 for i in range(32))
FEATURE_BYTES = features_bytes(FEATURES)
PROBS = (0.5, 0.1, 0.1, 0.1, 0.1, 0.1)


def _decision(run_id: str, i: int, h: str) -> DecisionRecord:
    return DecisionRecord(
        run_id, i, 1_700_000_000_000 + 250 * i, f"g{i // TICKS_PER_GAME}", i % TICKS_PER_GAME,
        "active", 1.0 + (i % 97) / 100, h, FEATURE_BYTES, PROBS, 0.2, "wait", 0, 0, "none", "",
        None, "active",
    )  # fmt: skip


def _decisions(run_id: str, n: int) -> list[DecisionRecord]:
    h = features_hash(FEATURE_BYTES)
    return [_decision(run_id, i, h) for i in range(n)]


def _write_decisions(root: Path, records: list[DecisionRecord], ticks: bool) -> float:
    root.mkdir(parents=True, exist_ok=True)
    journal = Journal(root / "journal.sqlite")
    ticks = [TickRecord(r.run_id, r.ts_ms, r.game_id, r.tick, r.price, r.phase) for r in records]
    t0 = time.perf_counter()
    for i, rec in enumerate(records):
        journal.write(rec)
        if ticks:
            journal.write(ticks[i])
            if rec.tick == TICKS_PER_GAME - 1:
                journal.write(
                    GameRecord(rec.run_id, rec.game_id, TICKS_PER_GAME, 2.0, None, rec.ts_ms)
                )
    journal.close()
    return len(records) / (time.perf_counter() - t0)


def _parquet_roll_ms(root: Path, records: list[DecisionRecord]) -> float:
    """Time of the one write() that rolls a 50-game file set (ticks + decisions + games)."""
    times = []
    for r in range(ROUNDS):
        writer = DatasetWriter(root / str(r), 50)
        for rec in records[: 50 * TICKS_PER_GAME]:
            writer.write(rec)
            writer.write(TickRecord(rec.run_id, rec.ts_ms, rec.game_id, rec.tick, rec.price, "a"))
            if rec.tick == TICKS_PER_GAME - 1 and rec.game_id != "g49":
                writer.write(GameRecord(rec.run_id, rec.game_id, TICKS_PER_GAME, 2.0, None, 0))
        t0 = time.perf_counter()
        writer.write(GameRecord("bench", "g49", TICKS_PER_GAME, 2.0, None, 0))
        times.append((time.perf_counter() - t0) * 1e3)
        assert len(writer.files_written) == 3
    return statistics.median(times)


def _export_ms(root: Path, records: list[DecisionRecord]) -> float:
    """Export 50 games (10 000 ticks + 10 000 decisions) from a journal to day files."""
    times = []
    for r in range(ROUNDS):
        _write_decisions(root / str(r), records[: 50 * TICKS_PER_GAME], ticks=True)
        with Journal(root / str(r) / "journal.sqlite") as journal:
            t0 = time.perf_counter()
            export_days(journal.conn, root / str(r) / "dataset")
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def _storage(tmp: Path) -> dict:
    """Bytes per game/day, 30 days with compaction, kill -9 (see the module docstring)."""
    profile = storage.real_profile(tmp / "real")
    per_day = profile.games_per_day
    journal_game = profile.journal_bytes / profile.games
    dataset_game = profile.dataset_bytes / profile.games
    return {
        "storage_real_games": profile.games,
        "games_per_day_real_time": round(per_day),
        "journal_bytes_per_game": round(journal_game),
        "journal_bytes_per_day_real_time": round(journal_game * per_day),
        "journal_kept_bytes_per_day_real_time": round(profile.journal_kept_bytes
                                                      / profile.games * per_day),
        "dataset_bytes_per_game": round(dataset_game),
        "dataset_bytes_per_day_real_time": round(dataset_game * per_day),
        "journal_bytes_30_days_without_compaction_est": round(30 * journal_game * per_day),
        **storage.thirty_days(tmp / "30d", profile),
        **storage.kill9_loss(tmp / "kill9"),
    }


def _latencies(journal: Journal, n: int, tag: str) -> list[float]:
    out = []
    for i in range(n):
        order = OrderRecord(f"{tag}-{i}", "bench", i, "g", 1, "buy", 10**7, 0, "sent", "")
        t0 = time.perf_counter()
        assert journal.record_order_intent(order)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run() -> dict:
    """Measure and return the figures."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    try:
        records = _decisions("bench", N_DECISIONS)
        plain, with_ds = [], []
        for r in range(ROUNDS):
            plain.append(_write_decisions(tmp / f"plain{r}", records, ticks=False))
            with_ds.append(_write_decisions(tmp / f"ds{r}", records, ticks=True))
        durable = Journal(tmp / "durable.sqlite", durable=True)
        normal = Journal(tmp / "normal.sqlite", durable=False)
        lat_full = _latencies(durable, N_ORDERS, "full")
        lat_normal = _latencies(normal, N_ORDERS, "normal")
        fills = []
        for i in range(N_ORDERS):
            fill = FillRecord(None, "bench", i, "g", 1, "buy", 1.0, 10**7, 10**7, 0, 10**9)
            t0 = time.perf_counter()
            normal.write(fill)
            fills.append((time.perf_counter() - t0) * 1e6)
        durable.close()
        normal.close()
        roll_ms = _parquet_roll_ms(tmp / "roll", records)
        t0 = time.perf_counter()
        report = build_report(tmp / "ds0")
        report_ms = (time.perf_counter() - t0) * 1e3
        assert report["action_distribution"]["wait"] == N_DECISIONS
        export_ms = _export_ms(tmp / "export", records)
        with Journal(tmp / "ds0" / "journal.sqlite") as journal:
            export_days(journal.conn, tmp / "ds0" / "dataset")
        parquet_files = len(list((tmp / "ds0" / "dataset" / "ticks").glob("*.parquet")))
        return {
            **_storage(tmp),
            "export_ms_50_games": round(export_ms, 1),
            "decisions_per_s": round(statistics.median(plain)),
            "decisions_per_s_with_dataset": round(statistics.median(with_ds)),
            "order_intent_us_p50_durable": round(statistics.median(lat_full), 1),
            "order_intent_us_p99_durable": round(_pct(lat_full, 0.99), 1),
            "order_intent_us_p50_normal": round(statistics.median(lat_normal), 1),
            "order_intent_us_p99_normal": round(_pct(lat_normal, 0.99), 1),
            "fill_write_us_p50": round(statistics.median(fills), 1),
            "report_ms": round(report_ms, 1),
            "parquet_roll_ms_50_games": round(roll_ms, 1),
            "n_decisions": N_DECISIONS,
            "parquet_files_per_run": parquet_files,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
