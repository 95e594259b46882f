"""Plausibility of feed values against the game's rules: absurd values are bad input.

The price process (DESIGN.md §1) bounds what an honest feed can say: a price is finite,
positive and far below ``max_price``; a game has at most ``max_tick`` ticks; between two
ticks the price moves by at most ``max_move_per_tick`` (a big move, ±25 %) — or ×10 in a
god candle, only from a price <= 100; the rug price is at most 2 % of the previous price
and at most 0.02. A rug belongs to the game being tracked (or to the game our exposure
is in): a rug of any other game id must not settle anything.

One game at a time: a game's id stays the same from its cooldown through presale to its
rug, and the next id appears only after that rug, first in its cooldown. An update of
another game id while the tracked game has not rugged, or one first seen in presale or
active right after the rug (``other_game``), is therefore believed only when the feed
had a gap first — no update for ``switch_gap_ms``, the feed's stale threshold: a
reconnect, a restart of the venue — or when the update's ``gameHistory`` shows the
tracked game ended (a reconnect's snapshot). Otherwise one interleaved frame of an
unknown game would leave the real game (its open position written off as the exposure
of an ended game) or open a position in a game that does not exist.

``check_update`` is pure and runs on every game update before the state machine sees
it: a rejected update changes nothing (no tick, no fill, no mark, no feed freshness); the
caller counts it by reason and logs one line. Across a gap of ``k`` ticks the allowed
move compounds, so a feed that skipped ticks is never rejected for being late.

The common case — the next tick of the tracked game — costs a few comparisons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.game.rules import (
    BIG_MOVE_MAX,
    GOD_CANDLE_MAX_PRICE,
    GOD_CANDLE_MOVE,
    MAX_TICKS,
    RUG_PRICE_MAX_FRACTION,
    START_PRICE,
)
from rugsd.daemon.state.machine import classify
from rugsd.daemon.state.view import GameView

if TYPE_CHECKING:
    from rugsd.daemon.config import PlausibilityConfig

MAX_GAP_POWER = 1000  # beyond this many ticks a compounded bound means nothing anyway


class Implausible(StrEnum):
    """Why an update was rejected (counted as ``implausible_<value>``)."""

    PRICE_NOT_FINITE = "price_not_finite"
    PRICE_NOT_POSITIVE = "price_not_positive"
    PRICE_ABOVE_MAX = "price_above_max"
    TICK_OUT_OF_RANGE = "tick_out_of_range"
    JUMP_UP = "jump_up"
    JUMP_DOWN = "jump_down"
    GAP_PRICE = "gap_price"  # a partialPrices / backfill value the rules cannot produce
    RUG_PRICE = "rug_price"
    RUG_OTHER_GAME = "rug_other_game"
    OTHER_GAME = "other_game"  # another game id before the tracked game's rug


@dataclass(frozen=True, slots=True)
class PriceLimits:
    """The bounds; defaults are the game's rules (``rugsd.daemon.game.rules``)."""

    max_price: float = 100_000.0
    max_tick: int = MAX_TICKS + 1
    max_move_per_tick: float = BIG_MOVE_MAX
    god_candle_factor: float = GOD_CANDLE_MOVE
    god_candle_max_price: float = GOD_CANDLE_MAX_PRICE
    rug_max_fraction: float = RUG_PRICE_MAX_FRACTION
    tolerance: float = 0.01
    switch_gap_ms: int = 2000  # feed.stale_after_s: a gap that makes a game switch believable

    @classmethod
    def from_config(cls, cfg: PlausibilityConfig, stale_after_s: float = 2.0) -> PriceLimits:
        """The limits of the ``[plausibility]`` config section (and ``feed.stale_after_s``)."""
        return cls(
            max_price=cfg.max_price,
            max_tick=cfg.max_tick,
            max_move_per_tick=cfg.max_move_per_tick,
            god_candle_factor=cfg.god_candle_factor,
            god_candle_max_price=cfg.god_candle_max_price,
            rug_max_fraction=cfg.rug_max_fraction,
            tolerance=cfg.tolerance,
            switch_gap_ms=round(stale_after_s * 1000),
        )

    def move_bounds(self, prev: float, k: int) -> tuple[float, float]:
        """The lowest and highest price ``k >= 1`` ticks after a price ``prev``."""
        up, down = 1.0 + self.max_move_per_tick, 1.0 - self.max_move_per_tick
        first = up
        if prev <= self.god_candle_max_price and self.god_candle_factor > up:
            first = self.god_candle_factor
        k = min(k, MAX_GAP_POWER)
        slack = self.tolerance
        if k == 1:
            return prev * down * (1.0 - slack), prev * first * (1.0 + slack)
        return (prev * down**k * (1.0 - slack),
                prev * first * up ** (k - 1) * (1.0 + slack))

    def rug_bound(self, prev: float, k: int) -> float:
        """The highest rug price ``k >= 1`` ticks after a price ``prev``."""
        reach = self.move_bounds(prev, k - 1)[1] if k > 1 else prev
        return self.rug_max_fraction * min(START_PRICE, reach) * (1.0 + self.tolerance)


