"""A vectorised game generator with the exact *distribution* of the provably-fair engine.

``rugsd.daemon.game.engine`` replays the site's seeded PRNG (under 2e5 ticks/s in pure Python);
training needs millions of games, so this module draws the same process with numpy
(different random numbers, same law). How it stays exact in distribution:

- The rug check is the first draw of every tick and is independent of everything else, so
  the number of PRNG prices is drawn up front: ``length = 1 + min(G - 1, max_ticks)`` with
  ``G ~ Geometric(RUG_PROB)`` (the loop breaks at tick t with probability 0.005 after t
  survivals).
- Given the lengths, the moves are independent of the rug draws. The volatility depends on
  the current price (``sqrt(price)``, capped at 10 in v2/v3), so the price recursion is
  stepped in time, vectorised across the games still alive (sorted by length, they are a
  prefix). The random parts of each tick are drawn in blocks of ``_BLOCK`` ticks ahead:
  with ``u, v`` uniform, a tick is a big move iff ``u < 1/8`` (then ``u * 8`` is a fresh
  uniform for its size and ``v > 0.5`` its sign), else ``(u - 1/8) / (7/8)`` is the
  uniform of the drift and ``v`` that of the noise. The factor is ``A + B * sqrt(price)``.
- v3 god candles (probability 1e-5 per tick, ×10 if the price is ≤ 100) are placed
  sparsely: a binomial count per block, positions without replacement. At such a tick a
  price above 100 takes the normal move, as in the engine.

Rows keep an exchangeable (iid) order: the games are computed in length order but written
back to the rows they were drawn for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rugsd.daemon.game.rules import (
    BIG_MOVE_MAX,
    BIG_MOVE_MIN,
    BIG_MOVE_PROB,
    DRIFT_MAX,
    DRIFT_MIN,
    GOD_CANDLE_MAX_PRICE,
    GOD_CANDLE_MOVE,
    GOD_CANDLE_PROB,
    MAX_TICKS,
    RUG_PROB,
    START_PRICE,
    VERSIONS,
    VOL_BASE,
    VOL_SQRT_CAP,
)

# Ticks whose random parts are drawn at once: enough to amortise numpy call overhead, few
# enough that games dying inside a block waste little work (~_BLOCK/2 ticks each), and at
# most ~_BLOCK_CELLS random cells per block so the temporaries stay in cache (measured:
# 2 MB blocks cost 2.4x more per tick than 0.5 MB ones).
_BLOCK = 32
_BLOCK_CELLS = 1 << 16

# A(u) for a drift tick: 1 + DRIFT_MIN + (u - p) / (1 - p) * (DRIFT_MAX - DRIFT_MIN).
_DRIFT_SLOPE = (DRIFT_MAX - DRIFT_MIN) / (1.0 - BIG_MOVE_PROB)
_DRIFT_ICPT = 1.0 + DRIFT_MIN - BIG_MOVE_PROB * _DRIFT_SLOPE
# |change| of a big move from u < p: BIG_MOVE_MIN + u / p * (BIG_MOVE_MAX - BIG_MOVE_MIN).
_BIG_SLOPE = (BIG_MOVE_MAX - BIG_MOVE_MIN) / BIG_MOVE_PROB
_PRICE_CAP = VOL_SQRT_CAP * VOL_SQRT_CAP  # sqrt(min(price, 100)) == min(10, sqrt(price))


@dataclass(frozen=True, slots=True, eq=False)
class FastBatch:
    """A batch of simulated games.

    ``prices[i, :lengths[i]]`` are game i's PRNG prices (starting at 1.0, no rug price), the
    rest of the row is NaN; ``lengths[i]`` is its rug tick. ``peaks[i]`` is its highest price.
    ``god_candles`` is an ``(m, 2)`` int array of ``(game, tick)`` where a ×10 happened.
    """

    version: str
    prices: np.ndarray
    lengths: np.ndarray
    peaks: np.ndarray
    god_candles: np.ndarray

    @property
    def n_games(self) -> int:
        """Number of games in the batch."""
        return int(self.lengths.shape[0])

    @property
    def n_ticks(self) -> int:
        """Total number of PRNG prices in the batch (sum of the lengths)."""
        return int(self.lengths.sum())

    def game(self, i: int) -> np.ndarray:
        """Game ``i``'s prices without padding (a view)."""
        return self.prices[i, : self.lengths[i]]


def draw_lengths(n_games: int, rng: np.random.Generator, max_ticks: int = MAX_TICKS) -> np.ndarray:
    """Draw rug ticks (= number of PRNG prices) for ``n_games`` games, as int64."""
    survived = rng.geometric(RUG_PROB, size=n_games) - 1  # ticks survived before the rug
    return np.minimum(survived, max_ticks) + 1


