"""The live path against what a logged-in player really receives (no browser).

Fixtures: ``tests/data/real/logged_in/`` (verbatim copies of the real captures plus a
checked transcription of the DevTools copy). The real frames go through the page-feed
decoder, the event parser and the order tracker exactly as they would on the real page:
the buy's ack is ``{success: true}`` with no price (the fill comes from our
``standard/newTrade``), and the ``playerUpdate`` that follows — ``cash``,
``positionQty``, ``avgCost`` — reconciles to the lamport with our own arithmetic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rugsd.daemon.events import PlayerUpdate, SidebetEvent, TradeEvent
from rugsd.daemon.execution import confirm
from rugsd.daemon.execution.frames import PacketKind, decode
from rugsd.daemon.execution.page_feed import PageFeed
from rugsd.daemon.execution.tracker import OrderTracker
from rugsd.daemon.game.accounting import Account, Sidebet
from rugsd.daemon.protocol.parse import EventParser
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

DATA = Path(__file__).resolve().parents[1] / "data" / "real" / "logged_in"
MD = (DATA / "devtools-capture-2025-12-27.md").read_text()
T = json.loads((DATA / "devtools-2025-12-27-transcribed.json").read_text())
ME = "did:privy:cma094vht019il80np6aidhqd"
TRACE = {"__trace": True, "traceparent": "00-f89f16bbd99069674a9a54d709743847-3781631892f7fc03-01"}


def captured(kind: str) -> list[dict[str, Any]]:
    """The ``data`` of the verbatim ``seq_*_<kind>.json`` captures."""
    return [json.loads(p.read_text())["data"] for p in sorted(DATA.glob(f"seq_*_{kind}.json"))]


def devtools_json(text: str) -> str:
    """A DevTools display of a frame (``4329[{success: true}]``) as JSON (quoted keys)."""
    return re.sub(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:", r'\1"\2":', text)


def leaves(obj: Any, key: str = ""):
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            yield from leaves(v, k)
    else:
        yield key, obj


def test_the_transcription_matches_the_verbatim_devtools_copy():
    checked = 0
    for name, item in T.items():
        if name.startswith("_"):
            continue
        if isinstance(item, str):
            assert item in MD, name
            checked += 1
            continue
        for key, value in leaves(item):
            shown = json.dumps(value) if not isinstance(value, dict) else "{}"
            assert f"{key}\n:\n{shown}" in MD, (name, key, value)
            checked += 1
    assert checked > 60


def test_real_logged_in_events_parse_and_player_state_updates_are_ignored_not_rejected():
    parser = EventParser()
    updates = [parser.parse("playerUpdate", [d], 1) for d in captured("playerUpdate")]
    updates += [parser.parse("playerUpdate", [T[k]], 2)
                for k in ("presale_playerUpdate", "buy_playerUpdate")]
    for d in captured("gameStatePlayerUpdate"):
        assert parser.parse("gameStatePlayerUpdate", [d], 3) is None
    trade = parser.parse("standard/newTrade", [TRACE, T["buy_newTrade"]], 4)
    result = parser.parse("currentSidebetResult", [TRACE, T["currentSidebetResult"]], 5)

    assert all(isinstance(u, PlayerUpdate) for u in updates)
    assert updates[0].player_id == "did:privy:cmaibr7rt0094jp0mc2mbpfu4"
    assert (updates[0].cash, updates[0].position_qty, updates[0].avg_cost) == (0.014135859, 0, 0)
    assert (updates[3].player_id, updates[3].cash, updates[3].position_qty,
            updates[3].avg_cost) == (ME, 0.09503525, 0.003384584, 1.181828845)
    assert isinstance(trade, TradeEvent) and trade.player_id == ME and trade.type == "buy"
    assert isinstance(result, SidebetEvent) and result.type == "won"
    assert (result.start_tick, result.end_tick, result.bet_amount) == (264, 304, 0.001)
    stats = parser.stats()
    assert stats["rejected"] == {}  # nothing real was thrown away
    assert stats["ignored"] == {"gameStatePlayerUpdate": 3}


def test_the_real_buy_confirms_from_its_trade_and_reconciles_to_the_lamport():
    # Arrange: our belief before the captured add-to-position buy: the presale buy of
    # 0.002 SOL at 1.00x, and the cash the venue then reported plus this buy's 0.002
    counts = {"duplicates": 0, "disagreements": 0}
    unsolicited: list = []
    tracker = OrderTracker(ME, counts, unsolicited.append)
    tracker.account = Account(balance=97_035_250, qty=2_000_000, cost=2_000_000,
                              credited=99_035_250, entry_tick=0)
    feed = PageFeed(lambda ev, raw: tracker.on_event(ev, raw, from_page=True),
                    tracker.on_ack, tracker.on_sent)
    waiter = tracker.begin(Order("o-1", Action.BUY, 2_000_000, 0, "", 0, 0, 1.0))
    tp = re.search(r'traceparent:\s*"([^"]+)"', T["buy_frame_sent"]).group(1)
    sent = "4229" + json.dumps(["buyOrder", {"__trace": True, "traceparent": tp},
                                T["buy_order_payload"]])
    ack = devtools_json(T["buy_ack_received"])

    # Act: the frames in the captured order: emit, our trade, playerUpdate, the ack
    feed.on_sent(sent)
    feed.on_received("42" + json.dumps(["standard/newTrade", TRACE, T["buy_newTrade"]]))
    feed.on_received("42" + json.dumps(["playerUpdate", T["buy_playerUpdate"]]))
    feed.on_received(ack)

    # Assert: the ack carries no price and is not a refusal; the trade filled the order
    pkt = decode(ack)
    assert pkt is not None and pkt.kind is PacketKind.ACK and pkt.args == ({"success": True},)
    assert confirm.ack_refusal(pkt.args) is None and waiter.rejected is None
    assert waiter.done.is_set() and waiter.applied is not None and waiter.applied.agrees
    assert (waiter.applied.fill.qty, waiter.applied.fill.amount) == (1_384_584, 2_000_000)
    assert counts["disagreements"] == 0
    # the venue's account (cash 0.09503525, positionQty 0.003384584, avgCost 1.181828845)
    # is our arithmetic to the lamport: avgCost x qty = 3_999_999 rounds within tolerance
    assert waiter.venue == Account(balance=95_035_250, qty=3_384_584, cost=4_000_000,
                                   credited=99_035_250, realised=0, entry_tick=0)
    assert feed.counts["acks"] == 1 and feed.counts["orders_sent"] == 1
    # with no belief the venue alone gives the cost within its precision
    alone = confirm.venue_account(PlayerUpdate(1, ME, None, 0.09503525, 0.003384584,
                                               1.181828845, 0.004, 0.000888953), None)
    assert abs(alone.cost - 4_000_000) <= confirm.cost_tolerance(alone.qty)


def test_the_real_sidebet_shapes_open_and_close_our_sidebet():
    presale = T["presale_playerUpdate"]
    opened = confirm.with_sidebet(Account(), presale["sideBet"])
    assert opened.sidebet == Sidebet(start_tick=0, end_tick=40, stake=1_000_000, x_payout=5)
    # totalInvested 0.002 holds the sidebet's stake too: the position cost 0.001 (avgCost 1)
    update = EventParser().parse("playerUpdate", [presale], 1)
    assert confirm.venue_account(update, None).cost == 1_000_000

    tracker = OrderTracker(ME, {"duplicates": 0, "disagreements": 0})
    tracker.account = Account(balance=10**8, credited=10**8 + 10**6, realised=-10**6,
                              sidebet=Sidebet(264, 304, 1_000_000, 5))
    feed = PageFeed(lambda ev, raw: tracker.on_event(ev, raw, from_page=True))
    feed.on_received("42" + json.dumps(["currentSidebetResult", TRACE,
                                        T["currentSidebetResult"]]))
    assert tracker.account.sidebet is None
