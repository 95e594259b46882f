"""Session statistics over the simulator's finished games.

The real feed's meaning of these fields is not documented; the simulator fills them with
plausible session values: ``averageMultiplier`` is the mean peak of the session's finished
games (0 before the first), ``count2x..count100x`` count finished games whose peak reached
that multiple, ``rugpool.instarugCount`` counts games that rugged within
``INSTARUG_TICKS`` ticks (modulo ``RUGPOOL_THRESHOLD``; ``rugpoolAmount`` stays 0),
``highestToday*`` is the session's best game and ``godCandle{2,10,50}x*`` the latest game
with a god candle whose peak falls in that bucket (``MassiveJump`` = price before/after).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rugsd.daemon.sim.schedule import GamePlan

RUGPOOL_THRESHOLD = 10
INSTARUG_TICKS = 10
GOD_CANDLE_BUCKETS = (2, 10, 50)


@dataclass(frozen=True, slots=True)
class SessionTotals:
    """Room-wide statistics over the session's finished games."""

    games: int = 0
    peak_sum: float = 0.0
    count2x: int = 0
    count10x: int = 0
    count50x: int = 0
    count100x: int = 0
    instarugs: int = 0
    # the best game so far: (peak, timestamp, game id, server seed)
    highest: tuple[float, int, str, str] | None = None
    # bucket -> (peak, timestamp, game id, server seed, [price before, price after])
    god_candles: dict[int, tuple[float, int, str, str, list[float]]] = field(default_factory=dict)

    def average(self) -> float:
        """Mean peak multiplier (0.0 before the first finished game)."""
        return self.peak_sum / self.games if self.games else 0.0


def add_game(t: SessionTotals, plan: GamePlan) -> SessionTotals:
    """Session totals after the finished game ``plan``."""
    o = plan.outcome
    peak = o.peak
    highest = t.highest
    if highest is None or peak > highest[0]:
        highest = (peak, plan.rug_ms, o.game_id, o.server_seed)
    god = dict(t.god_candles)
    if o.god_candles:
        i = o.god_candles[0]
        bucket = max(b for b in GOD_CANDLE_BUCKETS if peak >= b or b == GOD_CANDLE_BUCKETS[0])
        god[bucket] = (peak, plan.rug_ms, o.game_id, o.server_seed, [o.prices[i - 1], o.prices[i]])
    return replace(
        t,
        games=t.games + 1,
        peak_sum=t.peak_sum + peak,
        count2x=t.count2x + (peak >= 2),
        count10x=t.count10x + (peak >= 10),
        count50x=t.count50x + (peak >= 50),
        count100x=t.count100x + (peak >= 100),
        instarugs=t.instarugs + (o.rug_tick <= INSTARUG_TICKS),
        highest=highest,
        god_candles=god,
    )
