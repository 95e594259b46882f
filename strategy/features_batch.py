"""Vectorised features for a whole game at once (backtests, dataset building, training).

``build_batch`` performs the same IEEE operations in the same order as the per-tick
``rugsd.strategy.features`` builder and takes logarithms with ``math.log`` (numpy's SIMD ``log``
differs from libm in the last bit), so every row is bit-identical (float32) to the
per-tick vector at that tick — a test checks it on real and simulated games.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from rugsd.daemon.events import SessionStats
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.rules import LAMPORTS_PER_SOL, SIDEBET_WINDOW, TICK_MS
from rugsd.daemon.state.view import GameSummary
from rugsd.strategy.features import (
    _ACTIVE_ONEHOT,
    _PHASES,
    ACCOUNT_FEATURES,
    ACCOUNT_SLICE,
    GAME_FEATURES,
    GAME_SLICE,
    N_FEATURES,
    PRICE_CEIL,
    PRICE_FLOOR,
    RETURN_WINDOWS,
    SESSION_SLICE,
    TIME_CEIL_S,
    VOL_WINDOWS,
    session_features,
)

_LAMPORTS = float(LAMPORTS_PER_SOL)
_log = math.log


def _logs(a: np.ndarray) -> np.ndarray:
    """Element-wise ``math.log`` (bit-identical to the per-tick path, unlike ``np.log``)."""
    return np.fromiter(map(_log, a.tolist()), dtype=np.float64, count=a.shape[0])


def _clean_array(p: np.ndarray) -> np.ndarray:
    return np.where(p > PRICE_FLOOR, np.minimum(p, PRICE_CEIL), PRICE_FLOOR)


def game_features_batch(
    prices: np.ndarray,
    ts_ms: np.ndarray | None = None,
    started_ts_ms: int | None = None,
) -> np.ndarray:
    """Game block [T, len(GAME_FEATURES)] float64 for ACTIVE ticks 0..T-1 of one game.

    Row ``t`` equals ``game_features`` of the view at tick ``t`` with ``price=prices[t]``,
    ``peak=max(prices[:t+1])``, ``cooldown_ms=0`` and the same timestamps.
    """
    x = _clean_array(np.asarray(prices, dtype=np.float64))
    n = x.shape[0]
    out = np.zeros((n, len(GAME_FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    t = np.arange(n)
    col = 0
    out[:, col] = t / 100
    out[:, col + 1] = x
    out[:, col + 2] = _logs(x)
    col += 3
    for k in RETURN_WINDOWS:
        ref = x[np.maximum(t - k, 0)]
        out[:, col] = _logs(x / ref)
        col += 1
    r = np.zeros(n, dtype=np.float64)  # r[i] = log(x_i / x_{i-1}); r[0] unused
    if n > 1:
        r[1:] = _logs(x[1:] / x[:-1])
    for w in VOL_WINDOWS:
        cnt = np.minimum(t, w)
        s = np.zeros(n, dtype=np.float64)
        for j in range(w - 1, -1, -1):  # oldest → newest, as the per-tick loop
            idx = t - j
            valid = idx >= 1
            s += np.where(valid, r[np.maximum(idx, 0)], 0.0)
        safe = np.maximum(cnt, 1)
        mean = s / safe
        s2 = np.zeros(n, dtype=np.float64)
        for j in range(w - 1, -1, -1):
            idx = t - j
            valid = idx >= 1
            d = r[np.maximum(idx, 0)] - mean
            s2 += np.where(valid, d * d, 0.0)
        out[:, col] = np.where(cnt > 0, np.sqrt(s2 / safe), 0.0)
        col += 1
    peak = np.maximum.accumulate(x)
    out[:, col] = 1.0 - x / peak
    out[:, col + 1] = _logs(peak)
    col += 2
    out[:, col : col + len(_PHASES)] = _ACTIVE_ONEHOT
    col += len(_PHASES)
    out[:, col] = 0.0  # cooldown_frac: 0 while active
    if ts_ms is not None and started_ts_ms is not None:
        elapsed = (np.asarray(ts_ms, dtype=np.int64) - started_ts_ms) / 1000
    else:
        elapsed = t * TICK_MS / 1000
    out[:, col + 1] = np.maximum(0.0, np.minimum(elapsed, TIME_CEIL_S))
    return out


def account_features_batch(account: Account, prices: np.ndarray) -> np.ndarray:
    """Account block [T, len(ACCOUNT_FEATURES)] for a fixed account at ticks 0..T-1."""
    x = _clean_array(np.asarray(prices, dtype=np.float64))
    n = x.shape[0]
    t = np.arange(n)
    out = np.zeros((n, len(ACCOUNT_FEATURES)), dtype=np.float64)
    qty, cost = account.qty, account.cost
    if qty > 0:
        val = float(qty) * x
        upnl = val - float(cost)
        out[:, 0] = 1.0
        out[:, 1] = val / _LAMPORTS
        out[:, 2] = (cost / qty) / x
        out[:, 3] = upnl / _LAMPORTS
        out[:, 4] = upnl / float(cost) if cost > 0 else 0.0
        entry = account.entry_tick
        if entry is not None:
            out[:, 5] = np.where(t > entry, (t - entry) / 100, 0.0)
    bet = account.sidebet
    if bet is not None:
        live = t < bet.end_tick
        out[:, 6] = np.where(live, 1.0, 0.0)
        out[:, 7] = np.where(live, np.minimum((bet.end_tick - t) / SIDEBET_WINDOW, 1.0), 0.0)
    bal = account.balance
    out[:, 8] = math.log1p(bal / _LAMPORTS) if bal > 0 else 0.0
    return out


def build_batch(
    prices: Sequence[float] | np.ndarray,
    *,
    account: Account | None = None,
    recent: Sequence[GameSummary] = (),
    stats: SessionStats | None = None,
    ts_ms: np.ndarray | None = None,
    started_ts_ms: int | None = None,
) -> np.ndarray:
    """Features [T, N_FEATURES] float32 for every ACTIVE tick 0..T-1 of one game.

    Row ``t`` is bit-identical to ``build_features`` at tick ``t`` (see
    ``game_features_batch``) with a fixed ``account`` (flat, zero balance by default):
    a backtest or env overwrites ``ACCOUNT_SLICE`` per row as its account changes (see
    ``account_features``). ``prices`` must hold active ticks only (no rug price).
    """
    p = np.asarray(prices, dtype=np.float64)
    n = p.shape[0]
    out = np.empty((n, N_FEATURES), dtype=np.float32)
    out[:, GAME_SLICE] = game_features_batch(p, ts_ms, started_ts_ms)
    out[:, ACCOUNT_SLICE] = account_features_batch(account or Account(), p)
    out[:, SESSION_SLICE] = np.array(session_features(recent, stats), dtype=np.float64)
    return out
