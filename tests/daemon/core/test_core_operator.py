"""Operator inputs and trading states through the whole core: each input changes the
state and the very next decision respects it (REDUCING: exits only; HALTED: nothing;
KILLED: the flattening sell, then nothing; flatten; arm)."""

from __future__ import annotations

from core_helpers import (
    START_MS,
    ScriptedStrategy,
    always,
    buy_then_hold,
    events_of,
    game_with_prices,
    make_test_core,
)

from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.core.inputs import ExecReport, ExecStatus, OperatorAction, OperatorInput
from rugsd.daemon.events import GameUpdate, Phase
from rugsd.daemon.game.accounting import sol_to_lamports
from rugsd.daemon.journal.records import DecisionRecord, KillEvent, OrderRecord, RiskEvent
from rugsd.risk.gate import FLATTEN_SOURCE
from rugsd.risk.states import TradingState
from rugsd.strategy.intents import WAIT, Action, Intent

BUY = Intent(Action.BUY, amount=sol_to_lamports(0.001), source="test:buy")
NO_RATE_LIMIT = {"max_orders_per_minute": 10_000}


def _game(n_ticks: int = 80, gid: str = "20251030-00000000000000aa"):
    # a slowly rising game: every percentage of a position is worth something
    prices = [1.0 + 0.001 * t for t in range(n_ticks)]
    return game_with_prices(gid, prices, START_MS)


def _decisions(records: list) -> list[DecisionRecord]:
    return [r for r in records if isinstance(r, DecisionRecord)]


def _step(core: DecisionCore, event: object) -> list:
    out = core.step(event)
    # every order the core asks the shell to send is journaled as "sent" in the same step
    sent = {r.order_id for r in out.records if isinstance(r, OrderRecord) and r.status == "sent"}
    assert {o.order_id for o in out.orders} == sent
    return out.records


def _until_tick(core: DecisionCore, events: list[GameUpdate], tick: int) -> list[GameUpdate]:
    """Step events up to and including active tick ``tick``; return the rest."""
    for i, ev in enumerate(events):
        _step(core, ev)
        if ev.active and not ev.rugged and ev.tick == tick:
            return events[i + 1:]
    raise AssertionError(f"tick {tick} not in the events")


def _op(action: OperatorAction, ts_ms: int) -> OperatorInput:
    return OperatorInput(ts_ms, action, source="test", who="pytest")


def test_core_reducing_after_execution_errors_allows_only_exits() -> None:
    def rule(view, acct):
        if view.phase is Phase.PRESALE:
            return Intent(Action.BUY, amount=sol_to_lamports(0.02), source="test")
        kind = view.tick % 3
        if kind == 0:
            return BUY
        if kind == 1:
            return Intent(Action.SIDEBET, amount=sol_to_lamports(0.001), source="test")
        return Intent(Action.SELL, percentage=10, source="test")

    core = make_test_core(ScriptedStrategy(rule), risk_overrides=NO_RATE_LIMIT)
    events = events_of([_game(60)])
    rest = _until_tick(core, events, 9)
    assert core.trading_state is TradingState.ACTIVE
    assert core.account.qty > 0
    ts = rest[0].ts_ms - 10
    for i in range(core.cfg.limits.max_execution_errors):  # the automatic path to REDUCING
        _step(core, ExecReport(ts, f"ghost-{i}", ExecStatus.FAILED, detail="button missing"))
    assert core.trading_state is TradingState.REDUCING

    records = [r for ev in rest for r in _step(core, ev)]

    decided = [d for d in _decisions(records) if d.phase == "active"]
    entries = [d for d in decided if d.intent_action in ("buy", "sidebet")]
    sells = [d for d in decided if d.intent_action == "sell"]
    assert entries and all(
        d.verdict == "refused" and d.reason == "state_reducing" for d in entries)
    assert any(d.verdict == "order" for d in sells)
    assert all(d.reason != "state_reducing" for d in sells)
    orders = [r for r in records if isinstance(r, OrderRecord) and r.status == "sent"]
    assert orders and {o.action for o in orders} == {"sell"}


