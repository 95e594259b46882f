"""The pure room's orders: presale fills, next-tick fills, sidebets, the rug, refusals, money."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rugsd.daemon.events import Phase
from rugsd.daemon.game import accounting
from rugsd.daemon.game.accounting import open_account
from rugsd.daemon.game.matching import OrderKind
from rugsd.daemon.sim.desk import PLAYER_UPDATE, Ack, Emit
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS, StepKind, plan_game

SOL = 1_000_000_000
START = 10 * SOL
P = "sim:alice"


def seed_where(pred, games: int = 2) -> str:
    """The first seed whose first ``games`` plans satisfy ``pred(rug_ticks)``."""
    for i in range(5000):
        seed = f"o{i}"
        ticks, start = [], DETERMINISTIC_EPOCH_MS
        for n in range(games):
            plan = plan_game(seed, n, start, "v3")
            ticks.append(plan.rug_tick)
            start = plan.next_start_ms
        if pred(ticks):
            return seed
    raise AssertionError("no seed found")


def new_room(seed: str) -> Room:
    room = Room(seed, start_ms=DETERMINISTIC_EPOCH_MS, starting_balance=START)
    room.join(P, "alice")
    return room


def step_until(room: Room, pred, limit: int = 50_000) -> list:
    outs: list = []
    for _ in range(limit):
        outs.extend(room.step())
        if pred(room):
            return outs
    raise AssertionError("condition never met")


def in_presale(room: Room) -> bool:
    return room.phase == Phase.PRESALE


def at_tick(t: int):
    return lambda room: room.phase == Phase.ACTIVE and room.tick == t


def rugged(room: Room) -> bool:
    return room.last_step.kind == StepKind.RUG


def acks(outs) -> dict[str, dict]:
    return {o.order_id: o.payload for o in outs if isinstance(o, Ack)}


def test_presale_buy_fills_at_once_at_one_and_updates_the_player() -> None:
    room = new_room("presale")
    step_until(room, in_presale)
    sub = room.submit(P, OrderKind.BUY, {"amount": 0.25})
    assert sub.ack is not None and sub.ack["success"] is True
    assert (sub.ack["price"], sub.ack["tickIndex"], sub.ack["qty"]) == (1.0, 0, 0.25)
    updates = [o for o in sub.outputs if isinstance(o, Emit) and o.event == PLAYER_UPDATE]
    assert updates[0].player_id == P and updates[0].args[0]["cash"] == 9.75
    assert room.ledger(P)["balance"] == START - SOL // 4


def test_active_order_waits_for_the_next_tick_and_fills_at_its_price() -> None:
    seed = seed_where(lambda t: t[0] > 10, games=1)
    room = new_room(seed)
    step_until(room, in_presale)
    room.submit(P, OrderKind.BUY, {"amount": 1})
    step_until(room, at_tick(3))
    sub = room.submit(P, OrderKind.SELL, {"percentage": 25})
    assert sub.ack is None and room.pending_count == 1
    assert room.ledger(P)["qty"] == SOL  # nothing moved yet
    outs = room.step()
    assert room.tick == 4
    ack = acks(outs)[sub.order_id]
    assert ack["success"] is True and ack["tickIndex"] == 4
    assert ack["price"] == room.plan.price_at(4)
    expected, _ = accounting.sell(
        accounting.buy(open_account(START), SOL, 1.0, 0)[0], 25, room.plan.price_at(4), 4
    )
    led = room.ledger(P)
    assert (led["balance"], led["qty"], led["cost"], led["realised"]) == (
        expected.balance,
        expected.qty,
        expected.cost,
        expected.realised,
    )


def test_refusals_min_bet_no_sell_in_presale_one_sidebet_and_closed_phases() -> None:
    seed = seed_where(lambda t: t[0] > 5, games=1)
    room = new_room(seed)
    step_until(room, lambda r: r.phase == Phase.COOLDOWN)
    assert room.submit(P, OrderKind.BUY, {"amount": 0.01}).ack["reason"] == "phase_closed"
    step_until(room, in_presale)
    assert room.submit(P, OrderKind.BUY, {"amount": 0.0009}).ack["reason"] == "below_min_bet"
    assert room.submit(P, OrderKind.SELL, {"percentage": 100}).ack["reason"] == (
        "no_sell_before_start"
    )
    first = room.submit(P, OrderKind.SIDEBET, {"amount": 0.001, "xPayout": 5})
    assert first.ack["success"] is True and first.ack["sidebet"]["endTick"] == 40
    second = room.submit(P, OrderKind.SIDEBET, {"amount": 0.001, "xPayout": 5})
    assert second.ack["success"] is False and second.ack["reason"] == "sidebet_active"
    assert second.ack["sidebet"] is None
    assert room.submit(P, OrderKind.SIDEBET, {"amount": 0.001, "xPayout": 3}).ack["reason"] == (
        "bad_request"
    )
    assert room.submit(P, OrderKind.BUY, {"amount": "lots"}).ack["reason"] == "bad_request"
    assert room.submit(P, OrderKind.BUY, [1, 2]).ack["reason"] == "bad_request"
    assert room.submit(P, OrderKind.BUY, {"amount": float("nan")}).ack["reason"] == "bad_request"
    assert room.submit(P, OrderKind.SELL, {"percentage": 30}).ack["reason"] in (
        "no_sell_before_start",
        "bad_percentage",
    )
    assert room.submit("sim:nobody", OrderKind.BUY, {"amount": 1}).ack["reason"] == (
        "unknown_player"
    )
    assert room.submit(P, OrderKind.BUY, {"amount": 11}).ack["reason"] == "insufficient_balance"
    step_until(room, rugged)
    assert room.submit(P, OrderKind.BUY, {"amount": 0.01}).ack["reason"] == "game_over"
    assert room.health()["badOrders"] == 4
    # only the one sidebet stake left the account
    assert room.ledger(P)["balance"] >= START - SOL // 1000


def test_sidebet_wins_when_the_rug_is_inside_the_window_and_loses_otherwise() -> None:
    seed = seed_where(lambda t: 5 < t[0] <= 40 and t[1] > 42)
    room = new_room(seed)
    step_until(room, in_presale)
    room.submit(P, OrderKind.SIDEBET, {"amount": 0.1, "xPayout": 5})
    step_until(room, rugged)
    win = room.ledger(P)
    assert win["balance"] == START - SOL // 10 + 5 * (SOL // 10)
    assert win["sidebet"] is None
    step_until(room, in_presale)
    room.submit(P, OrderKind.SIDEBET, {"amount": 0.1, "xPayout": 5})
    step_until(room, at_tick(39))
    assert room.ledger(P)["sidebet"] is not None  # a rug at tick 40 would still win
    outs = room.step()  # tick 40 arrived without a rug: the bet can no longer win
    assert room.ledger(P)["sidebet"] is None
    assert any(isinstance(o, Emit) and o.event == PLAYER_UPDATE for o in outs)
    step_until(room, rugged)
    assert room.ledger(P)["balance"] == win["balance"] - SOL // 10


def test_a_new_sidebet_is_accepted_at_the_previous_end_tick() -> None:
    seed = seed_where(lambda t: t[0] > 45, games=1)
    room = new_room(seed)
    step_until(room, in_presale)
    room.submit(P, OrderKind.SIDEBET, {"amount": 0.01})
    step_until(room, at_tick(38))
    early = room.submit(P, OrderKind.SIDEBET, {"amount": 0.01})
    assert acks(room.step())[early.order_id]["reason"] == "sidebet_active"  # fills at 39
    on_time = room.submit(P, OrderKind.SIDEBET, {"amount": 0.01})
    ack = acks(room.step())[on_time.order_id]  # fills at 40 = previous end
    assert ack["success"] is True
    assert (ack["sidebet"]["startTick"], ack["sidebet"]["endTick"]) == (40, 80)


def test_rug_force_sells_and_refuses_orders_pending_at_the_rug() -> None:
    seed = seed_where(lambda t: t[0] > 3, games=1)
    room = new_room(seed)
    step_until(room, in_presale)
    room.submit(P, OrderKind.BUY, {"amount": 2})
    step_until(room, lambda r: r.next_kind == StepKind.RUG)
    buy = room.submit(P, OrderKind.BUY, {"amount": 1})
    sell = room.submit(P, OrderKind.SELL, {"percentage": 100})
    bet = room.submit(P, OrderKind.SIDEBET, {"amount": 0.01})
    outs = room.step()
    got = acks(outs)
    assert got[buy.order_id]["reason"] == "game_over"
    assert got[sell.order_id]["reason"] == "force_sold"
    assert got[bet.order_id]["reason"] == "game_over"
    rug_price = room.plan.rug_price
    expected = START - 2 * SOL + accounting.value_of(2 * SOL, rug_price)
    led = room.ledger(P)
    assert (led["balance"], led["qty"], led["cost"]) == (expected, 0, 0)
    assert led["realised"] == expected - START
    update = [o.args[0] for o in outs if isinstance(o, Emit) and o.event == PLAYER_UPDATE]
    assert update[-1]["positionQty"] == 0 and update[-1]["cash"] == expected / SOL


ACTIONS = st.lists(
    st.tuples(
        st.integers(0, 400),  # step index at which to send the order
        st.sampled_from(["buy", "sell", "sidebet"]),
        st.one_of(
            st.floats(0.0, 12.0, allow_nan=False),
            st.sampled_from([10, 25, 50, 100, 0.001, 0.0005]),
        ),
    ),
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=ACTIONS, seed=st.integers(0, 10_000))
def test_random_orders_never_break_the_books_and_each_gets_one_answer(script, seed) -> None:
    room = Room(str(seed), start_ms=DETERMINISTIC_EPOCH_MS, starting_balance=START)
    room.join(P, "alice")
    kinds = {"buy": OrderKind.BUY, "sell": OrderKind.SELL, "sidebet": OrderKind.SIDEBET}
    by_step: dict[int, list] = {}
    for at, kind, value in script:
        by_step.setdefault(at, []).append((kind, value))
    answered: dict[str, int] = {}
    waiting: set[str] = set()
    for i in range(max(by_step, default=0) + 400):
        for kind, value in by_step.get(i, []):
            key = "percentage" if kind == "sell" else "amount"
            sub = room.submit(P, kinds[kind], {key: value})
            if sub.ack is None:
                waiting.add(sub.order_id)
            else:
                answered[sub.order_id] = answered.get(sub.order_id, 0) + 1
        for o in room.step():
            if isinstance(o, Ack):
                assert o.order_id in waiting
                waiting.discard(o.order_id)
                answered[o.order_id] = answered.get(o.order_id, 0) + 1
        led = room.ledger(P)
        assert led["balance"] >= 0 and led["qty"] >= 0
        assert led["balance"] + led["cost"] == led["credited"] + led["realised"]
        if room.last_step.kind == StepKind.RUG:
            assert led["qty"] == 0 and led["sidebet"] is None
    assert not waiting or room.phase == Phase.ACTIVE
    assert all(n == 1 for n in answered.values())


def test_forget_drops_only_players_with_nothing_at_stake() -> None:
    room = new_room(seed_where(lambda t: t[0] > 3, games=1))
    room.join("sim:flat", "flat")
    step_until(room, in_presale)
    room.submit(P, OrderKind.BUY, {"amount": 0.1})
    assert room.forget(P) is False and P in room.players
    assert room.forget("sim:flat") is True and "sim:flat" not in room.players
    assert room.forget("sim:unknown") is False
