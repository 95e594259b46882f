"""Action table and venue mask: every action the mask allows is one the venue accepts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import (
    Account,
    Reject,
    Sidebet,
    buy,
    place_sidebet,
    sell,
    sol_to_lamports,
)
from rugsd.daemon.state.view import GameView
from rugsd.strategy.actions import (
    ACTION_NAMES,
    BUY_INDICES,
    N_ACTIONS,
    SELL_INDICES,
    SIDEBET_INDEX,
    WAIT_INDEX,
    ActionTable,
    action_mask,
    intent_for,
)
from rugsd.strategy.intents import Action


def _view(phase: Phase, tick: int = 10, price: float = 1.3) -> GameView:
    return GameView(
        game_id="g",
        phase=phase,
        tick=tick,
        price=price,
        prices=[1.0] * max(tick, 0),
        peak=1.3,
        cooldown_ms=0,
        allow_prebuys=phase == Phase.PRESALE,
        ts_ms=0,
    )


def test_table_maps_indices_to_intents_in_lamports() -> None:
    cfg = StrategyConfig(buy_sizes_sol=[0.002, 0.02, 0.2], sidebet_sol=0.003)
    table = ActionTable.from_config(cfg, source="t")
    assert ACTION_NAMES[WAIT_INDEX] == "wait" and N_ACTIONS == 8
    assert [table.intent_for(i).amount for i in BUY_INDICES] == [2_000_000, 20_000_000, 200_000_000]
    assert [table.intent_for(i).percentage for i in SELL_INDICES] == [25, 50, 100]
    side = table.intent_for(SIDEBET_INDEX)
    assert side.action is Action.SIDEBET and side.amount == sol_to_lamports(0.003)
    assert table.intent_for(WAIT_INDEX).action is Action.WAIT
    assert table.intent_for(1).source == "t:buy_small"
    with pytest.raises(IndexError):
        table.intent_for(N_ACTIONS)


def test_default_intent_for_uses_default_sizes() -> None:
    assert intent_for(3).amount == sol_to_lamports(StrategyConfig().buy_sizes_sol[2])


def test_table_rejects_wrong_number_of_buy_sizes() -> None:
    with pytest.raises(ValueError, match="3 sizes"):
        ActionTable.from_config(StrategyConfig(buy_sizes_sol=[0.01, 0.02]))


@pytest.mark.parametrize("phase", [Phase.UNKNOWN, Phase.COOLDOWN, Phase.RUGGED])
def test_only_wait_outside_presale_and_active(phase: Phase) -> None:
    acct = Account(balance=10**10, qty=10**8, cost=10**8, entry_tick=1)
    mask = action_mask(_view(phase), acct)
    assert mask.tolist() == [True] + [False] * 7


def test_presale_allows_buys_and_sidebet_but_no_sells() -> None:
    acct = Account(balance=10**10, qty=10**8, cost=10**8, entry_tick=-1)
    mask = action_mask(_view(Phase.PRESALE, tick=-1), acct)
    assert mask.tolist() == [True, True, True, True, False, False, False, True]


def test_active_flat_account_cannot_sell_and_buys_need_balance() -> None:
    acct = Account(balance=sol_to_lamports(0.006))
    mask = action_mask(_view(Phase.ACTIVE), acct)
    assert mask.tolist() == [True, True, True, False, False, False, False, True]


def test_sidebet_masked_while_one_is_open_until_its_end_tick() -> None:
    acct = Account(balance=10**10, sidebet=Sidebet(start_tick=5, end_tick=45, stake=10**6))
    assert not action_mask(_view(Phase.ACTIVE, tick=44), acct)[SIDEBET_INDEX]
    assert action_mask(_view(Phase.ACTIVE, tick=45), acct)[SIDEBET_INDEX]


def test_tiny_position_masks_partial_sells_that_round_to_zero() -> None:
    acct = Account(balance=0, qty=3, cost=3, entry_tick=0)
    mask = action_mask(_view(Phase.ACTIVE), acct)
    assert mask[list(SELL_INDICES)].tolist() == [False, True, True]  # 3*25//100 == 0


def test_mask_writes_into_a_given_buffer() -> None:
    out = np.zeros(N_ACTIONS, dtype=bool)
    got = action_mask(_view(Phase.ACTIVE), Account(balance=10**10), out=out)
    assert got is out and out[WAIT_INDEX] and out[1]


@settings(max_examples=300, deadline=None)
@given(
    phase=st.sampled_from(list(Phase)),
    tick=st.integers(-1, 300),
    price=st.floats(0.01, 1000.0),
    balance=st.integers(0, 10**9),
    qty=st.integers(0, 10**9),
    side_end=st.none() | st.integers(0, 340),
)
def test_every_allowed_action_is_accepted_by_accounting(
    phase: Phase, tick: int, price: float, balance: int, qty: int, side_end: int | None
) -> None:
    sidebet = None if side_end is None else Sidebet(side_end - 40, side_end, 10**6)
    acct = Account(balance=balance, qty=qty, cost=qty, sidebet=sidebet, entry_tick=0)
    table = ActionTable.from_config(StrategyConfig())
    mask = action_mask(_view(phase, tick, price), acct, table)
    assert mask[WAIT_INDEX]
    for i in np.flatnonzero(mask):
        intent = table.intent_for(int(i))
        if intent.action is Action.BUY:
            result = buy(acct, intent.amount, price, tick)
        elif intent.action is Action.SELL:
            assert phase == Phase.ACTIVE
            result = sell(acct, intent.percentage, price, tick)
        elif intent.action is Action.SIDEBET:
            result = place_sidebet(acct, intent.amount, tick)
        else:
            continue
        assert phase in (Phase.PRESALE, Phase.ACTIVE)
        assert not isinstance(result, Reject), (ACTION_NAMES[i], result)
