"""The provably-fair Rugs.fun game engine: server seed + game id → the game's prices.

``generate_game`` reproduces the live site bit for bit (DESIGN.md §1): the PRNG is
``seedrandom(serverSeed + "-" + gameId)`` and each tick draws, in this order, the rug check,
(v3) the god-candle check, the big-move check and two more doubles. The floating-point
expressions are written in the same order as the site's JavaScript so every price is the
identical IEEE double, not merely a close one.

The rug price (the last element of a real game's ``prices`` array) does not come from the
PRNG; ``rug_price`` is the simulator's own choice for it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from math import sqrt

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
    RUG_PRICE_MAX_FRACTION,
    RUG_PRICE_MIN_SCALE,
    RUG_PROB,
    START_PRICE,
    VERSIONS,
    VOL_BASE,
    VOL_SQRT_CAP,
)
from rugsd.daemon.game.seedrandom import SeedRandom

# One tick consumes at most 5 doubles (rug, god candle, big move, 2 more); the PRNG is read
# in chunks so the inner loop indexes a list instead of calling a method per draw.
_CHUNK = 128
_MAX_DRAWS_PER_TICK = 5

# Computed as the JS does (``MIN + r * (MAX - MIN)``) so the products round identically.
_BIG_SPAN = BIG_MOVE_MAX - BIG_MOVE_MIN
_DRIFT_SPAN = DRIFT_MAX - DRIFT_MIN


@dataclass(frozen=True, slots=True)
class GameOutcome:
    """Everything the seed determines about one game.

    ``prices`` is the PRNG part of the game's price array: it starts with 1.0 and excludes
    the rug price. ``rug_tick == len(prices)`` is the index the rug price takes in the full
    array (the tick of the ``rugged`` event). ``god_candles`` lists the indices into
    ``prices`` of the prices produced by a ×10 god candle (v3 only).
    """

    game_id: str
    version: str
    server_seed: str
    server_seed_hash: str
    prices: tuple[float, ...]
    rug_tick: int
    peak: float
    god_candles: tuple[int, ...]


def seed_hash(server_seed: str) -> str:
    """SHA-256 hex digest of the server seed: the value the site publishes before a game."""
    return hashlib.sha256(server_seed.encode("utf-8")).hexdigest()


def verify_hash(server_seed: str, server_seed_hash: str) -> bool:
    """True iff ``sha256(server_seed)`` equals the published hash (hex, case-insensitive)."""
    return hmac.compare_digest(seed_hash(server_seed), server_seed_hash.strip().lower())


def generate_game(server_seed: str, game_id: str, version: str = "v3") -> GameOutcome:
    """Replay the provably-fair price process of one game (v1, v2 or v3) exactly."""
    if version not in VERSIONS:
        raise ValueError(f"unknown game version {version!r}; expected one of {VERSIONS}")
    v1 = version == "v1"
    v3 = version == "v3"
    rng = SeedRandom(f"{server_seed}-{game_id}")
    buf = rng.doubles(_CHUNK)
    n = len(buf)
    p = 0
    price = START_PRICE
    prices = [price]
    append = prices.append
    god: list[int] = []
    for _ in range(MAX_TICKS):
        if p > n - _MAX_DRAWS_PER_TICK:
            buf = buf[p:] + rng.doubles(_CHUNK)
            n = len(buf)
            p = 0
        if buf[p] < RUG_PROB:
            break
        p += 1
        if v3:
            # The draw happens whatever the price; the price cap is checked only after it.
            g = buf[p]
            p += 1
            if g < GOD_CANDLE_PROB and price <= GOD_CANDLE_MAX_PRICE:
                price = price * GOD_CANDLE_MOVE
                god.append(len(prices))
                append(price)
                continue
        if buf[p] < BIG_MOVE_PROB:
            move = BIG_MOVE_MIN + buf[p + 1] * _BIG_SPAN
            change = move if buf[p + 2] > 0.5 else -move
        else:
            drift = DRIFT_MIN + buf[p + 1] * _DRIFT_SPAN
            root = sqrt(price)
            if v1:
                vol = VOL_BASE * root
            else:
                vol = VOL_BASE * min(root, VOL_SQRT_CAP)
            change = drift + vol * (2 * buf[p + 2] - 1)
        p += 3
        price = price * (1 + change)
        if price < 0:
            price = 0.0
        append(price)
    return GameOutcome(
        game_id=game_id,
        version=version,
        server_seed=server_seed,
        server_seed_hash=seed_hash(server_seed),
        prices=tuple(prices),
        rug_tick=len(prices),
        peak=max(prices),
        god_candles=tuple(god),
    )


def rug_price(prev_price: float, u: float) -> float:
    """The simulator's rug price after ``prev_price``, from a uniform ``u`` in [0, 1).

    This is a simulation choice, not part of the provably-fair process: the site does not
    derive the rug price from the seed. The formula ``0.02 * min(prev, 1) * (0.1 + 0.9 u)``
    follows the recorded rugs (598 games): the rug price never exceeds 2 % of the previous
    price nor 0.02, and is spread below those bounds. It is deterministic in ``u``, strictly
    below 0.02 and strictly below ``prev_price`` whenever that is positive.
    """
    if not 0.0 <= u < 1.0:
        raise ValueError(f"u must be in [0, 1), got {u!r}")
    base = min(1.0, prev_price)
    if base <= 0.0:
        return 0.0
    scale = RUG_PRICE_MIN_SCALE + (1.0 - RUG_PRICE_MIN_SCALE) * u
    return RUG_PRICE_MAX_FRACTION * base * scale
