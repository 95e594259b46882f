"""The gate's rules one by one: each refusal carries its reason code; good intents pass."""

from __future__ import annotations

from dataclasses import replace

import pytest
from risk_helpers import GAME, LIMITS, SOL, T0, context, lamports, live_state, view

from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import buy, open_account, place_sidebet
from rugsd.risk.context import GameCounters, SessionFigures
from rugsd.risk.gate import FLATTEN_SOURCE, check, flatten_intent
from rugsd.risk.ratelimit import RateWindow
from rugsd.risk.reasons import ReasonCode
from rugsd.risk.states import RiskState, TradingState
from rugsd.risk.verdicts import Order, Refusal
from rugsd.strategy.intents import WAIT, Action, Intent

BUY = Intent(Action.BUY, amount=lamports(0.01), source="test")
SIDEBET = Intent(Action.SIDEBET, amount=lamports(0.01))
SELL_ALL = Intent(Action.SELL, percentage=100)


def holding(sol: float = 0.05, balance_sol: float = 10.0, price: float = 1.0):
    """An account holding a position bought for ``sol`` at ``price``."""
    acct, _ = buy(open_account(lamports(balance_sol)), lamports(sol), price, 0)
    return acct


def test_wait_is_not_gated():
    assert check(WAIT, context()) is None


def test_good_buy_becomes_an_order_with_a_deterministic_id():
    ctx = context(run_id="r1", order_seq=7)

    order = check(BUY, ctx)

    assert isinstance(order, Order)
    assert order.order_id == f"r1-{GAME}-10-7"
    assert (order.action, order.amount, order.percentage) == (Action.BUY, BUY.amount, 0)
    assert (order.game_id, order.tick, order.ts_ms, order.source) == (GAME, 10, T0, "test")
    assert check(BUY, ctx) == order  # same input, same order (idempotent id)


def test_good_sell_and_sidebet_pass():
    ctx = context(account=holding())
    assert isinstance(check(SELL_ALL, ctx), Order)
    assert isinstance(check(Intent(Action.SELL, percentage=25), ctx), Order)
    assert isinstance(check(SIDEBET, ctx), Order)


@pytest.mark.parametrize(
    ("intent", "kwargs", "reason"),
    [
        (Intent(Action.BUY, amount=0), {}, ReasonCode.INVALID_INTENT),
        (Intent(Action.BUY, amount=-5), {}, ReasonCode.INVALID_INTENT),
        (Intent(Action.SIDEBET, amount=0.01), {}, ReasonCode.INVALID_INTENT),  # float
        (BUY, {"pending": 1}, ReasonCode.ORDER_PENDING),
        (BUY, {"game_view": view(game_id=None)}, ReasonCode.NO_GAME),
        (BUY, {"game_view": view(Phase.UNKNOWN)}, ReasonCode.PHASE_UNKNOWN),
        (BUY, {"game_view": view(Phase.RUGGED, rug_tick=50)}, ReasonCode.ENTRY_AFTER_RUG),
        (BUY, {"game_view": view(tick=50, rug_tick=50)}, ReasonCode.ENTRY_AFTER_RUG),
        (SIDEBET, {"game_view": view(Phase.RUGGED, rug_tick=5)}, ReasonCode.ENTRY_AFTER_RUG),
        (BUY, {"game_view": view(Phase.COOLDOWN)}, ReasonCode.SETTLEMENT_COOLDOWN),
        (SIDEBET, {"game_view": view(Phase.COOLDOWN)}, ReasonCode.SETTLEMENT_COOLDOWN),
        (BUY, {"game_view": view(price=float("nan"))}, ReasonCode.BAD_PRICE),
        (BUY, {"game_view": view(price=0.0)}, ReasonCode.BAD_PRICE),
        (Intent(Action.BUY, amount=999_999), {}, ReasonCode.BELOW_MIN_BET),
        (Intent(Action.SIDEBET, amount=999_999), {}, ReasonCode.BELOW_MIN_BET),
        (BUY, {"account": open_account(lamports(0.005))}, ReasonCode.INSUFFICIENT_BALANCE),
        (SELL_ALL, {}, ReasonCode.NO_POSITION),
        (Intent(Action.SELL, percentage=33), {}, ReasonCode.BAD_SELL_PERCENTAGE),
        (Intent(Action.SELL, percentage=0), {}, ReasonCode.BAD_SELL_PERCENTAGE),
        (BUY, {"game_view": view(tick=501)}, ReasonCode.ENTRY_TICK_RANGE),
        (Intent(Action.BUY, amount=lamports(0.06)), {}, ReasonCode.MAX_BET),
        (Intent(Action.SIDEBET, amount=lamports(0.06)), {}, ReasonCode.MAX_BET),
        (BUY, {"account": open_account(lamports(0.105))}, ReasonCode.BALANCE_RESERVE),
        (SIDEBET, {"counters": GameCounters(GAME, sidebets=1)}, ReasonCode.MAX_SIDEBETS_PER_GAME),
    ],
)
def test_each_refusal_names_its_reason(intent, kwargs, reason):
    verdict = check(intent, context(**kwargs))

    assert isinstance(verdict, Refusal)
    assert verdict.reason is reason
    assert verdict.intent == intent and verdict.ts_ms == T0
    assert verdict.detail


