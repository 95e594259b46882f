"""Small, pure statistics for honest evaluation: AUC, Brier, calibration, bootstraps by game.

Rows inside one game are correlated (same price path), so every confidence interval here
resamples *games*, never rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

N_BOOT = 1000


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties averaged; 0.5 if one class."""
    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = y.shape[0] - n1
    if n1 == 0 or n0 == 0:
        return 0.5
    order = np.argsort(p, kind="mergesort")
    ps = np.asarray(p)[order]
    ranks = np.empty(len(ps), dtype=np.float64)
    # average ranks over ties
    bounds = np.flatnonzero(np.diff(ps)) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, len(ps)]
    avg = (starts + ends + 1) / 2.0  # 1-based average rank of each tie block
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of probabilities against 0/1 outcomes."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((np.asarray(p, dtype=np.float64) - y) ** 2))


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Reliability table: per probability bin, mean prediction, observed rate, count."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        if n:
            out.append({"lo": float(edges[b]), "hi": float(edges[b + 1]),
                        "p_mean": float(p[sel].mean()), "rate": float(y[sel].mean()), "n": n})
    return out


def ci95(samples: np.ndarray) -> tuple[float, float]:
    """2.5 % and 97.5 % quantiles."""
    lo, hi = np.quantile(np.asarray(samples, dtype=np.float64), [0.025, 0.975])
    return float(lo), float(hi)


def bootstrap_games(
    n_games: int, stat: Callable[[np.ndarray], float], n_boot: int = N_BOOT, seed: int = 0
) -> np.ndarray:
    """``stat(game_indices)`` over ``n_boot`` resamples of the games (with replacement)."""
    rng = np.random.default_rng(seed)
    return np.array([stat(rng.integers(0, n_games, n_games)) for _ in range(n_boot)])


def mean_ci(values: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float]:
    """Bootstrap 95 % CI of the mean of per-game values (vectorised)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, (n_boot, v.size))
    return ci95(v[idx].mean(axis=1))


def ratio_ci(num: np.ndarray, den: np.ndarray, n_boot: int = N_BOOT,
             seed: int = 0) -> tuple[float, float]:
    """Bootstrap 95 % CI of ``sum(num) / sum(den)`` resampling games (0 when den is 0)."""
    a = np.asarray(num, dtype=np.float64)
    b = np.asarray(den, dtype=np.float64)
    if a.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, (n_boot, a.size))
    d = b[idx].sum(axis=1)
    r = np.divide(a[idx].sum(axis=1), d, out=np.zeros(n_boot), where=d > 0)
    return ci95(r)


def max_drawdown(pnl_per_game: np.ndarray) -> float:
    """Largest fall of the cumulative P&L from its running peak (>= 0, same units)."""
    curve = np.concatenate([[0.0], np.cumsum(np.asarray(pnl_per_game, dtype=np.float64))])
    return float(np.max(np.maximum.accumulate(curve) - curve))