def test_core_operator_inputs_change_state_and_the_next_decision_respects_it() -> None:
    core = make_test_core(ScriptedStrategy(always(BUY)), risk_overrides=NO_RATE_LIMIT)
    events = events_of([_game(80)])
    rest = _until_tick(core, events, 5)
    assert core.account.qty > 0

    def next_decision() -> DecisionRecord:
        nonlocal rest
        ev, rest = rest[0], rest[1:]
        found = _decisions(_step(core, ev))
        assert len(found) == 1
        return found[0]

    def operator(action: OperatorAction) -> list:
        return _step(core, _op(action, rest[0].ts_ms - 50))

    operator(OperatorAction.PAUSE)
    assert core.trading_state is TradingState.HALTED
    d = next_decision()
    assert (d.verdict, d.reason, d.trading_state) == ("refused", "state_halted", "halted")

    operator(OperatorAction.RESUME)
    assert core.trading_state is TradingState.ACTIVE
    d = next_decision()
    assert (d.intent_action, d.verdict) == ("buy", "order")

    qty_before = core.account.qty
    operator(OperatorAction.FLATTEN)
    assert core.trading_state is TradingState.REDUCING
    d = next_decision()  # the pending buy fills first, then the risk shell sells all
    assert (d.intent_action, d.intent_percentage, d.verdict) == ("sell", 100, "order")
    assert core.account.qty > qty_before
    d = next_decision()  # the flattening sell filled at this tick: flat, still REDUCING
    assert core.account.qty == 0
    assert core.trading_state is TradingState.REDUCING
    assert (d.intent_action, d.verdict, d.reason) == ("buy", "refused", "state_reducing")

    operator(OperatorAction.RESUME)
    d = next_decision()
    assert (d.intent_action, d.verdict) == ("buy", "order")
    next_decision()  # the buy fills: holding again

    assert core.account.qty > 0
    records = operator(OperatorAction.KILL)
    assert core.trading_state is TradingState.KILLED
    assert any(isinstance(r, KillEvent) and r.source == "test" for r in records)
    d = next_decision()
    assert (d.intent_action, d.intent_percentage, d.verdict, d.trading_state) == (
        "sell", 100, "order", "killed")
    d = next_decision()  # the flattening sell filled: flat; entries refused
    assert core.account.qty == 0
    assert (d.intent_action, d.verdict, d.reason) == ("buy", "refused", "state_killed")

    operator(OperatorAction.RESUME)  # resume never lifts a kill
    assert core.trading_state is TradingState.KILLED
    d = next_decision()
    assert (d.verdict, d.reason) == ("refused", "state_killed")

    operator(OperatorAction.ARM)
    assert core.trading_state is TradingState.ACTIVE
    d = next_decision()
    assert (d.intent_action, d.verdict) == ("buy", "order")


def test_core_kill_refuses_every_entry_from_the_very_next_tick_to_the_next_games() -> None:
    def rule(view, acct):
        if view.tick % 2:
            return Intent(Action.SIDEBET, amount=sol_to_lamports(0.001), source="test")
        return BUY

    core = make_test_core(ScriptedStrategy(rule), risk_overrides=NO_RATE_LIMIT)
    games = [_game(30, "20251030-00000000000000a1"), _game(30, "20251030-00000000000000a2")]
    specs = [games[0], game_with_prices(games[1].game_id, games[1].prices,
                                        START_MS + 60_000)]
    events = events_of(specs)
    rest = _until_tick(core, events, 3)
    kill_ts = rest[0].ts_ms - 1
    _step(core, _op(OperatorAction.KILL, kill_ts))

    records = [r for ev in rest for r in _step(core, ev)]

    decided = _decisions(records)
    assert decided[0].trading_state == "killed"
    entries = [d for d in decided if d.intent_action in ("buy", "sidebet")]
    assert {d.phase for d in entries} >= {"active", "presale"}  # both games were asked
    assert all(d.verdict == "refused" and d.reason == "state_killed" for d in entries)
    orders = [r for r in records if isinstance(r, OrderRecord) and r.status == "sent"]
    assert orders, "the open position must be flattened"
    assert all(o.action == "sell" and o.percentage == 100 for o in orders)
    assert all(o.ts_ms > kill_ts for o in orders)


