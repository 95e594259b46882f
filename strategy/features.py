"""The one feature builder: live, replay, backtest and the gymnasium env all call it.

The schema (names, order, blocks, version, hash) is ``rugsd.strategy.feature_schema``;
the account block is ``rugsd.strategy.features_account``; this module computes the game
and session blocks and assembles the vector (``build_features``, and ``FeatureBuilder``
on the hot path). Every schema name is importable from here too.

Inputs
    A ``GameView`` (only ``prices[:tick]`` plus the current ``view.price`` are read, never a
    later tick), an ``Account``, the risk limits the policy trades under (``Limits``:
    ``rugsd.risk.context.RiskLimits`` or anything with its fields) and the
    ``Commitments`` the account does not show yet (orders in flight, budgets used this
    minute / game / day); nothing else.

Clock
    Game time only: ticks and the ``cooldownTimer``. No feature reads a receive time, so a
    recording, the simulator at any ``--speed`` and the live feed give the same vector
    for the same game state (schema 1 had ``time_since_start_s`` from receive times).

Definitions (``x_t`` = current price, ``x_{t-k}`` = ``prices[t-k]``, clamped to tick 0)
    - ``ret_k = log(x_t / x_{t-k})``; 0 at tick 0.
    - ``vol_w`` = population std of the last ``min(t, w)`` one-tick log returns
      ``log(x_i / x_{i-1})``, two-pass, summed oldest → newest; 0 when there are none.
    - ``drawdown = 1 - x_t / peak``; ``peak = max(view.peak, x_t)``.
    - account: see ``rugsd.strategy.features_account``.
    - session: the last ``RECENT_GAMES`` finished games of ``view.recent`` and the room
      statistics (counts / 100); zeros when absent (``stats_present`` tells which).

Finiteness
    Every float input is sanitised on the way in: prices (and peak, average multiplier)
    that are NaN or ≤ ``PRICE_FLOOR`` become ``PRICE_FLOOR``, +inf or > ``PRICE_CEIL``
    become ``PRICE_CEIL``; divisions by zero are guarded (the feature is 0). So every
    feature is finite by construction for any int account below ~1e300 lamports.

Exactness
    ``rugsd.strategy.features_batch.build_batch`` (numpy, a whole game at once) performs the
    same IEEE operations in the same order as this per-tick builder, so both give
    bit-identical float32 vectors.
"""

# ruff: noqa: FURB136, PLR1730 -- min()/max() calls cost ~0.1 µs each; clipping is inline

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from rugsd.daemon.events import Phase, SessionStats
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.game.rules import COOLDOWN_MS
from rugsd.daemon.state.prices import PriceHistory
from rugsd.daemon.state.view import GameSummary, GameView
from rugsd.strategy.feature_schema import (
    ACCOUNT_FEATURES,
    ACCOUNT_SLICE,
    FEATURE_INDEX,
    FEATURE_NAMES,
    GAME_FEATURES,
    GAME_SLICE,
    MAX_WINDOW,
    N_FEATURES,
    PHASES,
    PRICE_CEIL,
    PRICE_FLOOR,
    RATIO_CEIL,
    RECENT_GAMES,
    RETURN_WINDOWS,
    ROOM_STATS_SLICE,
    SCHEMA_VERSION,
    SESSION_FEATURES,
    SESSION_SLICE,
    VOL_WINDOWS,
    schema_hash,
)
from rugsd.strategy.features_account import (
    NO_COMMITMENTS,
    Commitments,
    account_features,
    default_limits,
    entry_open,
)

if TYPE_CHECKING:
    from rugsd.risk.context import RiskLimits as Limits

__all__ = [
    "ACCOUNT_FEATURES", "ACCOUNT_SLICE", "FEATURE_INDEX", "FEATURE_NAMES", "GAME_FEATURES",
    "GAME_SLICE", "MAX_WINDOW", "NO_COMMITMENTS", "N_FEATURES", "PRICE_CEIL", "PRICE_FLOOR",
    "RATIO_CEIL", "RECENT_GAMES", "RETURN_WINDOWS", "ROOM_STATS_SLICE", "SCHEMA_VERSION",
    "SESSION_FEATURES", "SESSION_SLICE", "VOL_WINDOWS", "Commitments", "FeatureBuilder",
    "ReturnCache", "account_features", "build_features", "default_limits", "entry_open",
    "game_features", "schema_hash", "session_features",
]

