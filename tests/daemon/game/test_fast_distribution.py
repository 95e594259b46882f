"""The vectorised generator has the exact engine's distribution (not its sequence).

Three kinds of evidence, all with fixed seeds so the test is deterministic:
- two-sample Kolmogorov–Smirnov tests, exact engine vs fast generator, on whole-game
  statistics (rug tick, log peak, log final price);
- a per-tick test that needs no exact games: given the previous price, a drift tick's return
  has a known trapezoidal CDF and a big move's size is uniform, so the probability integral
  transforms of millions of fast ticks must be uniform;
- moments against theory (mean rug tick ≈ 1 / RUG_PROB, big-move share 1/8, god candles).
scipy is not a dependency: the KS statistic and its asymptotic p-value are computed here.
"""

from __future__ import annotations

import numpy as np
import pytest

from rugsd.daemon.game.engine import generate_game
from rugsd.daemon.game.fast import FastBatch, draw_lengths, generate_batch, iter_games
from rugsd.daemon.game.rules import BIG_MOVE_PROB, GOD_CANDLE_PROB, RUG_PROB

P_MIN = 1e-3
N_EXACT = 3000
N_FAST = 20000


def _kolmogorov_p(stat: float, n_eff: float) -> float:
    """Asymptotic P(D > stat) with Stephens' small-sample correction."""
    lam = (np.sqrt(n_eff) + 0.12 + 0.11 / np.sqrt(n_eff)) * stat
    k = np.arange(1, 101)
    p = 2.0 * np.sum((-1.0) ** (k - 1) * np.exp(-2.0 * k * k * lam * lam))
    return float(np.clip(p, 0.0, 1.0))