def test_core_flatten_path_killed_with_a_position_in_active_sends_sell_100() -> None:
    core = make_test_core(ScriptedStrategy(buy_then_hold()))
    events = events_of([_game(40)])
    rest = _until_tick(core, events, 12)
    held = core.account.qty
    assert held > 0

    _step(core, _op(OperatorAction.KILL, rest[0].ts_ms - 1))
    out = core.step(rest[0])

    assert len(out.orders) == 1
    order = out.orders[0]
    assert (order.action, order.percentage, order.flatten, order.source) == (
        Action.SELL, 100, True, FLATTEN_SOURCE)
    out = core.step(rest[1])  # filled at the next tick's price
    sold = [r for r in out.records if getattr(r, "kind", None) == "sell"]
    assert len(sold) == 1 and sold[0].qty == held
    assert core.account.qty == 0 and core.account.cost == 0


def test_core_kill_in_presale_with_a_position_flattens_at_the_first_active_tick() -> None:
    core = make_test_core(ScriptedStrategy(buy_then_hold()))
    events = events_of([_game(20)])
    i = next(i for i, ev in enumerate(events) if ev.active)
    for ev in events[:i]:
        core.step(ev)
    assert core.view.phase is Phase.PRESALE and core.account.qty > 0
    _step(core, _op(OperatorAction.KILL, events[i].ts_ms - 1))

    out = core.step(events[i])  # tick 0: selling is allowed from here

    assert [(o.action, o.percentage) for o in out.orders] == [(Action.SELL, 100)]


def test_core_risk_events_record_every_operator_transition() -> None:
    core = make_test_core(ScriptedStrategy(always(WAIT)))
    events = events_of([_game(10)])
    rest = _until_tick(core, events, 2)
    ts = rest[0].ts_ms - 5
    seen = []
    for action in (OperatorAction.PAUSE, OperatorAction.RESUME, OperatorAction.FLATTEN,
                   OperatorAction.RESUME, OperatorAction.KILL, OperatorAction.ARM):
        records = _step(core, _op(action, ts))
        seen += [(r.old_state, r.new_state, r.reason) for r in records
                 if isinstance(r, RiskEvent)]
    assert seen == [
        ("active", "halted", "operator_pause"),
        ("halted", "active", "operator_resume"),
        ("active", "reducing", "operator_flatten"),
        ("reducing", "reducing", "flatten_done"),  # flat already: done at once
        ("reducing", "active", "operator_resume"),
        ("active", "killed", "operator_kill"),
        ("killed", "active", "operator_arm"),
    ]


def test_core_pause_blocks_entries_but_lets_the_position_out() -> None:
    # issue 10 #12: a paused daemon could not sell and left its position to the rug
    def rule(view, acct):
        if view.phase is Phase.PRESALE:
            return Intent(Action.BUY, amount=sol_to_lamports(0.02), source="test")
        if view.tick % 2 == 0:
            return BUY
        return Intent(Action.SELL, percentage=25, source="test")

    core = make_test_core(ScriptedStrategy(rule), risk_overrides=NO_RATE_LIMIT)
    events = events_of([_game(60)])
    rest = _until_tick(core, events, 9)
    assert core.account.qty > 0
    _step(core, _op(OperatorAction.PAUSE, rest[0].ts_ms - 10))
    assert core.trading_state is TradingState.HALTED
    qty = core.account.qty

    records = [r for ev in rest for r in _step(core, ev)]

    decided = [d for d in _decisions(records) if d.phase == "active"]
    entries = [d for d in decided if d.intent_action == "buy"]
    assert entries and all(
        (d.verdict, d.reason, d.trading_state) == ("refused", "state_halted", "halted")
        for d in entries)
    orders = [r for r in records if isinstance(r, OrderRecord) and r.status == "sent"]
    assert orders and {o.action for o in orders} == {"sell"}
    assert core.account.qty < qty
