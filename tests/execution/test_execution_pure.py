"""Pure parts of browser execution: frame decoding, confirmation, UI plans, selectors,
demonstration sequences (no browser)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rugsd.daemon.events import PlayerUpdate, SidebetEvent, TradeEvent
from rugsd.daemon.execution import confirm
from rugsd.daemon.execution.buttons import Sequencer, to_decimal
from rugsd.daemon.execution.controls import plan_ops
from rugsd.daemon.execution.frames import PacketKind, decode
from rugsd.daemon.execution.selectors import (
    AMOUNT_SHOWN,
    DEFAULT_SELECTORS,
    classifier_table,
    increments_for,
    merged,
    merged_expect,
)
from rugsd.daemon.game.accounting import Account, FillKind, open_account
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

SOL = 1_000_000_000
GAME = "20250101-0123456789abcdef"
ME = "sim:me"


def order(action: Action, amount: int = 0, percentage: int = 0) -> Order:
    return Order("o-1", action, amount, percentage, GAME, 5, 0, 1.0)


def trade(kind: str, amount: float, qty: float, price: float = 1.25, player: str = ME,
          trade_id: str = "t1") -> TradeEvent:
    return TradeEvent(1, trade_id, GAME, player, "me", kind, price, qty, 7, amount)


# -- frames ---------------------------------------------------------------------------------

def test_decode_reads_events_namespaces_and_acks():
    ev = decode('42["gameStateUpdate",{"tickCount":3}]')
    ns = decode('42/game,["x",1]')
    sent = decode('4217["buyOrder",{"amount":0.01}]')
    ack = decode('4317[{"success":false,"reason":"no_position"}]')

    assert ev.kind is PacketKind.EVENT and ev.name == "gameStateUpdate" and ev.args == ({"tickCount": 3},)
    assert ns.namespace == "/game" and ns.name == "x"
    assert sent.ack_id == 17 and sent.name == "buyOrder"
    assert ack.kind is PacketKind.ACK and ack.ack_id == 17 and ack.args[0]["success"] is False
    assert decode("2") is None and decode("3probe") is None and decode(b"42[]") is None
    assert decode('43[{"a":1}]') is None  # an ack needs an id


@given(st.one_of(st.text(max_size=60), st.binary(max_size=20), st.none(), st.integers()))
def test_decode_never_raises_on_garbage(frame):
    decode(frame)


@given(st.text(min_size=1, max_size=20), st.integers(0, 10**9),
       st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))
def test_decode_round_trips_encoded_events(name, ack_id, payload):
    pkt = decode("42" + str(ack_id) + json.dumps([name, payload]))
    assert pkt is not None and (pkt.name, pkt.ack_id, pkt.args) == (name, ack_id, (payload,))


# -- confirmation ---------------------------------------------------------------------------

def test_only_our_matching_trade_confirms_a_buy():
    buy = order(Action.BUY, 10_000_000)
    assert confirm.matches(buy, ME, trade("buy", 0.01, 0.008))
    assert not confirm.matches(buy, ME, trade("buy", 0.02, 0.016))  # another amount
    assert not confirm.matches(buy, ME, trade("buy", 0.01, 0.008, player="sim:other"))
    assert not confirm.matches(buy, ME, trade("sell", 0.01, 0.008))
    assert not confirm.matches(buy, None, trade("buy", 0.01, 0.008))


def test_fill_for_uses_accounting_and_agrees_with_the_venue_numbers():
    acct = open_account(10 * SOL)
    buy = order(Action.BUY, 10_000_000)
    applied = confirm.fill_for(buy, trade("buy", 0.01, 0.008), acct)  # 0.01 / 1.25
    assert applied.agrees and applied.fill.kind is FillKind.BUY and applied.fill.qty == 8_000_000
    assert applied.account.balance == 10 * SOL - 10_000_000
    wrong = confirm.fill_for(buy, trade("buy", 0.01, 0.009), acct)
    assert not wrong.agrees and wrong.account is None and wrong.fill.qty == 9_000_000


def test_sidebet_event_confirms_and_opens_the_window():
    bet = order(Action.SIDEBET, 2_000_000)
    ev = SidebetEvent(1, ME, GAME, "me", 0.002, 5.0, 12, 52, 12, 1.1, "placed")
    applied = confirm.fill_for(bet, ev, open_account(SOL))
    assert confirm.matches(bet, ME, ev)
    assert applied.account.sidebet.start_tick == 12 and applied.account.sidebet.end_tick == 52
    assert applied.fill.kind is FillKind.SIDEBET_PLACE


def venue_update(balance: int, qty: int, cost: int, *, invested: float = 0.0,
                 game_pnl: float = 0.0) -> PlayerUpdate:
    """A playerUpdate as the venue writes it: 9-decimal floats, avgCost rounded to 9."""
    avg = round(cost / qty, 9) if qty else 0.0
    return PlayerUpdate(1, ME, None, balance / SOL, qty / SOL, avg, invested, game_pnl)


@given(st.integers(0, 10**13), st.integers(0, 10**13), st.integers(1, 10**12))
def test_venue_account_takes_cash_qty_and_avg_cost_from_the_venue(balance, qty, cost):
    acct = confirm.venue_account(venue_update(balance, qty, cost, invested=99.0,
                                              game_pnl=-5.0), None)
    assert (acct.balance, acct.qty) == (balance, qty)
    assert abs(acct.cost - (cost if qty else 0)) <= confirm.cost_tolerance(qty)
    # totalInvested / cumulativePnL are game totals: never the cost nor the realised P&L
    assert acct.realised == 0 and acct.credited == acct.balance + acct.cost


@given(st.integers(0, 10**13), st.integers(1, 10**13), st.integers(1, 10**12),
       st.integers(-10**9, 10**9), st.integers(0, 10**12))
def test_a_venue_that_agrees_leaves_the_belief_exact_despite_its_rounding(
        balance, qty, cost, realised, moved):
    belief = Account(balance=balance, qty=qty, cost=cost, realised=realised,
                     credited=balance + cost - realised, entry_tick=7)
    same = confirm.venue_account(venue_update(balance, qty, cost), belief)
    assert same == belief
    # the venue paid out `moved` lamports we had not booked (a sidebet, a settlement)
    paid = confirm.venue_account(venue_update(balance + moved, qty, cost), belief)
    assert paid.realised == realised + moved and paid.credited == belief.credited
    assert paid.balance + paid.cost == paid.credited + paid.realised


def test_precheck_refuses_what_the_ui_cannot_express():
    assert confirm.precheck(order(Action.BUY, 999_999)) is not None
    assert confirm.precheck(order(Action.SELL, percentage=33)) is not None
    assert confirm.precheck(order(Action.WAIT)) is not None
    assert confirm.precheck(order(Action.SELL, percentage=25)) is None


def test_ack_refusal_reads_only_refusals():
    assert confirm.ack_refusal(({"success": False, "reason": "game_over", "message": "m"},)) == "game_over: m"
    assert confirm.ack_refusal(({"success": True},)) is None
    assert confirm.ack_refusal(()) is None


@given(st.integers(1, 10**12))
def test_sol_text_is_exact(lamports):
    assert Decimal(confirm.sol_text(lamports)) * SOL == lamports


# -- UI plans and selectors -----------------------------------------------------------------

def test_plans_fill_or_press_buttons_like_a_person():
    fill = plan_ops(order(Action.BUY, 12_000_000))
    assert fill.names == ("bet_input", "buy") and fill.ops[0] == (0, "fill", "0.012")
    buttons = plan_ops(order(Action.BUY, 1_120_000_000), "buttons")
    pressed = [buttons.names[op[0]] for op in buttons.ops]
    assert pressed == ["clear", "inc_1", "inc_0.1", "inc_0.01", "inc_0.01", "buy"]
    sell = plan_ops(order(Action.SELL, percentage=25))
    assert [sell.names[op[0]] for op in sell.ops] == ["pct_25", "sell"]
    assert increments_for(1_500) is None  # not a multiple of 0.001 SOL: fill instead


def test_default_map_follows_the_real_page_and_config_overrides_merge():
    sel = merged({"buy": "#buy", "sidebet": "  "})
    assert sel["buy"] == "#buy" and sel["sidebet"] == DEFAULT_SELECTORS["sidebet"]
    assert merged_expect({"buy": "^ACHETER", "sell": ""})["sell"] == "^SELL"
    d = DEFAULT_SELECTORS
    # BUY / SELL by position in _buttonsRow_, checked by starts-with text (never exact)
    assert d["buy"].endswith('[class*="_buttonSection_"]:nth-child(1)')
    assert d["sell"].endswith('[class*="_buttonSection_"]:nth-child(2)')
    assert d["buy"].startswith('[class*="_buttonsRow_"] > ')
    assert ":text-is" not in d["buy"] + d["sell"] and "bet-button" not in d["buy"] + d["sell"]
    # .bet-button is the SIDEBET badge, inside the sidebet banner
    assert d["sidebet"].endswith(".bet-button") and "sidebet-banner" in d["sidebet"]
    table = {row["id"]: row for row in classifier_table(merged(None))}
    assert table["DOUBLE"]["text"] == r"^X2$" and table["CLEAR"]["cls"] == "_clearButton_"
    assert table["BUY"] == {"id": "BUY", "category": "action", "cls": "_buttonSection_",
                            "text": "^BUY"}
    assert table["SIDEBET"]["cls"] == "bet-button"
    assert table["PCT_10"] == {"id": "PCT_10", "category": "percentage",
                               "cls": "_percentageBtn_", "text": "^10%$"}


def test_expected_texts_accept_the_real_labels_and_refuse_neighbours():
    e = merged_expect(None)

    def says(name: str, text: str) -> bool:
        return re.search(e[name], text, re.IGNORECASE) is not None

    assert says("buy", "BUY+0.030 SOL") and says("buy", "BUY") and not says("buy", "SELL")
    assert says("sell", "SELL") and not says("sell", "BUY+0.002 SOL")
    assert says("sidebet", "BET0.002SOL") and not says("sidebet", "BUY+0.002 SOL")
    assert says("clear", "X") and not says("clear", "X2") and says("double", "X2")
    assert says("inc_0.01", "+0.01") and not says("inc_0.01", "+0.001")
    assert says("pct_10", "10%") and not says("pct_10", "100%")
    shown = re.compile(AMOUNT_SHOWN["buy"], re.IGNORECASE)
    assert shown.match("BUY+0.030 SOL").group(1) == "0.030"
    assert shown.match("BUY +1.5 SOL").group(1) == "1.5" and shown.match("BUY") is None
    badge = re.compile(AMOUNT_SHOWN["sidebet"], re.IGNORECASE)
    assert badge.match("BET0.002SOL").group(1) == "0.002"


# -- demonstration sequences ---------------------------------------------------------------

def snap(button: str, seen: int, game: str = GAME, bet: str = "0") -> dict:
    return {"button_id": button, "game_id": game, "phase": "active", "tick": seen, "price": 1.5,
            "balance": 1.25, "position_qty": 0.5, "bet_text": bet, "ticks_seen": seen,
            "wall_ms": 1.7e12, "trusted": True}


def test_sequences_end_at_actions_and_at_new_games():
    seq = Sequencer("s")
    evs = [seq.event(snap(b, t, g)) for b, t, g in [
        ("INC_01", 1, GAME), ("BUY", 2, GAME), ("PCT_50", 10, GAME), ("SELL", 12, GAME),
        ("HALF", 13, GAME), ("MAX", 20, "20250101-ffffffffffffffff")]]
    assert [e.sequence_position for e in evs] == [0, 1, 0, 1, 0, 0]
    assert len({e.sequence_id for e in evs}) == 4
    assert [e.ticks_since_last_action for e in evs] == [-1, -1, 8, 10, 1, 8]
    assert evs[0].balance == Decimal("1.25") and evs[0].game_phase == 2
    assert seq.event(snap("NOPE", 1)) is None


@given(st.one_of(st.text(max_size=12), st.floats(allow_nan=True), st.none(), st.booleans()))
def test_to_decimal_never_raises(value):
    assert isinstance(to_decimal(value), Decimal)


# -- order tracker (feed side, no browser) ---------------------------------------------------

def test_tracker_learns_player_fills_once_and_takes_the_venue_account():
    from rugsd.daemon.execution.tracker import OrderTracker

    counts = {"duplicates": 0, "disagreements": 0}
    seen_accounts = []
    tr = OrderTracker(None, counts, seen_accounts.append)
    tr.on_event(PlayerUpdate(1, ME, GAME, 10.0, 0.0, 0.0, 0.0, 0.0), None, from_page=False)
    assert tr.player_id is None  # the daemon's feed cannot tell us who we are
    tr.on_event(PlayerUpdate(1, ME, GAME, 10.0, 0.0, 0.0, 0.0, 0.0), {"sideBet": None}, True)
    assert tr.player_id == ME and tr.account.balance == 10 * SOL and len(seen_accounts) == 1

    w = tr.begin(order(Action.BUY, 10_000_000))
    tr.on_sent("buyOrder", 4)
    tr.on_event(trade("buy", 0.01, 0.008), None, from_page=False)
    tr.on_event(trade("buy", 0.01, 0.008), None, from_page=True)  # same trade, other feed
    tr.on_event(PlayerUpdate(2, ME, GAME, 9.99, 0.008, 1.25, 0.01, 0.0), None, True)
    tr.on_ack("buyOrder", 4, ({"success": False, "reason": "late"},))  # after the fill: ignored
    tr.end()

    assert w.done.is_set() and w.rejected is None and counts["duplicates"] == 1
    assert w.applied.fill.qty == 8_000_000 and w.venue.balance == 9_990_000_000
    assert len(seen_accounts) == 1  # the update completed the order instead


def test_tracker_rejects_on_the_refusal_ack_of_our_own_emit_only():
    from rugsd.daemon.execution.tracker import OrderTracker

    tr = OrderTracker(ME, {"duplicates": 0, "disagreements": 0})
    w = tr.begin(order(Action.SELL, percentage=100))
    tr.on_ack("sellOrder", 9, ({"success": False, "reason": "x"},))  # not ours: no id yet
    assert not w.done.is_set()
    tr.on_sent("sellOrder", 10)
    tr.on_ack("sellOrder", 10, ({"success": False, "reason": "no_position", "message": "m"},))
    assert w.done.is_set() and w.rejected == "no_position: m"
