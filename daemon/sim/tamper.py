"""A cheating simulator, for tests of the venue-integrity audit (``rugsd sim --tamper``).

Each mode rewrites every game's plan after the honest seed decided it, so the lie is
consistent everywhere the game shows up (live ticks, ``partialPrices``, the mid-game
``prices`` backfill and the ``gameHistory`` record), as a careful cheat would make it:

- ``price`` — one tick's price is off by 0.1 % (the middle tick; tick 0 when the game
  rugs at tick 1): the seed gives another double there → ``path_mismatch``;
- ``seed`` — the hash published before the game is the hash of a decoy seed; the game is
  played from, and reveals, the real one → ``hash_mismatch``;
- ``late-rug`` — the game runs ``LATE_TICKS`` ticks past the tick where the seed rugs it
  → ``path_mismatch`` at the seed's rug tick.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from enum import StrEnum

from rugsd.daemon.game.engine import seed_hash
from rugsd.daemon.sim.schedule import GamePlan

PRICE_OFF = 1e-3  # the tampered tick shows price * (1 + PRICE_OFF)
LATE_TICKS = 3  # extra ticks before a late rug
LATE_DRIFT = 0.005  # each extra tick: price * (1 + LATE_DRIFT)


class Tamper(StrEnum):
    """How the simulator breaks its provably-fair promise."""

    PRICE = "price"
    SEED = "seed"
    LATE_RUG = "late-rug"


def tamper_plan(plan: GamePlan, mode: Tamper | str | None) -> GamePlan:
    """``plan`` with the cheat of ``mode`` applied (unchanged for None)."""
    if mode is None:
        return plan
    mode = Tamper(mode)
    o = plan.outcome
    if mode is Tamper.SEED:
        decoy = hashlib.sha256(f"{o.server_seed}:decoy".encode()).hexdigest()
        return replace(plan, outcome=replace(o, server_seed_hash=seed_hash(decoy)))
    prices = list(o.prices)
    if mode is Tamper.PRICE:
        k = len(prices) // 2 if len(prices) >= 2 else 0
        prices[k] = prices[k] * (1 + PRICE_OFF)
    else:
        for _ in range(LATE_TICKS):
            prices.append(prices[-1] * (1 + LATE_DRIFT))
    outcome = replace(o, prices=tuple(prices), rug_tick=len(prices), peak=max(prices))
    return replace(plan, outcome=outcome)