def generate_batch(
    n_games: int,
    rng: np.random.Generator,
    version: str = "v3",
    max_ticks: int = MAX_TICKS,
) -> FastBatch:
    """Simulate ``n_games`` games of ``version`` with the engine's distribution."""
    if version not in VERSIONS:
        raise ValueError(f"unknown game version {version!r}; expected one of {VERSIONS}")
    if n_games <= 0:
        empty = np.empty((0, 1))
        return FastBatch(version, empty, np.empty(0, np.int64), np.empty(0), _no_gods())
    lengths = draw_lengths(n_games, rng, max_ticks)
    order = np.argsort(-lengths, kind="stable")  # longest first: the live games are a prefix
    sorted_len = lengths[order]
    max_len = int(sorted_len[0])
    # alive[t] = number of games that have a price at index t (sorted_len > t).
    alive = n_games - np.searchsorted(sorted_len[::-1], np.arange(max_len + 1), side="right")
    alive_list = alive.tolist()

    out = np.full((n_games, max_len), np.nan)
    out[:, 0] = START_PRICE
    price = np.full(n_games, START_PRICE)
    peak = price.copy()
    tmp = np.empty(n_games)
    gods: list[tuple[int, int]] = []
    v1 = version == "v1"
    v3 = version == "v3"

    t0 = 1
    while t0 < max_len:
        width = alive_list[t0]
        steps = min(_BLOCK, max_len - t0, max(1, _BLOCK_CELLS // width))
        a, b = _draw_factors(rng, steps, width)
        god_at = _draw_god_candles(rng, steps, width) if v3 else {}
        for s in range(steps):
            t = t0 + s
            k = alive_list[t]
            p = price[:k]
            w = tmp[:k]
            if v1:
                np.sqrt(p, out=w)
            else:
                np.minimum(p, _PRICE_CAP, out=w)
                np.sqrt(w, out=w)
            w *= b[s, :k]
            w += a[s, :k]
            if s in god_at:
                g = god_at[s]
                g = g[g < k]
                prev = p[g]
                p *= w
                lucky = prev <= GOD_CANDLE_MAX_PRICE
                p[g[lucky]] = prev[lucky] * GOD_CANDLE_MOVE
                gods.extend((int(x), t) for x in g[lucky])
            else:
                p *= w
            if v1:
                np.maximum(p, 0.0, out=p)  # v1's uncapped noise can push a huge price below 0
            np.maximum(peak[:k], p, out=peak[:k])
            out[order[:k], t] = p
        t0 += steps

    peaks = np.empty(n_games)
    peaks[order] = peak
    god_arr = _no_gods()
    if gods:
        god_arr = np.array(gods, dtype=np.int64)
        god_arr[:, 0] = order[god_arr[:, 0]]
    return FastBatch(version, out, lengths, peaks, god_arr)


def _draw_factors(
    rng: np.random.Generator, steps: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-tick ``A, B`` (``steps × width``) so that ``new = price * (A + B * sqrt(price))``.

    Drift tick: ``A = 1 + drift``, ``B = VOL_BASE * (2v - 1)``. Big move: ``A = 1 ± m``,
    ``B = 0``. The cap on ``sqrt(price)`` (v2/v3) is applied by the caller.
    """
    u = rng.random((steps, width))
    v = rng.random((steps, width))
    a = u * _DRIFT_SLOPE
    a += _DRIFT_ICPT
    b = v * (2.0 * VOL_BASE)
    b -= VOL_BASE
    # Big moves are 1/8 of the ticks: gather them once by flat index (cheaper than masks).
    big = np.flatnonzero(u < BIG_MOVE_PROB)
    move = u.ravel()[big]
    move *= _BIG_SLOPE
    move += BIG_MOVE_MIN
    np.copysign(move, v.ravel()[big] - 0.5, out=move)  # v > 0.5: up (v == 0.5 has measure 0)
    move += 1.0
    a.ravel()[big] = move
    b.ravel()[big] = 0.0
    return a, b


def _draw_god_candles(rng: np.random.Generator, steps: int, width: int) -> dict[int, np.ndarray]:
    """Sparse Bernoulli(GOD_CANDLE_PROB) ticks in a ``steps × width`` block: step → games."""
    cells = steps * width
    count = int(rng.binomial(cells, GOD_CANDLE_PROB))
    if count == 0:
        return {}
    flat = np.sort(rng.choice(cells, size=count, replace=False))
    rows, cols = np.divmod(flat, width)
    return {int(r): cols[rows == r] for r in np.unique(rows)}


def _no_gods() -> np.ndarray:
    return np.empty((0, 2), dtype=np.int64)


def iter_games(
    n: int,
    seed: int | None = None,
    version: str = "v3",
    batch_size: int = 4096,
    max_ticks: int = MAX_TICKS,
) -> Iterator[np.ndarray]:
    """Yield ``n`` simulated games one by one, each a 1-D float64 array of its PRNG prices."""
    rng = np.random.default_rng(seed)
    left = n
    while left > 0:
        batch = generate_batch(min(batch_size, left), rng, version, max_ticks)
        for i in range(batch.n_games):
            yield batch.game(i).copy()
        left -= batch.n_games
