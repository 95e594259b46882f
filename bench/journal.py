"""Journal throughput and latency: decisions/s written (batched), order write latency.

Figures (medians of ``ROUNDS`` rounds where it applies; the temp dir is on the same
filesystem as the data dir would be):

- ``decisions_per_s``: DecisionRecords with a 32-float feature vector and 6 action
  probabilities through ``Journal.write`` (batched ``executemany``), flushed at the end.
- ``decisions_per_s_with_dataset``: the same plus one TickRecord per decision and the
  Parquet DatasetWriter attached (files every 50 games of 200 ticks).
- ``order_intent_us_{p50,p99}_durable``: ``record_order_intent`` with
  ``synchronous=FULL`` (fsync per order); ``..._normal``: with ``durable=False``.
- ``fill_write_us_p50``: one FillRecord committed immediately (NORMAL).
- ``report_ms``: ``build_report`` over the benchmark journal.
- ``parquet_roll_ms_50_games``: the blocking write of one 50-game file set (10 000
  ticks + 10 000 decisions, zstd, fsync + rename) — what a game end costs the loop
  every 50 games.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

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


def _write_decisions(root: Path, records: list[DecisionRecord], dataset: bool) -> float:
    writer = DatasetWriter(root / "dataset", 50) if dataset else None
    journal = Journal(root / "journal.sqlite", dataset=writer)
    ticks = [TickRecord(r.run_id, r.ts_ms, r.game_id, r.tick, r.price, r.phase) for r in records]
    t0 = time.perf_counter()
    for i, rec in enumerate(records):
        journal.write(rec)
        if dataset:
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
            plain.append(_write_decisions(tmp / f"plain{r}", records, dataset=False))
            with_ds.append(_write_decisions(tmp / f"ds{r}", records, dataset=True))
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
        parquet_files = len(list((tmp / "ds0" / "dataset" / "ticks").glob("*.parquet")))
        return {
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
