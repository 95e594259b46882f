"""The shared order-matching rule (rugsd.daemon.game.matching): phases, next-tick fills, the rug."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.events import Phase
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import FillKind, Reject, RejectReason, open_account
from rugsd.daemon.game.matching import (
    Admission,
    MatchReason,
    MatchReject,
    OrderKind,
    PendingOrder,
    admit,
    fill_on_tick,
    fill_presale,
    is_fill,
    match_tick,
    precheck,
)

SOL = 1_000_000_000


def buy(amount: int, oid: str = "b") -> PendingOrder:
    return PendingOrder(oid, OrderKind.BUY, amount=amount)


def sell(pct: int, oid: str = "s") -> PendingOrder:
    return PendingOrder(oid, OrderKind.SELL, percentage=pct)


def bet(amount: int, oid: str = "x") -> PendingOrder:
    return PendingOrder(oid, OrderKind.SIDEBET, amount=amount)


def test_admission_table_follows_the_phase_of_the_last_event() -> None:
    assert admit(Phase.ACTIVE, OrderKind.BUY) == Admission.NEXT_TICK
    assert admit(Phase.ACTIVE, OrderKind.SELL) == Admission.NEXT_TICK
    assert admit(Phase.ACTIVE, OrderKind.SIDEBET) == Admission.NEXT_TICK
    assert admit(Phase.PRESALE, OrderKind.BUY) == Admission.NOW
    assert admit(Phase.PRESALE, OrderKind.SIDEBET) == Admission.NOW
    refused = {
        (Phase.PRESALE, OrderKind.SELL): MatchReason.NO_SELL_BEFORE_START,
        (Phase.COOLDOWN, OrderKind.SELL): MatchReason.NO_SELL_BEFORE_START,
        (Phase.COOLDOWN, OrderKind.BUY): MatchReason.PHASE_CLOSED,
        (Phase.COOLDOWN, OrderKind.SIDEBET): MatchReason.PHASE_CLOSED,
        (Phase.UNKNOWN, OrderKind.BUY): MatchReason.PHASE_CLOSED,
        (Phase.RUGGED, OrderKind.BUY): MatchReason.GAME_OVER,
        (Phase.RUGGED, OrderKind.SELL): MatchReason.GAME_OVER,
        (Phase.RUGGED, OrderKind.SIDEBET): MatchReason.GAME_OVER,
    }
    for (phase, kind), reason in refused.items():
        result = admit(phase, kind)
        assert isinstance(result, MatchReject), (phase, kind)
        assert result.reason == reason, (phase, kind)


def test_presale_buy_fills_at_exactly_one_on_tick_zero() -> None:
    acct = open_account(10 * SOL)
    result = fill_presale(acct, buy(SOL // 10))
    assert isinstance(result, tuple)
    new, fill = result
    assert fill.kind == FillKind.BUY and fill.price == 1.0 and fill.tick == 0
    assert fill.qty == SOL // 10
    assert new.balance == 10 * SOL - SOL // 10


def test_presale_sidebet_starts_at_tick_zero_and_ends_at_forty() -> None:
    new, fill = fill_presale(open_account(SOL), bet(SOL // 100))
    assert fill.kind == FillKind.SIDEBET_PLACE
    assert new.sidebet is not None
    assert (new.sidebet.start_tick, new.sidebet.end_tick) == (0, 40)


def test_presale_sell_is_refused() -> None:
    result = fill_presale(open_account(SOL), sell(100))
    assert isinstance(result, MatchReject)
    assert result.reason == MatchReason.NO_SELL_BEFORE_START


def test_precheck_refuses_below_min_bet_and_odd_percentages() -> None:
    low = precheck(buy(999_999))
    assert isinstance(low, Reject) and low.reason == RejectReason.BELOW_MIN_BET
    assert precheck(buy(1_000_000)) is None
    odd = precheck(sell(30))
    assert isinstance(odd, Reject) and odd.reason == RejectReason.BAD_PERCENTAGE
    assert precheck(sell(25)) is None
    assert isinstance(precheck(bet(1)), Reject)


def test_pending_buy_fills_at_the_next_tick_price() -> None:
    acct = open_account(SOL)
    m = match_tick(acct, [buy(SOL // 2)], tick=7, price=1.25, rugged=False)
    ((_order, outcome),) = m.outcomes
    assert is_fill(outcome)
    _, fill = outcome
    assert fill.price == 1.25 and fill.tick == 7
    assert fill.qty == accounting.qty_for(SOL // 2, 1.25)
    assert m.account.qty == fill.qty and m.account.entry_tick == 7


def test_pending_orders_of_one_account_fill_in_arrival_order() -> None:
    acct = open_account(SOL)
    # the sell comes after the buy, so it sells half of what the buy just bought
    m = match_tick(acct, [buy(SOL // 2, "1"), sell(50, "2")], tick=3, price=2.0, rugged=False)
    assert [o.order_id for o, _ in m.outcomes] == ["1", "2"]
    assert all(is_fill(out) for _, out in m.outcomes)
    bought = accounting.qty_for(SOL // 2, 2.0)
    assert m.account.qty == bought - bought // 2


def test_sell_before_buy_in_the_same_tick_is_refused_for_no_position() -> None:
    m = match_tick(open_account(SOL), [sell(100, "1"), buy(SOL // 2, "2")], 3, 2.0, False)
    first = m.outcomes[0][1]
    assert isinstance(first, Reject) and first.reason == RejectReason.NO_POSITION
    assert is_fill(m.outcomes[1][1])


def test_at_the_rug_pending_buy_and_sidebet_are_refused_and_sell_is_moot() -> None:
    acct, _ = fill_presale(open_account(SOL), buy(SOL // 2))
    m = match_tick(
        acct, [buy(SOL // 10, "b"), sell(100, "s"), bet(SOL // 100, "x")], 55, 0.004, True
    )
    reasons = {o.order_id: out.reason for o, out in m.outcomes}
    assert reasons == {
        "b": MatchReason.GAME_OVER,
        "s": MatchReason.FORCE_SOLD,
        "x": MatchReason.GAME_OVER,
    }
    # the position was force-sold at the rug price anyway
    (rug_sell,) = m.settlements
    assert rug_sell.kind == FillKind.RUG_SELL and rug_sell.price == 0.004
    assert m.account.qty == 0
    assert m.account.balance == SOL // 2 + accounting.value_of(SOL // 2, 0.004)


def test_fill_on_tick_with_rug_refuses_without_touching_money() -> None:
    acct = open_account(SOL)
    assert isinstance(fill_on_tick(acct, buy(SOL), 9, 0.01, True), MatchReject)


def test_sidebet_replaced_from_the_previous_end_tick() -> None:
    acct, _ = fill_presale(open_account(SOL), bet(SOL // 100))  # window 0..40
    early = match_tick(acct, [bet(SOL // 100)], tick=39, price=1.1, rugged=False)
    refused = early.outcomes[0][1]
    assert isinstance(refused, Reject) and refused.reason == RejectReason.SIDEBET_ACTIVE
    at_end = match_tick(early.account, [bet(SOL // 100)], tick=40, price=1.1, rugged=False)
    # tick 40 without a rug settles the first bet as lost, then the new one opens at 40
    assert [f.kind for f in at_end.settlements] == [FillKind.SIDEBET_LOSS]
    assert is_fill(at_end.outcomes[0][1])
    assert at_end.account.sidebet is not None
    assert (at_end.account.sidebet.start_tick, at_end.account.sidebet.end_tick) == (40, 80)


def test_sidebet_wins_five_times_iff_rug_tick_within_window() -> None:
    acct, _ = fill_presale(open_account(SOL), bet(SOL // 100))
    win = match_tick(acct, [], tick=40, price=0.01, rugged=True)
    assert [f.kind for f in win.settlements] == [FillKind.SIDEBET_WIN]
    assert win.account.balance == SOL - SOL // 100 + 5 * (SOL // 100)
    lose = match_tick(acct, [], tick=41, price=0.01, rugged=True)
    assert [f.kind for f in lose.settlements] == [FillKind.SIDEBET_LOSS]
    assert lose.account.balance == SOL - SOL // 100


ORDER = st.one_of(
    st.builds(buy, st.integers(0, 3 * SOL)),
    st.builds(sell, st.sampled_from([10, 25, 50, 100, 33])),
    st.builds(bet, st.integers(0, SOL)),
)


@settings(max_examples=200, deadline=None)
@given(
    presale=st.lists(ORDER, max_size=4),
    ticks=st.lists(
        st.tuples(st.floats(0.01, 50.0, allow_nan=False), st.lists(ORDER, max_size=3)),
        max_size=60,
    ),
    rug_price=st.floats(0.0, 0.02),
    balance=st.integers(0, 5 * SOL),
)
def test_random_order_flows_keep_balance_non_negative_and_ledger_identity(
    presale, ticks, rug_price, balance
) -> None:
    acct = open_account(balance)

    def check(a: accounting.Account) -> None:
        assert a.balance >= 0 and a.qty >= 0 and a.cost >= 0
        assert a.balance + a.cost == a.credited + a.realised

    for order in presale:
        out = fill_presale(acct, order) if precheck(order) is None else precheck(order)
        if isinstance(out, tuple):
            acct = out[0]
        check(acct)
    for tick, (price, orders) in enumerate(ticks):
        acct = match_tick(acct, orders, tick, price, False).account
        check(acct)
    end = match_tick(acct, [], len(ticks), rug_price, True)
    check(end.account)
    assert end.account.qty == 0 and end.account.sidebet is None
