"""The constants of Rugs.fun: the provably-fair price process and the game rules.

Every number here was checked against captures of the live feed (see DESIGN.md §1 and
``shared/data/README.md``); nothing else in the project hard-codes them.

Price process (the provably-fair PRNG part, ``rugsd.daemon.game.engine``):

- ``RUG_PROB`` — per-tick rug hazard, 0.5 %, drawn *first* on every tick. The public
  verifier page shows 0.011; 0.005 is the value that reproduces live games bit-exactly.
- ``MAX_TICKS`` — the loop runs at most this many ticks, so a game has at most
  ``MAX_TICKS + 1`` PRNG prices (the initial 1.0 included).
- ``START_PRICE`` — every game starts at 1.0x.
- ``GOD_CANDLE_PROB`` / ``GOD_CANDLE_MOVE`` / ``GOD_CANDLE_MAX_PRICE`` — v3 only: with
  probability 1e-5 per tick the price is multiplied by 10, provided it is at most 100x
  (``100 * START_PRICE``).
- ``BIG_MOVE_PROB`` / ``BIG_MOVE_MIN`` / ``BIG_MOVE_MAX`` — with probability 1/8 a tick is
  a "big move" of ±15 %..25 %, the sign a fair coin.
- ``DRIFT_MIN`` / ``DRIFT_MAX`` — otherwise the tick return is a uniform drift in
  [-2 %, +3 %) plus noise.
- ``VOL_BASE`` / ``VOL_SQRT_CAP`` — the noise is ``VOL_BASE * sqrt(price)`` uniform in
  ±that (v1); v2 and v3 cap ``sqrt(price)`` at 10 (i.e. the price at 100x).
- ``RUG_PRICE_MAX_FRACTION`` / ``RUG_PRICE_MIN_SCALE`` — the rug price is *not* from the
  PRNG; the simulator draws it as ``0.02 * min(prev, 1) * (0.1 + 0.9 u)``, matching the
  recorded rugs (never above 2 % of the previous price nor above 0.02).
- ``VERSIONS`` / ``CURRENT_VERSION`` — the algorithm versions the site has published.

Game rules (timing, trading, sidebets):

- ``TICK_MS`` — one game tick is 250 ms.
- ``COOLDOWN_MS`` — between games ``cooldownTimer`` counts 15000 → 0 ms …
- ``COOLDOWN_STEP_MS`` — … in 100 ms steps (one feed event per step).
- ``PRESALE_MS`` — the last 10 s of the cooldown are the presale: ``cooldownTimer`` in
  (0, 10000]. Buys fill at ``PRESALE_PRICE`` (1.0x), sidebets are allowed, no selling.
- ``PRESALE_PRICE`` — the presale fill price, 1.0x.
- ``SIDEBET_WINDOW`` — a sidebet placed at tick s covers ticks up to ``s + 40``; it wins
  iff the rug tick is ≤ that end.
- ``SIDEBET_PAYOUT`` — a winning sidebet pays 5x the stake (profit 4x).
- ``MIN_BET_SOL`` — the smallest buy or sidebet, 0.001 SOL.
- ``LAMPORTS_PER_SOL`` — 1e9; balances are integer lamports.
- ``SELL_PERCENTAGES`` — the only sell sizes the UI offers, percent of the position.
"""

from __future__ import annotations

from typing import Final

# --- price process -----------------------------------------------------------------------
RUG_PROB: Final[float] = 0.005
MAX_TICKS: Final[int] = 5000
START_PRICE: Final[float] = 1.0

GOD_CANDLE_PROB: Final[float] = 0.00001
GOD_CANDLE_MOVE: Final[float] = 10.0
GOD_CANDLE_MAX_PRICE: Final[float] = 100.0 * START_PRICE

BIG_MOVE_PROB: Final[float] = 0.125
BIG_MOVE_MIN: Final[float] = 0.15
BIG_MOVE_MAX: Final[float] = 0.25

DRIFT_MIN: Final[float] = -0.02
DRIFT_MAX: Final[float] = 0.03

VOL_BASE: Final[float] = 0.005
VOL_SQRT_CAP: Final[float] = 10.0

RUG_PRICE_MAX_FRACTION: Final[float] = 0.02
RUG_PRICE_MIN_SCALE: Final[float] = 0.1

VERSIONS: Final[tuple[str, ...]] = ("v1", "v2", "v3")
CURRENT_VERSION: Final[str] = "v3"

# --- timing --------------------------------------------------------------------------------
TICK_MS: Final[int] = 250
COOLDOWN_MS: Final[int] = 15000
COOLDOWN_STEP_MS: Final[int] = 100
PRESALE_MS: Final[int] = 10000
PRESALE_PRICE: Final[float] = 1.0

# --- trading and sidebets ------------------------------------------------------------------
SIDEBET_WINDOW: Final[int] = 40
SIDEBET_PAYOUT: Final[int] = 5
MIN_BET_SOL: Final[float] = 0.001
LAMPORTS_PER_SOL: Final[int] = 1_000_000_000
SELL_PERCENTAGES: Final[tuple[int, ...]] = (10, 25, 50, 100)