def ks_2samp(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample KS statistic and p-value (conservative for discrete data with ties)."""
    a = np.sort(np.asarray(a, dtype=float))
    b = np.sort(np.asarray(b, dtype=float))
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / a.size
    cdf_b = np.searchsorted(b, grid, side="right") / b.size
    stat = float(np.max(np.abs(cdf_a - cdf_b)))
    return stat, _kolmogorov_p(stat, a.size * b.size / (a.size + b.size))


def ks_uniform(x: np.ndarray) -> tuple[float, float]:
    """One-sample KS test of ``x`` against U(0, 1)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    i = np.arange(1, n + 1)
    stat = float(max(np.max(i / n - x), np.max(x - (i - 1) / n)))
    return stat, _kolmogorov_p(stat, n)


def _ramp2(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, 0.0)
    return x * x / 2.0


def drift_tick_cdf(change: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """CDF of ``U(-0.02, 0.03) + U(-vol, vol)`` (a trapezoid) at ``change``."""
    w1 = 0.05
    w2 = 2.0 * vol
    s = change + 0.02 + vol
    return (_ramp2(s) - _ramp2(s - w1) - _ramp2(s - w2) + _ramp2(s - w1 - w2)) / (w1 * w2)


@pytest.fixture(scope="module")
def exact_v3() -> dict[str, np.ndarray]:
    """Whole-game statistics of N_EXACT seeded games (about 3 s)."""
    games = [generate_game(f"{i:064x}", f"20250101-{i:016x}", "v3") for i in range(N_EXACT)]
    return {
        "len": np.array([g.rug_tick for g in games]),
        "log_peak": np.log([g.peak for g in games]),
        "log_final": np.log([g.prices[-1] for g in games]),
    }


@pytest.fixture(scope="module")
def fast_v3() -> FastBatch:
    """N_FAST fast games with a fixed seed."""
    return generate_batch(N_FAST, np.random.default_rng(20251207), "v3")


def _last_prices(batch: FastBatch) -> np.ndarray:
    return batch.prices[np.arange(batch.n_games), batch.lengths - 1]


def test_batch_layout(fast_v3: FastBatch) -> None:
    b = fast_v3
    assert b.prices.shape == (N_FAST, int(b.lengths.max()))
    assert b.prices.dtype == np.float64
    assert np.all(b.prices[:, 0] == 1.0)
    valid = np.arange(b.prices.shape[1])[None, :] < b.lengths[:, None]
    assert np.all(np.isfinite(b.prices[valid]))
    assert np.all(b.prices[valid] > 0)
    assert np.all(np.isnan(b.prices[~valid]))
    assert np.array_equal(b.peaks, np.nanmax(b.prices, axis=1))
    assert np.array_equal(b.game(7), b.prices[7, : b.lengths[7]])
    assert b.n_ticks == int(b.lengths.sum())


def test_rug_ticks_match_exact(exact_v3: dict[str, np.ndarray], fast_v3: FastBatch) -> None:
    _, p = ks_2samp(exact_v3["len"], fast_v3.lengths)
    assert p > P_MIN


def test_log_peaks_match_exact(exact_v3: dict[str, np.ndarray], fast_v3: FastBatch) -> None:
    _, p = ks_2samp(exact_v3["log_peak"], np.log(fast_v3.peaks))
    assert p > P_MIN


def test_final_prices_match_exact(exact_v3: dict[str, np.ndarray], fast_v3: FastBatch) -> None:
    _, p = ks_2samp(exact_v3["log_final"], np.log(_last_prices(fast_v3)))
    assert p > P_MIN


def test_mean_rug_tick_matches_theory(exact_v3: dict[str, np.ndarray], fast_v3: FastBatch) -> None:
    # len = 1 + min(Geometric0(p), 5000): mean 1/p = 200 (the cap moves it by ~1e-9),
    # standard deviation sqrt(1 - p) / p ≈ 199.5. Allow 4 standard errors.
    mean, sd = 1.0 / RUG_PROB, np.sqrt(1.0 - RUG_PROB) / RUG_PROB
    for lengths in (exact_v3["len"], fast_v3.lengths):
        assert abs(lengths.mean() - mean) < 4.0 * sd / np.sqrt(lengths.size)


def test_draw_lengths_is_geometric() -> None:
    lengths = draw_lengths(200_000, np.random.default_rng(1))
    assert lengths.min() == 1
    # P(rug tick == 1) = p, P(rug tick > 40) = (1 - p) ** 40.
    assert abs(np.mean(lengths == 1) - RUG_PROB) < 4 * np.sqrt(RUG_PROB / 200_000)
    q = (1 - RUG_PROB) ** 40
    assert abs(np.mean(lengths > 40) - q) < 4 * np.sqrt(q * (1 - q) / 200_000)


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_per_tick_law(version: str) -> None:
    batch = generate_batch(N_FAST, np.random.default_rng(7), version)
    prev = batch.prices[:, :-1].ravel()
    new = batch.prices[:, 1:].ravel()
    keep = ~np.isnan(new)
    prev, new = prev[keep], new[keep]
    ratio = new / prev
    normal = (np.abs(ratio - 10.0) > 1e-9) & (prev < 400.0)  # v1 vol < 0.1: moves separable
    prev, change = prev[normal], ratio[normal] - 1.0
    root = np.sqrt(prev)
    vol = 0.005 * (root if version == "v1" else np.minimum(root, 10.0))
    big = np.abs(change) >= 0.15 - 1e-12
    n = change.size
    assert n > 3_000_000
    assert abs(big.mean() - BIG_MOVE_PROB) < 4 * np.sqrt(BIG_MOVE_PROB * (1 - BIG_MOVE_PROB) / n)
    ups = (change[big] > 0).mean()
    assert abs(ups - 0.5) < 4 * np.sqrt(0.25 / big.sum())
    _, p_big = ks_uniform((np.abs(change[big]) - 0.15) / 0.10)
    _, p_drift = ks_uniform(drift_tick_cdf(change[~big], vol[~big]))
    assert p_big > P_MIN
    assert p_drift > P_MIN


def test_god_candles(fast_v3: FastBatch) -> None:
    gods = fast_v3.god_candles
    games, ticks = gods[:, 0], gods[:, 1]
    assert np.all(fast_v3.prices[games, ticks] == 10.0 * fast_v3.prices[games, ticks - 1])
    assert np.all(fast_v3.prices[games, ticks - 1] <= 100.0)
    # Poisson count: ~1e-5 per tick over ~4e6 ticks (minus the rare ticks above 100x).
    expected = GOD_CANDLE_PROB * (fast_v3.n_ticks - fast_v3.n_games)
    assert abs(len(gods) - expected) < 5 * np.sqrt(expected)
    for version in ("v1", "v2"):
        assert generate_batch(2000, np.random.default_rng(3), version).god_candles.shape == (0, 2)


def test_max_ticks_truncation() -> None:
    batch = generate_batch(5000, np.random.default_rng(5), max_ticks=10)
    assert batch.lengths.max() == 11
    assert batch.prices.shape[1] == 11
    q = (1 - RUG_PROB) ** 10  # P(survive all 10 ticks)
    assert abs(np.mean(batch.lengths == 11) - q) < 4 * np.sqrt(q * (1 - q) / 5000)


def test_iter_games_deterministic() -> None:
    first = list(iter_games(50, seed=42, batch_size=16))
    again = list(iter_games(50, seed=42, batch_size=16))
    assert len(first) == 50
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert all(g[0] == 1.0 and np.all(np.isfinite(g)) for g in first)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        generate_batch(10, np.random.default_rng(0), "v9")
    assert generate_batch(0, np.random.default_rng(0)).n_games == 0