_PHASES = PHASES  # the batch builder's name for it
_ONEHOT: dict[Phase, tuple[float, ...]] = {
    p: tuple(1.0 if q is p else 0.0 for q in PHASES) for p in PHASES
}
_ACTIVE_ONEHOT = _ONEHOT[Phase.ACTIVE]
_UNKNOWN_ONEHOT = _ONEHOT[Phase.UNKNOWN]
_log = math.log
_ZERO_RETS = [0.0] * len(RETURN_WINDOWS)
_ZERO_VOLS = [0.0] * len(VOL_WINDOWS)
# float64 → float32 exactly as numpy casts (round to nearest even), without numpy's
# per-element conversion of a Python list (the vector is written on every decision)
_PACK = struct.Struct(f"={N_FEATURES}f").pack_into
def _clean(p: float) -> float:
    """Sanitise a price-like float into [PRICE_FLOOR, PRICE_CEIL] (NaN → floor)."""
    return min(p, PRICE_CEIL) if p > PRICE_FLOOR else PRICE_FLOOR


def _vol(r: list[float]) -> float:
    """Population std of ``r``: two passes, plain sequential sums oldest → newest.

    Explicit loops, not ``sum`` (compensated since Python 3.12): ``game_features_batch``
    reproduces exactly this order of additions.
    """
    n = len(r)
    if n == 0:
        return 0.0
    s = 0.0
    for v in r:
        s += v
    mean = s / n
    s2 = 0.0
    for v in r:
        d = v - mean
        s2 += d * d
    return math.sqrt(s2 / n)


def game_features(view: GameView, returns: ReturnCache | None = None) -> list[float]:
    """The game block for ``view`` (reads ``prices[:tick]`` and ``view.price`` only).

    ``returns`` (optional) caches the per-tick log returns of the state machine's price
    list between calls; the values are the same floats the direct computation gives.
    """
    tick = view.tick
    t = tick if tick > 0 else 0
    p = view.price
    # inline _clean (here and below): this runs on every decision
    x = (p if p < PRICE_CEIL else PRICE_CEIL) if p > PRICE_FLOOR else PRICE_FLOOR
    prices = view.prices
    n = len(prices)
    m = t if t < n else n  # past prices usable (fewer when ticks were missed)
    if m:
        r = returns.lookup(prices, m, x) if returns is not None else None
        if r is None:
            chain = [
                (p if p < PRICE_CEIL else PRICE_CEIL) if p > PRICE_FLOOR else PRICE_FLOOR
                for p in prices[max(m - MAX_WINDOW, 0) : m]
            ]
            n_past = len(chain)
            rets = [_log(x / chain[n_past - k if n_past >= k else 0]) for k in RETURN_WINDOWS]
            chain.append(x)
            r = [_log(b / a) for a, b in pairwise(chain)]
        else:
            data = prices._data  # a PriceHistory (lookup checked); indices < m <= its length
            n_past = len(r)
            rets = []
            for k in RETURN_WINDOWS:
                p = data[m - k if n_past >= k else m - n_past]
                rets.append(_log(x / ((p if p < PRICE_CEIL else PRICE_CEIL)
                                      if p > PRICE_FLOOR else PRICE_FLOOR)))
        vols = [_vol(r[-w:]) for w in VOL_WINDOWS]
    else:
        rets = _ZERO_RETS
        vols = _ZERO_VOLS
    p = view.peak
    peak = (p if p < PRICE_CEIL else PRICE_CEIL) if p > PRICE_FLOOR else PRICE_FLOOR
    if x > peak:  # = max(peak, x)
        peak = x
    cooldown = max(0.0, min(view.cooldown_ms / COOLDOWN_MS, 1.0))
    return [
        t / 100,
        x,
        _log(x),
        *rets,
        *vols,
        1.0 - x / peak,
        _log(peak),
        *_ONEHOT.get(view.phase, _UNKNOWN_ONEHOT),
        cooldown,
    ]


class ReturnCache:
    """Log returns of the state machine's price list, computed once per tick.

    The machine only appends to the list a ``PriceHistory`` shares and copies it before
    correcting an old slot, so for one list object ``log(p[i] / p[i-1])`` never changes:
    it is computed the first time it is needed and reused for the next 40 ticks. Any
    other sequence type, or a current price that differs from the list's slot, falls
    back to the direct computation (same arithmetic, same floats).
    """

    __slots__ = ("_data", "_r")

    def __init__(self) -> None:
        self._data: object = None
        self._r: list[float] = [0.0]

    def lookup(self, prices: Sequence[float], m: int, x: float) -> list[float] | None:
        """The returns of pairs ``(i-1, i)`` for the last ``MAX_WINDOW`` ticks up to ``m``."""
        if type(prices) is not PriceHistory:
            return None
        data = prices._data
        if len(data) <= m or _clean(data[m]) != x:
            return None
        r = self._r
        if data is not self._data:
            self._data = data
            r = self._r = [0.0]
        n = len(r)
        if n <= m:
            prev = _clean(data[n - 1])
            for i in range(n, m + 1):
                cur = _clean(data[i])
                r.append(_log(cur / prev))
                prev = cur
        return r[max(m - MAX_WINDOW, 0) + 1 : m + 1]


