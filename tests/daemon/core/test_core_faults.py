"""The failure policy inside the decision core (docs/reliability.md): a strategy that
raises holds that decision (WAIT, counted, journaled); any other exception in a step
keeps the step's records — a KillEvent among them — and turns KILLED; a ``Fault`` from
the shell kills at once and stops paper money that has no durable record; holding paper
orders until their intent is journaled gives the very same record stream."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from core_helpers import (
    START_MS,
    ScriptedStrategy,
    always,
    buy_then_hold,
    events_of,
    fills_of,
    game_with_prices,
    limits,
    make_test_core,
    random_rule,
    sim_games,
)

from rugsd.daemon.core.decision import DecisionCore, StepOutput
from rugsd.daemon.core.inputs import (
    Fault,
    FaultCleared,
    FaultKind,
    OperatorAction,
    OperatorInput,
    ReleaseOrder,
)
from rugsd.daemon.events import GameUpdate
from rugsd.daemon.game.accounting import sol_to_lamports
from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    KillEvent,
    OrderRecord,
    RiskEvent,
)
from rugsd.risk.states import TradingState
from rugsd.strategy.base import Decision
from rugsd.strategy.intents import WAIT, Action, Intent

BUY = Intent(Action.BUY, amount=sol_to_lamports(0.001), source="test:buy")
NO_RATE_LIMIT = {"max_orders_per_minute": 10_000}


def _rising(n: int = 60, gid: str = "20251030-00000000000000f1"):
    return game_with_prices(gid, [1.0 + 0.002 * t for t in range(n)], START_MS)


class BrokenBuilder:
    """A feature builder with a bug: every build raises."""

    def build(self, view, account, commitments=None):
        raise ZeroDivisionError("feature bug")


class FlakyStrategy:
    """Raises on the calls listed in ``fail_on`` (1-based), else answers ``intent``."""

    name = "flaky"

    def __init__(self, intent: Intent, fail_on: set[int], garbage: bool = False) -> None:
        self.intent = intent
        self.fail_on = fail_on
        self.garbage = garbage
        self.calls = 0

    def decide(self, view, account, features=None) -> Decision:
        self.calls += 1
        if self.calls in self.fail_on:
            if self.garbage:
                return Decision("buy everything")  # type: ignore[arg-type]
            raise ValueError("model exploded")
        return Decision(self.intent)


def _run(core: DecisionCore, events: list[GameUpdate]) -> list:
    records: list = []
    for event in events:
        records += core.step(event).records
    return records


def test_a_strategy_exception_holds_that_decision_and_is_counted_and_journaled() -> None:
    strategy = FlakyStrategy(WAIT, fail_on={3, 4})
    core = make_test_core(strategy)

    records = _run(core, events_of([_rising()]))

    decisions = [r for r in records if isinstance(r, DecisionRecord)]
    failed = [d for d in decisions if d.reason == "strategy_error"]
    assert len(failed) == 2 and all(d.intent_action == "wait" for d in failed)
    assert all(d.verdict == "none" for d in failed)
    assert core.stats["strategy_errors"] == 2
    # a strategy fault holds one decision; it does not stop trading
    assert core.trading_state is TradingState.ACTIVE
    assert len(decisions) == strategy.calls


def test_a_strategy_answering_garbage_is_a_strategy_error_too() -> None:
    core = make_test_core(FlakyStrategy(BUY, fail_on={1}, garbage=True),
                          risk_overrides=NO_RATE_LIMIT)
    out = StepOutput()
    for event in events_of([_rising()]):
        out = core.step(event)
        if any(isinstance(r, DecisionRecord) for r in out.records):
            break
    first = next(r for r in out.records if isinstance(r, DecisionRecord))
    assert (first.reason, first.intent_action) == ("strategy_error", "wait")
    assert [n.reason for n in out.notices] == ["strategy_error"]
    assert not out.orders


def test_an_exception_in_a_step_keeps_its_records_and_its_kill() -> None:
    # Arrange: a position marked up, then falling back past a tiny drawdown limit: the
    # same step that trips the KILL then asks for the flattening sell, and submitting it
    # raises (a bug in the execution path)
    prices = [1.0, 1.2, 1.4, 1.1, 0.9, 0.9, 0.9]  # each move within the rules (±25 %)
    game = game_with_prices("20251030-00000000000000f2", prices, START_MS)
    core = make_test_core(ScriptedStrategy(buy_then_hold(sol_to_lamports(0.01))))
    events = events_of([game])
    split = next(i for i, e in enumerate(events) if e.active and e.tick == 3)
    _run(core, events[:split])
    assert core.account.qty > 0 and core.trading_state is TradingState.ACTIVE
    # (the loss budget would refuse the entry under the tiny limit: tighten it now)
    core.cfg = replace(core.cfg, limits=limits(max_drawdown_sol=0.001))

    def broken_submit(*_args, **_kw):
        raise RuntimeError("paper venue bug")

    core.paper.submit = broken_submit  # type: ignore[method-assign]

    # Act
    out = core.step(events[split])

    # Assert: the step's records survived, the drawdown KillEvent first among them
    kills = [r for r in out.records if isinstance(r, KillEvent)]
    assert len(kills) == 1 and "drawdown" in kills[0].reason
    assert any(isinstance(r, DecisionRecord) for r in out.records)
    assert any(isinstance(r, RiskEvent) and r.reason == "drawdown_limit" for r in out.records)
    assert core.trading_state is TradingState.KILLED
    assert core.stats["fault_step_error"] == 1
    assert [n.kind for n in out.notices] == ["step_error"]
    assert "paper venue bug" in out.notices[0].detail


def test_a_step_error_while_trading_kills_and_is_journaled_as_a_risk_event() -> None:
    core = make_test_core(ScriptedStrategy(always(BUY)), risk_overrides=NO_RATE_LIMIT)
    events = events_of([_rising()])
    live = next(i for i, e in enumerate(events) if e.active)  # a few ticks into the game
    _run(core, events[:live + 5])
    core.builder = BrokenBuilder()  # type: ignore[assignment]

    records = _run(core, events[live + 5:live + 15])

    risk = [r for r in records if isinstance(r, RiskEvent) and r.reason == "step_error"]
    assert len(risk) == 1 and risk[0].new_state == "killed"
    assert core.trading_state is TradingState.KILLED
    assert [r.reason for r in records if isinstance(r, KillEvent)] == [risk[0].reason + ": "
                                                                       + risk[0].detail]


def test_a_journal_fault_kills_and_no_pending_paper_order_fills() -> None:
    # Arrange: an active-phase buy waits for the next tick (latency 0)
    core = make_test_core(ScriptedStrategy(always(BUY)), risk_overrides={
        **NO_RATE_LIMIT, "entry_phases": ["active"]})
    events = events_of([_rising()])
    i = 0
    while not core.paper.pending:
        core.step(events[i])
        i += 1
    qty = core.account.qty
    pending_id = next(iter(core.open_orders))

    # Act: the shell failed to journal something
    out = core.step(Fault(events[i].ts_ms - 1, FaultKind.JOURNAL_WRITE, "disk full"))
    later = _run(core, events[i:i + 5])

    # Assert: KILLED at once, the order closed unfilled, no money moved after
    assert core.trading_state is TradingState.KILLED
    closed = [r for r in out.records if isinstance(r, OrderRecord)]
    assert [(r.order_id, r.status) for r in closed] == [(pending_id, "rejected")]
    assert "journal_write_failed" in closed[0].detail
    assert not any(isinstance(r, FillRecord) and r.order_id == pending_id for r in later)
    assert core.account.qty == qty
    assert [r.reason for r in out.records if isinstance(r, RiskEvent)] == [
        "journal_write_failed"]
    assert core.stats["fault_journal_write"] == 1


def test_an_order_whose_intent_was_not_journaled_is_never_filled() -> None:
    # the daemon holds paper orders until their intent is on disk; this one never was
    core = make_test_core(ScriptedStrategy(buy_then_hold()), hold_orders=True)
    events = events_of([_rising()])
    i = 0
    while not core.held:
        core.step(events[i])
        i += 1
    (order_id,) = core.held

    out = core.step(Fault(events[i].ts_ms, FaultKind.JOURNAL_WRITE, "disk full",
                          unsent=(order_id,)))
    later = _run(core, events[i:])

    assert core.account.qty == 0 and not fills_of(later)
    assert [r.status for r in out.records if isinstance(r, OrderRecord)] == ["rejected"]
    assert not core.held and not core.open_orders
    # and a late release of it does nothing
    assert not core.step(ReleaseOrder(events[-1].ts_ms, order_id)).records


def test_a_second_fault_while_killed_is_journaled_once_and_counted_always() -> None:
    core = make_test_core(ScriptedStrategy(always(WAIT)))
    _run(core, events_of([_rising(10)])[:5])
    core.step(OperatorInput(START_MS, OperatorAction.KILL, "test", "pytest"))

    outs = [core.step(Fault(START_MS + k, FaultKind.TASK_DIED, "timer: boom"))
            for k in range(3)]

    events = [r for out in outs for r in out.records if isinstance(r, RiskEvent)]
    assert [(e.old_state, e.new_state, e.reason) for e in events] == [
        ("killed", "killed", "task_died")]
    assert core.stats["fault_task_died"] == 3


def _released(core: DecisionCore, out: StepOutput) -> list:
    """What the daemon does: after journaling, release every held order at once."""
    records = list(out.records)
    for record in out.records:
        if isinstance(record, OrderRecord) and record.status == "sent":
            records += core.step(ReleaseOrder(record.ts_ms, record.order_id)).records
    return records


def test_holding_orders_until_journaled_gives_the_same_record_stream() -> None:
    # one path: the daemon's hold-then-release equals replay's immediate paper submit
    games = sim_games(12, seed=5, max_ticks=150)
    events = events_of(games)
    for latency in (0, 300):
        plain = make_test_core(ScriptedStrategy(random_rule(9)), latency_ms=latency,
                               risk_overrides=NO_RATE_LIMIT)
        held = make_test_core(ScriptedStrategy(random_rule(9)), latency_ms=latency,
                              risk_overrides=NO_RATE_LIMIT, hold_orders=True)
        a = _run(plain, events)
        b = [r for e in events for r in _released(held, held.step(e))]
        assert a == b
        assert plain.account == held.account
        assert len(fills_of(a)) > 20  # the comparison is not vacuous


def test_a_fault_while_a_decision_is_deferred_is_contained() -> None:
    core = make_test_core(ScriptedStrategy(always(WAIT)))
    core.defer_decisions = True
    events = events_of([_rising(10)])
    i = 0
    while core.pending_decision is None:
        core.step(events[i])
        i += 1
    core.builder = BrokenBuilder()  # type: ignore[assignment]

    out = core.complete_decision()

    assert core.trading_state is TradingState.KILLED
    assert any(isinstance(r, RiskEvent) and r.reason == "step_error" for r in out.records)


def test_features_are_untouched_by_a_contained_strategy_error() -> None:
    # the feature row the strategy raised on is still journaled with the decision
    strategy = FlakyStrategy(WAIT, fail_on={1})
    core = make_test_core(strategy)
    records = _run(core, events_of([_rising(5)]))
    first = next(r for r in records if isinstance(r, DecisionRecord))
    assert first.reason == "strategy_error"
    assert first.features is not None and len(np.frombuffer(first.features, "<f4")) > 0


def test_normal_games_produce_no_notice() -> None:
    # guard: a normal game never produces a notice
    core = make_test_core(ScriptedStrategy(buy_then_hold()))
    notices = []
    for event in events_of(sim_games(3, seed=8)):
        notices += core.step(replace(event)).notices
    assert notices == []


def test_while_the_journal_is_down_no_order_is_made_until_it_writes_again() -> None:
    # Arrange: a held position, then the journal fails (the flattening sell must wait)
    core = make_test_core(ScriptedStrategy(buy_then_hold()))
    events = events_of([_rising(80)])
    split = next(i for i, e in enumerate(events) if e.active and e.tick == 5)
    _run(core, events[:split])
    assert core.account.qty > 0
    core.step(Fault(events[split].ts_ms - 1, FaultKind.JOURNAL_WRITE, "disk full"))

    # Act 1: ticks while the journal is down
    down = _run(core, events[split:split + 10])

    # Assert 1: the flattening sell is decided but refused, no order, no fill, counted once
    decisions = [r for r in down if isinstance(r, DecisionRecord)]
    assert decisions and all(
        (d.intent_action, d.verdict, d.reason) == ("sell", "refused", "journal_write_failed")
        for d in decisions)
    assert not [r for r in down if isinstance(r, OrderRecord | FillRecord)]
    assert core.stats["orders"] == 1 and core.stats["fault_journal_write"] == 1

    # Act 2: the shell saw a write commit again
    cleared = core.step(FaultCleared(events[split + 10].ts_ms - 1, FaultKind.JOURNAL_WRITE))
    back = _run(core, events[split + 10:split + 14])

    # Assert 2: journaled, still KILLED, and the flattening sell goes out
    assert [r.reason for r in cleared.records if isinstance(r, RiskEvent)] == [
        "journal_recovered"]
    assert core.trading_state is TradingState.KILLED
    assert [(f[0]) for f in fills_of(back)] == ["sell"]
    assert core.account.qty == 0
