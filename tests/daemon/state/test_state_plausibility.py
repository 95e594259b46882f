"""Plausibility limits: every price path the game's rules can produce passes; absurd
values (1e9, 1e300, NaN, negative, jumps beyond ±25 % / the god candle, rug prices above
2 %, a rug of another game, ticks past the cap) are rejected with a reason."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.config import PlausibilityConfig
from rugsd.daemon.events import FinishedGame, GameUpdate, Phase
from rugsd.daemon.game.engine import generate_game, rug_price
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.plausibility import (
    DEFAULT_LIMITS,
    Implausible,
    PriceLimits,
    check_update,
)

GID = "20251030-00000000000000aa"
OTHER = "20251030-00000000000000bb"


def tick(t: int, p: float, gid: str = GID, **kw) -> GameUpdate:
    return GameUpdate(ts_ms=1000 + t * 250, game_id=gid, active=True, rugged=False,
                      cooldown_ms=0, price=p, tick=t, **kw)


def rug(t: int, p: float, gid: str = GID) -> GameUpdate:
    return GameUpdate(ts_ms=1000 + t * 250, game_id=gid, active=True, rugged=True,
                      cooldown_ms=0, price=p, tick=t)


def machine_at(prices: list[float], gid: str = GID) -> GameStateMachine:
    m = GameStateMachine()
    m.apply(GameUpdate(ts_ms=0, game_id=gid, active=False, rugged=False, cooldown_ms=5000,
                       allow_prebuys=True))
    for t, p in enumerate(prices):
        m.apply(tick(t, p, gid))
    return m


def reason(update: GameUpdate, m: GameStateMachine, exposure: str | None = None):
    rejected = check_update(update, m.view, DEFAULT_LIMITS, exposure)
    return None if rejected is None else rejected.reason


def test_defaults_are_the_config_defaults() -> None:
    assert PriceLimits.from_config(PlausibilityConfig()) == DEFAULT_LIMITS


@pytest.mark.parametrize(("price", "why"), [
    (1e9, Implausible.PRICE_ABOVE_MAX), (1e300, Implausible.PRICE_ABOVE_MAX),
    (math.inf, Implausible.PRICE_NOT_FINITE), (math.nan, Implausible.PRICE_NOT_FINITE),
    (-1.0, Implausible.PRICE_NOT_POSITIVE), (0.0, Implausible.PRICE_NOT_POSITIVE),
    (0.7, Implausible.JUMP_DOWN),
])
def test_absurd_next_ticks_are_rejected(price: float, why: Implausible) -> None:
    m = machine_at([1.0, 1.01, 1.02])
    assert reason(tick(3, price), m) is why


def test_a_jump_beyond_a_big_move_is_rejected_where_no_god_candle_can_be() -> None:
    m = machine_at([1.0])
    for t in range(1, 30):
        m.apply(tick(t, 1.2 ** t))  # above 100: a x10 candle is no longer possible
    assert reason(tick(30, m.view.price * 1.24), m) is None
    assert reason(tick(30, m.view.price * 1.3), m) is Implausible.JUMP_UP


def test_a_god_candle_passes_only_from_a_price_up_to_100() -> None:
    low = machine_at([1.0, 1.1])
    assert reason(tick(2, 11.0), low) is None
    high = machine_at([1.0])
    for t in range(1, 30):
        high.apply(tick(t, 1.2 ** t))  # 1.2^29 ~ 198
    assert high.view.price > 100
    assert reason(tick(30, high.view.price * 10), high) is Implausible.JUMP_UP


def test_a_gap_compounds_the_allowed_move_and_checks_the_partial_prices() -> None:
    m = machine_at([1.0, 1.1])
    assert reason(tick(4, 1.1 * 1.2 ** 3), m) is None  # 3 ticks later: allowed
    assert reason(tick(4, 1.1 * 1.3 ** 3 * 10), m) is Implausible.JUMP_UP
    bad_gap = tick(4, 1.3, partial_prices=((2, 1.2), (3, 9e6)))
    assert reason(bad_gap, m) is Implausible.GAP_PRICE


def test_a_backfill_with_an_absurd_value_is_rejected() -> None:
    m = GameStateMachine()
    join = tick(3, 1.1, backfill=(1.0, 1.05, 1e9, 1.1))
    assert reason(join, m) is Implausible.GAP_PRICE
    assert reason(tick(3, 1.1, backfill=(1.0, 1.05, 1.08, 1.1)), m) is None


def test_ticks_past_the_cap_are_rejected() -> None:
    m = machine_at([1.0])
    assert reason(tick(5002, 1.0), m) is Implausible.TICK_OUT_OF_RANGE


def test_rug_prices_are_bounded_by_two_percent_of_the_previous_price() -> None:
    m = machine_at([1.0, 0.5])
    assert reason(rug(2, 0.5 * 0.02 * 0.99), m) is None
    assert reason(rug(2, 0.5 * 0.03), m) is Implausible.RUG_PRICE
    assert reason(rug(2, 1e9), m) is Implausible.PRICE_ABOVE_MAX
    high = machine_at([1.0, 1.2, 1.44])
    assert reason(rug(3, 0.0199), high) is None
    assert reason(rug(3, 0.03), high) is Implausible.RUG_PRICE  # 0.02 absolute cap


def test_a_rug_of_another_game_is_rejected_unless_our_exposure_is_in_it() -> None:
    m = machine_at([1.0, 1.1, 1.2])
    assert reason(rug(5, 0.001, OTHER), m) is Implausible.RUG_OTHER_GAME
    # after a restart the first event may be the rug of the game we still hold
    fresh = GameStateMachine()
    assert reason(rug(5, 0.001, OTHER), fresh, exposure=OTHER) is None
    assert reason(rug(5, 0.5, OTHER), fresh, exposure=OTHER) is Implausible.RUG_PRICE


def test_cooldown_and_presale_updates_are_not_checked() -> None:
    m = machine_at([1.0, 1.1])
    m.apply(rug(2, 0.001))
    update = GameUpdate(ts_ms=2000, game_id=OTHER, active=False, rugged=False,
                        cooldown_ms=15000, price=1e300)
    assert reason(update, m) is None


def _presale(gid: str, ts_ms: int, **kw) -> GameUpdate:
    return GameUpdate(ts_ms=ts_ms, game_id=gid, active=False, rugged=False, cooldown_ms=5000,
                      allow_prebuys=True, **kw)


@pytest.mark.parametrize("phase", ["cooldown", "presale", "active"])
def test_another_game_before_the_tracked_games_rug_is_rejected(phase: str) -> None:
    m = GameStateMachine()
    m.apply(GameUpdate(ts_ms=0, game_id=GID, active=False, rugged=False, cooldown_ms=15000))
    if phase != "cooldown":
        m.apply(_presale(GID, 100))
    if phase == "active":
        for t, p in enumerate([1.0, 1.1, 1.2]):
            m.apply(tick(t, p))
    assert m.view.phase.value == phase
    now = m.view.ts_ms + 10
    assert reason(_presale(OTHER, now), m) is Implausible.OTHER_GAME
    assert reason(replace(tick(3, 1.2, OTHER), ts_ms=now), m) is Implausible.OTHER_GAME
    assert reason(replace(tick(3, 1.2), ts_ms=now), m) is None  # its own game: fine


def test_a_game_switch_is_believed_after_a_gap_after_the_rug_or_with_the_game_in_history(
) -> None:
    m = machine_at([1.0, 1.1, 1.2])
    last = m.view.ts_ms
    limits = DEFAULT_LIMITS
    # a gap of the feed's stale threshold: the rug may have been missed (a reconnect)
    assert reason(_presale(OTHER, last + limits.switch_gap_ms), m) is None
    assert reason(_presale(OTHER, last + limits.switch_gap_ms - 1), m) is Implausible.OTHER_GAME
    # a snapshot whose gameHistory holds the tracked game: it ended
    ended = FinishedGame(GID, None, 1.2, True, "v3", (1.0, 1.1, 1.2, 0.001), None, None)
    assert reason(_presale(OTHER, last + 1, history=(ended,)), m) is None
    # after the rug the next game id is the normal case, first seen in its cooldown
    m.apply(rug(3, 0.001))
    after = m.view.ts_ms + 1
    cooldown = GameUpdate(ts_ms=after, game_id=OTHER, active=False, rugged=False,
                          cooldown_ms=14900)
    assert reason(cooldown, m) is None
    # a next game first seen in presale or active right after the rug skipped its cooldown
    assert reason(_presale(OTHER, after), m) is Implausible.OTHER_GAME
    assert reason(replace(tick(3, 1.2, OTHER), ts_ms=after), m) is Implausible.OTHER_GAME
    assert reason(_presale(OTHER, after + limits.switch_gap_ms), m) is None
    assert PriceLimits.from_config(PlausibilityConfig(), 5.0).switch_gap_ms == 5000


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**9), st.sampled_from(["v2", "v3"]))
def test_every_game_the_engine_generates_is_plausible(seed: int, version: str) -> None:
    # the bounds come from the rules: a real price path is never rejected (v1's volatility
    # grows without bound with the price; current games are v3)
    gid = f"20251030-{seed:016x}"
    outcome = generate_game(f"plausible-{seed}", gid, version=version)
    prices = list(outcome.prices)
    m = GameStateMachine()
    m.apply(GameUpdate(ts_ms=0, game_id=gid, active=False, rugged=False, cooldown_ms=5000,
                       allow_prebuys=True))
    for t, p in enumerate(prices):
        update = tick(t, p, gid)
        assert reason(update, m) is None, (t, m.view.price, p)
        m.apply(update)
    final = rug(len(prices), rug_price(prices[-1], random.Random(seed).random()), gid)
    assert reason(final, m) is None
    assert m.view.phase is Phase.ACTIVE
