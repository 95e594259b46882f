"""Hostile feed values through the whole core: absurd prices are bad input (counted, no
state change), never a fill, a mark or a kill; a rug of a game that is not ours settles
nothing (issue 10, defect 5)."""

from __future__ import annotations

import math
from dataclasses import replace

from core_helpers import (
    START_MS,
    ScriptedStrategy,
    events_of,
    fills_of,
    game_with_prices,
    make_test_core,
)

from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.core.inputs import ClockTick
from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.game.accounting import Account, sol_to_lamports
from rugsd.daemon.journal.records import FillRecord, KillEvent
from rugsd.daemon.state.view import GameView
from rugsd.risk.states import TradingState
from rugsd.strategy.intents import WAIT, Action, Intent

GID = "20251030-00000000000000c1"


def take_profit(view: GameView, acct: Account) -> Intent:
    """Buy in presale; sell everything as soon as the price doubles."""
    if view.phase is Phase.PRESALE and acct.qty == 0:
        return Intent(Action.BUY, amount=sol_to_lamports(0.01), source="test")
    if view.phase is Phase.ACTIVE and acct.qty and view.price >= 2.0:
        return Intent(Action.SELL, percentage=100, source="test")
    return WAIT


def _holding(n_ticks: int = 40) -> tuple[DecisionCore, list[GameUpdate], list[GameUpdate]]:
    """A core holding a presale position at tick 10 of a flat game; the rest of it."""
    game = game_with_prices(GID, [1.0 + 0.001 * t for t in range(n_ticks)], START_MS)
    core = make_test_core(ScriptedStrategy(take_profit),
                          risk_overrides={"max_drawdown_sol": 0.05})
    events = events_of([game])
    split = next(i for i, e in enumerate(events) if e.active and e.tick == 10)
    for event in events[:split + 1]:
        core.step(event)
    assert core.account.qty > 0
    return core, events[:split + 1], events[split + 1:]


def _spike(after: GameUpdate, price: float, ticks: int = 1) -> GameUpdate:
    return replace(after, ts_ms=after.ts_ms + 100, tick=after.tick + ticks, price=price)


def test_absurd_prices_never_fill_mark_or_kill() -> None:
    core, seen, rest = _holding()
    account, figures = core.account, core.figures
    last = seen[-1]

    records = []
    notices = []
    for price in (1e9, 1e9, 1e300, math.nan, -3.0, math.inf, last.price * 40):
        out = core.step(_spike(last, price))
        records += out.records
        notices += out.notices

    # nothing happened: no record at all, same account, same loss figures, ACTIVE
    assert records == []
    assert core.account == account and core.figures == figures
    assert core.view.tick == last.tick and core.view.price == last.price
    assert core.trading_state is TradingState.ACTIVE
    assert {k: v for k, v in core.stats.items() if k.startswith("implausible_")} == {
        "implausible_price_above_max": 3, "implausible_price_not_finite": 2,
        "implausible_price_not_positive": 1, "implausible_jump_up": 1}
    assert len(notices) == 7 and {n.kind for n in notices} == {"implausible"}
    # the real game goes on and settles normally
    after = [r for e in rest for r in core.step(e).records]
    assert any(isinstance(r, FillRecord) and r.kind == "rug_sell" for r in after)
    assert not any(isinstance(r, KillEvent) for r in after)


def test_a_single_spike_causes_no_false_drawdown_kill() -> None:
    # before: one tick at 1e4 marked the position up, the next real tick was a "drawdown"
    core, seen, rest = _holding()
    core.step(_spike(seen[-1], 1e4))
    records = [r for e in rest[:5] for r in core.step(e).records]
    assert core.trading_state is TradingState.ACTIVE
    assert not any(isinstance(r, KillEvent) for r in records)
    assert core.figures.peak_equity < sol_to_lamports(10.01)


def test_a_rug_of_a_never_seen_game_does_not_settle_our_position() -> None:
    core, seen, rest = _holding()
    account = core.account
    fake = GameUpdate(ts_ms=seen[-1].ts_ms + 50, game_id="20251030-00000000000000ff",
                      active=True, rugged=True, cooldown_ms=0, price=1e6, tick=3)
    cheap_fake = replace(fake, price=0.001)

    out = [core.step(fake), core.step(cheap_fake)]

    assert all(o.records == [] for o in out)
    assert core.account == account
    assert core.view.game_id == GID
    assert core.stats["implausible_rug_other_game"] == 1
    assert core.stats["implausible_price_above_max"] == 1
    # the real game's own rug still settles the position, at the real rug price
    fills = fills_of([r for e in rest for r in core.step(e).records])
    assert [f[0] for f in fills] == ["rug_sell"]


def test_an_interleaved_update_of_an_unknown_game_neither_trades_nor_drops_our_position(
) -> None:
    # found by the reliability suite's hostile feed: one frame of an unknown game id
    # mid-game made the real game "end" (its open position written off as the exposure
    # of an ended game, -0.01 SOL each time) and a fake presale bought into a game that
    # does not exist
    core, seen, rest = _holding()
    account = core.account
    last = seen[-1]
    fake_active = replace(last, ts_ms=last.ts_ms + 5, game_id="20251030-00000000000000fe",
                          tick=last.tick + 1)
    fake_presale = GameUpdate(ts_ms=last.ts_ms + 10, game_id="20251030-00000000000000fd",
                              active=False, rugged=False, cooldown_ms=5000,
                              allow_prebuys=True, price=1.0, tick=0)

    out = [core.step(fake_active), core.step(fake_presale)]

    assert all(o.records == [] and o.orders == [] for o in out)
    assert core.account == account
    assert core.view.game_id == GID and core.view.tick == last.tick
    assert core.stats["implausible_other_game"] == 2
    # the real game goes on: the position is sold by the strategy or settled at its rug
    records = [r for e in rest for r in core.step(e).records]
    assert not any(r.game_id != GID for r in records if isinstance(r, FillRecord))
    assert any(isinstance(r, FillRecord) for r in records)


def test_a_feed_of_only_absurd_values_goes_stale_and_halts() -> None:
    # rejected updates do not count as a fresh feed: a garbage-only feed halts trading
    core, seen, _ = _holding()
    t = seen[-1].ts_ms
    for k in range(1, 40):
        core.step(replace(seen[-1], ts_ms=t + 100 * k, tick=seen[-1].tick + 1, price=1e9))
    core.step(ClockTick(t + 4000))
    assert core.trading_state is TradingState.HALTED
    assert core.risk.feed_stale