def _finite_or(value: float | None, default: float) -> float:
    return value if value is not None and math.isfinite(value) else default


def session_features(recent: Sequence[GameSummary], stats: SessionStats | None) -> list[float]:
    """The session block: last ``RECENT_GAMES`` finished games and the room statistics."""
    games = list(recent)[-RECENT_GAMES:]
    n = len(games)
    if n:
        lens = sorted(max(g.rug_tick, 0) for g in games)
        mid = n // 2
        median = lens[mid] if n % 2 else (lens[mid - 1] + lens[mid]) / 2
        peaks = [_clean(g.peak) for g in games]
        block = [
            n / RECENT_GAMES,
            sum(lens) / n / 100,
            median / 100,
            math.fsum(_log(p) for p in peaks) / n,
            sum(1 for p in peaks if p >= 2.0) / n,
            sum(1 for p in peaks if p >= 10.0) / n,
        ]
    else:
        block = [0.0] * 6
    if stats is None:
        return block + [0.0] * 6
    avg = stats.average_multiplier
    counts = (stats.count2x, stats.count10x, stats.count50x, stats.count100x)
    return block + [
        1.0,
        _log(_clean(_finite_or(avg, 1.0))),
        *(max(0, c) / 100 if c is not None else 0.0 for c in counts),
    ]


def build_features(
    view: GameView,
    account: Account,
    out: np.ndarray | None = None,
    *,
    limits: Limits | None = None,
    commitments: Commitments = NO_COMMITMENTS,
) -> np.ndarray:
    """The full float32 feature vector for one decision (a new array unless ``out``)."""
    values = (
        game_features(view)
        + account_features(view, account, limits or default_limits(), commitments)
        + session_features(view.recent, view.stats)
    )
    if out is None:
        return np.array(values, dtype=np.float32)
    out[:] = values
    return out


class FeatureBuilder:
    """Per-tick builder for the hot path: a preallocated buffer and a session cache.

    ``build`` returns the builder's buffer (overwritten by the next call; copy it to keep
    it). Give it the models' input row (``Bundle.obs_row``) and the ONNX strategy reads
    the features without a copy. ``limits`` are the risk limits of the core it serves
    (the default ``[risk]`` when None). The session block is recomputed only when
    ``view.recent`` or ``view.stats`` is a different object (both are immutable, and the
    cache holds references, so identity implies equal content).
    """

    __slots__ = ("_recent", "_returns", "_session", "_stats", "buffer", "limits")

    def __init__(self, buffer: np.ndarray | None = None, limits: Limits | None = None) -> None:
        """Use ``buffer`` (float32 [N_FEATURES], e.g. ``Bundle.obs_row``) or allocate one."""
        if buffer is None:
            buffer = np.zeros(N_FEATURES, dtype=np.float32)
        elif (buffer.shape != (N_FEATURES,) or buffer.dtype != np.float32
              or not buffer.flags.c_contiguous):
            raise ValueError(f"feature buffer must be a C-contiguous float32[{N_FEATURES}]")
        self.buffer = buffer
        self.limits = limits or default_limits()
        self._recent: object = None
        self._stats: object = None
        self._session: list[float] = session_features((), None)
        self._returns = ReturnCache()

    def build(
        self, view: GameView, account: Account, commitments: Commitments = NO_COMMITMENTS
    ) -> np.ndarray:
        """Features of ``view``/``account`` written into (and returned as) ``buffer``."""
        recent, stats = view.recent, view.stats
        # stats arrive as a new (equal) object with every update: compare by value
        if recent is not self._recent or (stats is not self._stats and stats != self._stats):
            self._session = session_features(recent, stats)
            self._recent, self._stats = recent, stats
        values = (game_features(view, self._returns)
                  + account_features(view, account, self.limits, commitments) + self._session)
        buffer = self.buffer
        try:
            _PACK(buffer, 0, *values)
        except OverflowError:  # a value beyond float32's range: numpy casts it to ±inf
            buffer[:] = values
        return buffer