DEFAULT_LIMITS = PriceLimits()


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected update: the reason code and a short human detail."""

    reason: Implausible
    detail: str


def _price_problem(p: float, limits: PriceLimits, positive: bool) -> Implausible | None:
    if not math.isfinite(p):
        return Implausible.PRICE_NOT_FINITE
    if p < 0.0 or (positive and p == 0.0):
        return Implausible.PRICE_NOT_POSITIVE
    if p > limits.max_price:
        return Implausible.PRICE_ABOVE_MAX
    return None


def check_update(
    update: GameUpdate,
    view: GameView,
    limits: PriceLimits,
    exposure_game: str | None = None,
) -> Rejection | None:
    """None when ``update`` is plausible after ``view``; else why it is not."""
    if not (update.active or update.rugged):
        # cooldown / presale updates carry no price anything is settled at
        return None if update.game_id == view.game_id else _switch_problem(update, view, limits)
    p, t = update.price, update.tick
    if t is not None and not 0 <= t <= limits.max_tick:
        return Rejection(Implausible.TICK_OUT_OF_RANGE, f"tick {t} > {limits.max_tick}")
    if p is not None:
        problem = _price_problem(p, limits, positive=not update.rugged)
        if problem is not None:
            return Rejection(problem, f"price {p!r} at tick {t}")
    same = update.game_id == view.game_id
    if update.rugged:
        return _check_rug(update, view, limits, same, exposure_game)
    if p is None or t is None:
        return None  # the state machine counts it as an invalid update
    if update.backfill:
        bad = _bad_sequence(update.backfill, limits)
        if bad is not None:
            return Rejection(Implausible.GAP_PRICE, f"backfill {bad}")
    if not same:  # first sight of a game: the absolute bounds, and one game at a time
        return _switch_problem(update, view, limits)
    prev, last = _reference(view)
    if prev is None or t <= last:
        return None  # nothing to compare with, or an old tick the machine ignores
    if t - last > 1 and update.partial_prices:
        bad = _bad_gap(update.partial_prices, prev, last, t, limits)
        if bad is not None:
            return Rejection(Implausible.GAP_PRICE, f"partialPrices {bad}")
    lo, hi = limits.move_bounds(prev, t - last)
    if p > hi:
        return Rejection(Implausible.JUMP_UP, f"{prev:g} -> {p:g} in {t - last} tick(s)")
    if p < lo:
        return Rejection(Implausible.JUMP_DOWN, f"{prev:g} -> {p:g} in {t - last} tick(s)")
    return None


_BEFORE_RUG = (Phase.COOLDOWN, Phase.PRESALE, Phase.ACTIVE)


def _switch_problem(update: GameUpdate, view: GameView, limits: PriceLimits) -> Rejection | None:
    """A new game id (not a rug) with no gap and no sign the tracked game ended: before
    the tracked game's rug; or after it, first seen past its cooldown (a next game is
    first seen in its cooldown)."""
    tracked = view.game_id
    if tracked is None:
        return None
    if view.phase not in _BEFORE_RUG and (
        view.phase is not Phase.RUGGED or classify(update) is Phase.COOLDOWN
    ):
        return None
    if update.ts_ms - view.ts_ms >= limits.switch_gap_ms:
        return None  # the feed had a gap: the rug may have been missed
    if any(game.game_id == tracked for game in update.history):
        return None  # the update's gameHistory says the tracked game ended
    return Rejection(Implausible.OTHER_GAME,
                     f"{update.game_id} while {tracked} has not rugged ({view.phase} "
                     f"tick {view.tick}, {update.ts_ms - view.ts_ms} ms after its last update)")


def _reference(view: GameView) -> tuple[float | None, int]:
    """The last known price of the tracked game and its tick (tick 0 is 1.0 by rule)."""
    if view.phase is Phase.ACTIVE and view.tick >= 0:
        return view.price, view.tick
    if view.phase in (Phase.COOLDOWN, Phase.PRESALE):
        return START_PRICE, 0
    return None, 0


def _check_rug(
    update: GameUpdate,
    view: GameView,
    limits: PriceLimits,
    same: bool,
    exposure_game: str | None,
) -> Rejection | None:
    if not same and update.game_id != exposure_game:
        return Rejection(
            Implausible.RUG_OTHER_GAME,
            f"rug of {update.game_id} while tracking {view.game_id}",
        )
    p = update.price
    if p is None:
        return None
    prev, last = _reference(view) if same else (None, 0)
    if prev is None:  # a rug we did not watch: only the absolute bound of a rug price
        bound = limits.rug_bound(START_PRICE, 1)
    else:
        t = update.tick if update.tick is not None and update.tick > last else last + 1
        bound = limits.rug_bound(prev, t - last)
    if p > bound:
        return Rejection(Implausible.RUG_PRICE, f"rug price {p:g} > {bound:g}")
    return None


def _bad_sequence(values: tuple[float, ...], limits: PriceLimits) -> str | None:
    """A consecutive price array (tick 0 first): every value and every step plausible."""
    prev: float | None = None
    for i, v in enumerate(values):
        if _price_problem(v, limits, positive=True) is not None:
            return f"tick {i} price {v!r}"
        if prev is not None:
            lo, hi = limits.move_bounds(prev, 1)
            if not lo <= v <= hi:
                return f"tick {i}: {prev:g} -> {v:g}"
        prev = v
    return None


def _bad_gap(
    partial: tuple[tuple[int, float], ...],
    prev: float,
    last: int,
    tick: int,
    limits: PriceLimits,
) -> str | None:
    """The partialPrices values that fill the gap ``(last, tick)`` after ``prev``."""
    for k, v in partial:
        if not last < k < tick:
            continue
        if _price_problem(v, limits, positive=True) is not None:
            return f"tick {k} price {v!r}"
        lo, hi = limits.move_bounds(prev, k - last)
        if not lo <= v <= hi:
            return f"tick {k}: {prev:g} -> {v:g}"
        prev, last = v, k
    return None