@pytest.mark.parametrize("phase", [Phase.PRESALE, Phase.COOLDOWN, Phase.RUGGED])
def test_sell_outside_the_live_game_is_refused(phase):
    verdict = check(SELL_ALL, context(account=holding(), game_view=view(phase, rug_tick=3)))
    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.SELL_OUTSIDE_ACTIVE


def test_presale_buy_and_sidebet_pass_and_are_not_tick_limited():
    limits = replace(LIMITS, entry_min_tick=5)
    ctx = context(game_view=view(Phase.PRESALE), limits=limits)
    assert isinstance(check(BUY, ctx), Order)
    assert isinstance(check(SIDEBET, ctx), Order)


def test_entry_phases_limit_presale_entries():
    limits = replace(LIMITS, entry_phases=frozenset({Phase.ACTIVE}))
    verdict = check(BUY, context(game_view=view(Phase.PRESALE), limits=limits))
    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.ENTRY_PHASE


def test_presale_entries_in_the_closing_milliseconds_are_refused():
    # an order decided with 200 ms of presale left reaches the venue after the start
    limits = replace(LIMITS, presale_cutoff_ms=300)
    late = check(BUY, context(game_view=view(Phase.PRESALE, cooldown_ms=200), limits=limits))
    assert isinstance(late, Refusal) and late.reason is ReasonCode.PRESALE_CLOSING
    on_time = check(BUY, context(game_view=view(Phase.PRESALE, cooldown_ms=300), limits=limits))
    assert isinstance(on_time, Order)


def test_entry_before_min_tick_is_refused_but_at_bounds_passes():
    limits = replace(LIMITS, entry_min_tick=5, entry_max_tick=20)
    assert check(BUY, context(limits=limits, game_view=view(tick=4))).reason is (
        ReasonCode.ENTRY_TICK_RANGE)
    assert isinstance(check(BUY, context(limits=limits, game_view=view(tick=5))), Order)
    assert isinstance(check(BUY, context(limits=limits, game_view=view(tick=20))), Order)


def test_position_limit_counts_the_open_position_cost():
    acct = holding(0.06)
    ok = check(Intent(Action.BUY, amount=lamports(0.04)), context(account=acct))
    over = check(Intent(Action.BUY, amount=lamports(0.04) + 1), context(account=acct))
    assert isinstance(ok, Order)
    assert isinstance(over, Refusal) and over.reason is ReasonCode.MAX_POSITION


def test_exposure_counts_the_open_sidebet_stake():
    acct = holding(0.05)
    acct, _ = place_sidebet(acct, lamports(0.05), 0)
    limits = replace(LIMITS, max_exposure=lamports(0.14))

    verdict = check(Intent(Action.BUY, amount=lamports(0.05)), context(account=acct, limits=limits))

    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.MAX_EXPOSURE


def test_sidebet_while_one_is_open_is_refused_until_its_end_tick():
    acct, _ = place_sidebet(open_account(10 * SOL), lamports(0.01), 10)
    counters = GameCounters(GAME, sidebets=0)
    open_ = check(SIDEBET, context(account=acct, game_view=view(tick=49), counters=counters))
    at_end = check(SIDEBET, context(account=acct, game_view=view(tick=50), counters=counters))
    assert isinstance(open_, Refusal) and open_.reason is ReasonCode.SIDEBET_OPEN
    assert isinstance(at_end, Order)


def test_counters_of_a_previous_game_do_not_count():
    verdict = check(SIDEBET, context(counters=GameCounters("20240101-old", sidebets=9)))
    assert isinstance(verdict, Order)


def test_breached_loss_limits_refuse_entries_but_not_exits():
    start = SessionFigures.start(10 * SOL, T0)
    daily = start.observe(10 * SOL - LIMITS.max_daily_loss - 1, T0)
    peak = SessionFigures.start(10 * SOL, T0).observe(11 * SOL, T0).observe(
        11 * SOL - LIMITS.max_drawdown - 1, T0)
    acct = holding()
    assert check(BUY, context(account=acct, figures=daily)).reason is ReasonCode.DAILY_LOSS_LIMIT
    assert check(BUY, context(account=acct, figures=peak)).reason is ReasonCode.DRAWDOWN_LIMIT
    assert isinstance(check(SELL_ALL, context(account=acct, figures=daily)), Order)


def test_entry_whose_worst_case_breaches_the_daily_loss_limit_is_refused():
    # 0.48 SOL lost today already (limit 0.5): a 0.03 SOL entry could lose 0.51
    limits = replace(LIMITS, max_drawdown=SOL)
    figures = SessionFigures.start(10 * SOL, T0).observe(10 * SOL - lamports(0.48), T0)
    acct = open_account(10 * SOL - lamports(0.48))
    assert check(Intent(Action.BUY, amount=lamports(0.03)), context(
        account=acct, figures=figures, limits=limits)).reason is ReasonCode.LOSS_BUDGET
    assert isinstance(check(Intent(Action.BUY, amount=lamports(0.02)), context(
        account=acct, figures=figures, limits=limits)), Order)


