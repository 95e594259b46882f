"""Vectorised features for a whole game at once (backtests, dataset building, training).

``build_batch`` performs the same IEEE operations in the same order as the per-tick
``rugsd.strategy.features`` builder and takes logarithms with ``math.log`` (numpy's SIMD ``log``
differs from libm in the last bit), so every row is bit-identical (float32) to the
per-tick vector at that tick — a test checks it on real and simulated games.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rugsd.daemon.events import Phase, SessionStats
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.state.view import GameSummary, GameView

if TYPE_CHECKING:
    from rugsd.risk.context import RiskLimits as Limits
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
    VOL_WINDOWS,
    account_features,
    default_limits,
    session_features,
)

_log = math.log


def _logs(a: np.ndarray) -> np.ndarray:
    """Element-wise ``math.log`` (bit-identical to the per-tick path, unlike ``np.log``)."""
    return np.fromiter(map(_log, a.tolist()), dtype=np.float64, count=a.shape[0])


def _clean_array(p: np.ndarray) -> np.ndarray:
    return np.where(p > PRICE_FLOOR, np.minimum(p, PRICE_CEIL), PRICE_FLOOR)


def game_features_batch(prices: np.ndarray) -> np.ndarray:
    """Game block [T, len(GAME_FEATURES)] float64 for ACTIVE ticks 0..T-1 of one game.

    Row ``t`` equals ``game_features`` of the view at tick ``t`` with ``price=prices[t]``,
    ``peak=max(prices[:t+1])`` and ``cooldown_ms=0``.
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
    return out


def _active_view(t: int, price: float) -> GameView:
    return GameView(None, Phase.ACTIVE, t, price, (), price, 0, False, 0)


def account_features_batch(
    account: Account, prices: np.ndarray, limits: Limits | None = None
) -> np.ndarray:
    """Account block [T, len(ACCOUNT_FEATURES)] for a fixed ``account`` (nothing in flight,
    a fresh session) at ACTIVE ticks 0..T-1, row by row the per-tick function's values."""
    lim = limits or default_limits()
    p = np.asarray(prices, dtype=np.float64)
    n = p.shape[0]
    out = np.zeros((n, len(ACCOUNT_FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    if account.qty == 0 and account.sidebet is None:
        # flat: only the entry window moves with the tick (the sidebet model's rows)
        open_ = np.array(account_features(_active_view(lim.entry_min_tick, 1.0), account, lim))
        t = np.arange(n)
        inside = (t >= lim.entry_min_tick) & (t <= lim.entry_max_tick)
        out[:] = open_
        out[:, ACCOUNT_FEATURES.index("entry_open")] = np.where(inside, 1.0, 0.0)
        if Phase.ACTIVE not in lim.entry_phases:
            out[:, ACCOUNT_FEATURES.index("entry_open")] = 0.0
        return out
    for t, price in enumerate(p.tolist()):
        out[t] = account_features(_active_view(t, price), account, lim)
    return out


def build_batch(
    prices: Sequence[float] | np.ndarray,
    *,
    account: Account | None = None,
    recent: Sequence[GameSummary] = (),
    stats: SessionStats | None = None,
    limits: Limits | None = None,
) -> np.ndarray:
    """Features [T, N_FEATURES] float32 for every ACTIVE tick 0..T-1 of one game.

    Row ``t`` is bit-identical to ``build_features`` at tick ``t`` (see
    ``game_features_batch``) with a fixed ``account`` (flat, zero balance by default),
    nothing in flight and ``limits`` (default ``[risk]``). ``prices`` must hold active
    ticks only (no rug price).
    """
    p = np.asarray(prices, dtype=np.float64)
    n = p.shape[0]
    out = np.empty((n, N_FEATURES), dtype=np.float32)
    out[:, GAME_SLICE] = game_features_batch(p)
    out[:, ACCOUNT_SLICE] = account_features_batch(account or Account(), p, limits)
    out[:, SESSION_SLICE] = np.array(session_features(recent, stats), dtype=np.float64)
    return out
