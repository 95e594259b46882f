"""Property: the core never creates or loses money. Over random traders on simulated
provably-fair games (random latency, random operator inputs), after every step
``balance + cost == credited + realised``, every fill's ``balance_after`` follows from
the previous balance, and the final account equals a recomputation from the fills."""

from __future__ import annotations

import random

from core_helpers import (
    START_BALANCE,
    ScriptedStrategy,
    events_of,
    fills_of,
    ledger_identity_holds,
    make_test_core,
    random_rule,
    recompute,
    sim_games,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rugsd.daemon.core.inputs import OperatorAction, OperatorInput
from rugsd.daemon.journal.records import FillRecord, OrderRecord, PositionSnapshot

_SIGN = {"buy": -1, "sidebet_place": -1, "sell": 1, "rug_sell": 1, "sidebet_win": 1,
         "sidebet_loss": 0}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    game_seed=st.integers(0, 10_000),
    trader_seed=st.integers(0, 10_000),
    latency_ms=st.sampled_from([0, 0, 100, 250, 600]),
    operator_rate=st.sampled_from([0.0, 0.01, 0.05]),
)
def test_core_accounting_never_creates_or_loses_money(
    game_seed: int, trader_seed: int, latency_ms: int, operator_rate: float
) -> None:
    core = make_test_core(
        ScriptedStrategy(random_rule(trader_seed)),
        latency_ms=latency_ms,
        risk_overrides={"max_orders_per_minute": 10_000, "max_sidebets_per_game": 5},
    )
    ops = random.Random(trader_seed + 1)
    balance = core.account.balance
    fills: list[FillRecord] = []
    sent: set[str] = set()

    for ev in events_of(sim_games(3, game_seed, max_ticks=120)):
        inputs: list[object] = [ev]
        if ops.random() < operator_rate:
            inputs.insert(0, OperatorInput(ev.ts_ms - 1, ops.choice(list(OperatorAction)),
                                           source="test"))
        for item in inputs:
            out = core.step(item)
            for r in out.records:
                if isinstance(r, FillRecord):
                    balance += _SIGN[r.kind] * r.amount
                    assert r.balance_after == balance, r
                    fills.append(r)
                elif isinstance(r, PositionSnapshot):
                    assert r.balance + r.cost == r.credited + r.realised
                elif isinstance(r, OrderRecord) and r.status == "sent":
                    assert r.order_id not in sent
                    sent.add(r.order_id)
            acct = core.account
            assert ledger_identity_holds(acct), acct
            assert acct.balance >= 0 and acct.qty >= 0 and acct.cost >= 0
            assert acct.credited == START_BALANCE

    # not vacuous: without operator inputs (an early kill may legitimately stop all
    # trading) the random trader always trades in three games
    assert fills or operator_rate > 0, "the trader never traded"
    again = recompute(START_BALANCE, fills_of(fills))
    assert again.balance == core.account.balance == balance
    assert again.qty == core.account.qty
    # the last event is a rug: everything was force-sold and the sidebet resolved
    assert core.account.qty == 0 and core.account.cost == 0
    assert core.account.sidebet is None
    assert core.account.balance == START_BALANCE + core.account.realised