def test_entry_whose_worst_case_breaches_the_drawdown_limit_is_refused():
    # a position marked up to 0.26 SOL above cash: peak 10.26; adding 0.05 risks 0.31 > 0.3
    limits = replace(LIMITS, max_daily_loss=10 * SOL)
    acct = holding(0.05)
    figures = SessionFigures.start(10 * SOL, T0).observe(10 * SOL + lamports(0.26), T0)
    verdict = check(Intent(Action.BUY, amount=lamports(0.05)), context(
        account=acct, figures=figures, limits=limits))
    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.LOSS_BUDGET
    assert "drawdown" in verdict.detail


def test_rate_limit_refuses_the_order_past_the_limit():
    limits = replace(LIMITS, max_orders_per_minute=2)
    window = RateWindow((T0 - 1000, T0 - 500))
    verdict = check(BUY, context(limits=limits, orders=window))
    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.RATE_LIMIT


def test_rate_limit_lets_every_sell_through_an_exhausted_window():
    # refusing an exit cannot protect the account: it leaves the position to the rug
    limits = replace(LIMITS, max_orders_per_minute=2)
    window = RateWindow((T0 - 1000, T0 - 500))
    for sell in (Intent(Action.SELL, percentage=100), Intent(Action.SELL, percentage=10)):
        verdict = check(sell, context(account=holding(), limits=limits, orders=window))
        assert not isinstance(verdict, Refusal), verdict
    sidebet = check(SIDEBET, context(limits=limits, orders=window))
    assert isinstance(sidebet, Refusal) and sidebet.reason is ReasonCode.RATE_LIMIT


# --- trading states ---------------------------------------------------------------------------
ALL_INTENTS = [BUY, SIDEBET, SELL_ALL, Intent(Action.SELL, percentage=10)]


@pytest.mark.parametrize("state", [live_state(feed_stale=True), RiskState(),
                                   live_state(feed_stale=True, operator_paused=True),
                                   live_state(feed_stale=True, venue_halted=True)])
@pytest.mark.parametrize("intent", ALL_INTENTS)
def test_halted_by_a_stale_feed_lets_nothing_through(state, intent):
    assert state.trading_state is TradingState.HALTED
    verdict = check(intent, context(account=holding(), state=state))
    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.STATE_HALTED


@pytest.mark.parametrize("flag", ["operator_paused", "venue_halted"])
def test_a_pause_or_venue_halt_refuses_entries_and_lets_exits_through(flag):
    # a pause (or a venue-integrity halt) stops new risk; it must never trap a position
    # until the rug (issue 10 #12)
    ctx = context(account=holding(), state=live_state(**{flag: True}))
    assert ctx.state.trading_state is TradingState.HALTED
    for entry in (BUY, SIDEBET):
        verdict = check(entry, ctx)
        assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.STATE_HALTED
    assert isinstance(check(Intent(Action.SELL, percentage=25), ctx), Order)
    assert isinstance(check(SELL_ALL, ctx), Order)


@pytest.mark.parametrize("state", [live_state(reduce_only=True), live_state(exec_degraded=True)])
def test_reducing_refuses_entries_and_allows_exits(state):
    ctx = context(account=holding(), state=state)
    assert check(BUY, ctx).reason is ReasonCode.STATE_REDUCING
    assert check(SIDEBET, ctx).reason is ReasonCode.STATE_REDUCING
    assert isinstance(check(Intent(Action.SELL, percentage=50), ctx), Order)
    assert isinstance(check(SELL_ALL, ctx), Order)


@pytest.mark.parametrize("extra", [{}, {"feed_stale": True}, {"operator_paused": True}])
def test_killed_allows_only_the_flattening_sell(extra):
    state = live_state(killed=True, **extra)
    ctx = context(account=holding(), state=state,
                  orders=RateWindow(tuple(range(T0 - 100, T0))))  # rate limit exhausted
    for intent in (BUY, SIDEBET, Intent(Action.SELL, percentage=50)):
        assert check(intent, ctx).reason is ReasonCode.STATE_KILLED

    order = check(flatten_intent(state, ctx.account), ctx)

    assert isinstance(order, Order) and order.flatten and order.percentage == 100
    assert order.source == FLATTEN_SOURCE


def test_killed_with_no_position_sends_nothing():
    state = live_state(killed=True)
    assert flatten_intent(state, open_account(SOL)) is None
    assert check(SELL_ALL, context(state=state)).reason is ReasonCode.NO_POSITION


def test_flatten_intent_only_when_flattening():
    assert flatten_intent(live_state(), holding()) is None
    assert flatten_intent(live_state(flatten_pending=True), holding()) == Intent(
        Action.SELL, percentage=100, source=FLATTEN_SOURCE)


def test_a_malformed_context_is_refused_not_raised():
    ctx = replace(context(), figures=None)  # a caller bug
    verdict = check(BUY, ctx)
    assert isinstance(verdict, Refusal) and verdict.reason is ReasonCode.INVALID_INTENT
