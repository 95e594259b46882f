"""Game engine throughput: exact seedrandom replay vs the vectorised numpy generator.

Targets (DESIGN.md §3): exact mode ≥ 100 000 ticks/s, fast mode ≥ 10 M ticks/s on the
2-core machine. A "tick" is one PRNG price. Each figure is the median over several timed
rounds (time.perf_counter), each round about a second of work.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from rugsd.daemon.game.engine import generate_game
from rugsd.daemon.game.fast import generate_batch
from rugsd.daemon.game.seedrandom import SeedRandom

ROUNDS = 3
ROUND_S = 1.0
FAST_BATCH = 8192  # games per generate_batch call (padded array ≈ 8192 × ~1700 doubles)


def _exact_round(start: int) -> tuple[int, int, float]:
    """Replay seeded games for ROUND_S seconds; return (games, ticks, seconds)."""
    games = ticks = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < ROUND_S:
        i = start + games
        ticks += generate_game(f"{i:064x}", f"20260101-{i:016x}", "v3").rug_tick
        games += 1
    return games, ticks, time.perf_counter() - t0


def _fast_work(seed: int, batches: int) -> tuple[int, int]:
    """Generate ``batches`` batches; return (games, ticks)."""
    rng = np.random.default_rng(seed)
    ticks = 0
    for _ in range(batches):
        ticks += generate_batch(FAST_BATCH, rng, "v3").n_ticks
    return batches * FAST_BATCH, ticks


def _fast_round(seed: int, threads: int) -> tuple[int, int, float]:
    """About ROUND_S seconds of fast generation on ``threads`` threads (numpy drops the GIL)."""
    batches = 4
    t0 = time.perf_counter()
    if threads == 1:
        games, ticks = _fast_work(seed, batches)
    else:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(_fast_work, range(seed, seed + threads), [batches] * threads))
        games, ticks = sum(p[0] for p in parts), sum(p[1] for p in parts)
    return games, ticks, time.perf_counter() - t0


def _doubles_per_s() -> float:
    rng = SeedRandom("bench")
    n = 200_000
    t0 = time.perf_counter()
    rng.doubles(n)
    return n / (time.perf_counter() - t0)


def run() -> dict:
    """Measure and return the engine's throughput figures."""
    generate_batch(256, np.random.default_rng(0))  # warm-up (imports, allocator)
    exact = [_exact_round(r * 1_000_000) for r in range(ROUNDS)]
    fast1 = [_fast_round(10 * r, 1) for r in range(ROUNDS)]
    fast2 = [_fast_round(10 * r + 100, 2) for r in range(ROUNDS)]

    def rate(rounds: list[tuple[int, int, float]]) -> float:
        return statistics.median(ticks / secs for _, ticks, secs in rounds)

    return {
        "exact_ticks_per_s": round(rate(exact)),
        "exact_games": sum(r[0] for r in exact),
        "exact_ticks": sum(r[1] for r in exact),
        "fast_ticks_per_s": round(rate(fast1)),
        "fast_games": sum(r[0] for r in fast1),
        "fast_ticks": sum(r[1] for r in fast1),
        "fast_ticks_per_s_2_threads": round(rate(fast2)),
        "fast_batch_games": FAST_BATCH,
        "seedrandom_doubles_per_s": round(_doubles_per_s()),
        "target_exact_ticks_per_s": 100_000,
        "target_fast_ticks_per_s": 10_000_000,
    }


if __name__ == "__main__":
    print(run())
