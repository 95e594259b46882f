"""A position from a game whose rug was never seen is settled as the venue settled it."""

from __future__ import annotations

from dataclasses import replace

from core_helpers import (
    START_MS,
    ScriptedStrategy,
    buy_then_hold,
    game_with_prices,
    ledger_identity_holds,
    make_test_core,
)

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game.accounting import FillKind, value_of
from rugsd.daemon.journal.records import FillRecord, RiskEvent
from rugsd.daemon.state.plausibility import PriceLimits
from rugsd.training.episodes import game_events, history_for, next_start_ms

SWITCH_GAP_MS = PriceLimits().switch_gap_ms  # the feed's stale threshold


def _two_games():
    a = game_with_prices("20251030-00000000000000a1", [1.0, 1.1, 1.2, 1.3, 1.25], START_MS,
                         rug=0.004)
    b = game_with_prices("20251030-00000000000000b2", [1.0, 0.9, 0.95], next_start_ms(a))
    return a, b


def _active_part(events: list[GameUpdate]) -> list[GameUpdate]:
    """Game A's events up to (not including) its rug: the rug event is 'missed'."""
    return [e for e in events if not e.rugged]


def test_missed_rug_is_settled_at_the_revealed_rug_price() -> None:
    # Arrange: buy in A's presale and hold; A's rug event never arrives
    a, b = _two_games()
    core = make_test_core(ScriptedStrategy(buy_then_hold()))
    for event in _active_part(game_events(a)):
        core.step(event)
    held = core.account
    assert held.qty > 0
    # Act: B's first event carries A in gameHistory (the seed and prices revealed)
    records = []
    for event in game_events(b, history_for([a]))[:1]:
        records += core.step(event).records
    # Assert: A's position was force-sold at A's rug price, as the venue did
    rug_sells = [r for r in records if isinstance(r, FillRecord) and r.kind == FillKind.RUG_SELL]
    assert len(rug_sells) == 1
    sale = rug_sells[0]
    assert sale.game_id == a.game_id and sale.price == 0.004
    assert sale.amount == value_of(held.qty, 0.004)
    assert core.account.qty == 0 and ledger_identity_holds(core.account)
    assert core.stats["orphan_settled_revealed"] == 1


def test_missed_rug_without_history_waits_one_game_then_values_the_position_at_zero() -> None:
    # Arrange
    a, b = _two_games()
    c = game_with_prices("20251030-00000000000000c3", [1.0, 1.05], next_start_ms(b))
    strategy = ScriptedStrategy(buy_then_hold())
    core = make_test_core(strategy)
    for event in _active_part(game_events(a)):
        core.step(event)
    cost = core.account.cost
    calls = len(strategy.calls)
    # Act 1: B arrives with no gameHistory at all (A's outcome unknown so far)
    pending = []
    for event in game_events(b):
        pending += core.step(replace(event, history=())).records
    # Assert 1: A's position is kept, B is not traded (the position belongs to A) and the
    # wait is journaled once
    assert core.account.qty > 0 and core.account.cost == cost
    assert len(strategy.calls) == calls
    waits = [r for r in pending if isinstance(r, RiskEvent) and r.reason == "orphan_pending"]
    assert len(waits) == 1 and a.game_id in waits[0].detail
    assert not [r for r in pending if isinstance(r, FillRecord)]
    # Act 2: the next game begins, still without A in any history
    settled = core.step(replace(game_events(c)[0], history=())).records
    # Assert 2: flat, the whole cost realised as a loss, counted and journaled with how
    assert core.account.qty == 0
    assert core.account.realised == -cost
    assert core.stats["orphan_settled_unknown"] == 1
    assert ledger_identity_holds(core.account)
    how = [r for r in settled if isinstance(r, RiskEvent) and r.reason == "orphan_settled"]
    assert len(how) == 1 and "valued at 0" in how[0].detail
    assert core.orphan_report is not None and core.orphan_report.how == "unknown"


def test_a_history_without_the_game_settles_it_at_zero_at_once() -> None:
    # Arrange: hold A's position; after a feed gap (A's rug was missed in it: without a
    # gap another game id is not believed, docs/reliability.md "one game at a time"),
    # B's first event carries a history that lacks A
    a, b = _two_games()
    older = game_with_prices("20251030-0000000000000099", [1.0, 1.1], START_MS - 10**6)
    core = make_test_core(ScriptedStrategy(buy_then_hold()))
    for event in _active_part(game_events(a)):
        core.step(event)
    first = game_events(b, history_for([older]))[0]
    after_gap = max(first.ts_ms, core.view.ts_ms + SWITCH_GAP_MS)
    # Act
    core.step(replace(first, ts_ms=after_gap))
    # Assert
    assert core.account.qty == 0
    assert core.stats["orphan_settled_unknown"] == 1


def test_a_position_restored_in_the_same_game_is_not_settled() -> None:
    # Arrange: the core restarts mid-game A holding A's position (exposure_game = A)
    a, _ = _two_games()
    first = make_test_core(ScriptedStrategy(buy_then_hold()))
    events = game_events(a)
    for event in events[:-3]:
        first.step(event)
    restored = make_test_core(ScriptedStrategy(buy_then_hold()))
    restored.account = first.account
    restored.exposure_game = a.game_id
    # Act: the rest of game A, rug included
    records = []
    for event in events[-3:]:
        records += restored.step(event).records
    # Assert: settled once, by the real rug, not as an orphan
    assert restored.stats["orphan_settled_revealed"] == 0
    assert restored.stats["orphan_settled_unknown"] == 0
    assert [r.kind for r in records if isinstance(r, FillRecord)] == [FillKind.RUG_SELL]
