"""EventParser behaviour: rejections are counted by reason, blobs degrade, designed shapes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import structlog.testing

from rugsd.daemon.events import GameUpdate, PlayerUpdate, SidebetEvent
from rugsd.daemon.protocol.parse import EventParser, Reject

GID = "20260206-003482fbeaae4ad5"


def _active(**over: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "active": True,
        "price": 1.25,
        "partialPrices": {
            "startTick": 8,
            "endTick": 10,
            "values": {"8": 1.1, "9": 1.2, "10": 1.25},
        },
        "tradeCount": 3,
        "rugged": False,
        "tickCount": 10,
        "cooldownTimer": 0,
        "cooldownPaused": False,
        "allowPreRoundBuys": False,
        "leaderboard": [{"id": "x", "pnl": "garbage is fine here"}],
        "gameId": GID,
        "connectedPlayers": 10,
        "provablyFair": {"serverSeedHash": "ab" * 32, "version": "v3"},
    }
    payload.update(over)
    return payload


def _rejected(parser: EventParser, name: str = "gameStateUpdate") -> dict[str, int]:
    return parser.stats()["rejected"].get(name, {})


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"price": float("nan")}, "price:finite_number"),
        ({"price": float("inf")}, "price:finite_number"),
        ({"price": -0.5}, "price:greater_than_equal"),
        ({"price": "1.0"}, "price:float_type"),
        ({"tickCount": -1}, "tickCount:greater_than_equal"),
        ({"tickCount": 10**12}, "tickCount:less_than_equal"),
        ({"tickCount": 3.0}, "tickCount:int_type"),
        ({"active": 1}, "active:bool_type"),
        ({"gameId": "20260206-003482FBEAAE4AD5"}, "gameId:string_pattern_mismatch"),
        ({"gameId": None}, "gameId:string_type"),
        ({"cooldownTimer": None}, "cooldownTimer:int_type"),
        ({"price": None}, "value_error"),
    ],
)
def test_bad_used_field_rejects_with_reason(over: dict[str, Any], reason: str) -> None:
    parser = EventParser()
    assert parser.parse("gameStateUpdate", [_active(**over)], 1) is None
    assert _rejected(parser) == {reason: 1}


def test_missing_game_id_rejects() -> None:
    payload = _active()
    del payload["gameId"]
    parser = EventParser()
    assert parser.parse("gameStateUpdate", [payload], 1) is None
    assert _rejected(parser) == {"gameId:missing": 1}


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ([], Reject.NO_ARGS),
        ([1, 2], Reject.NOT_OBJECT),
        (["x"], Reject.NOT_OBJECT),
        ((None,), Reject.NOT_OBJECT),
    ],
)
def test_structural_rejections(args: Any, reason: Reject) -> None:
    parser = EventParser()
    assert parser.parse("standard/newTrade", args, 1) is None
    assert _rejected(parser, "standard/newTrade") == {reason.value: 1}


def test_payload_passed_without_args_list_is_tolerated() -> None:
    event = EventParser().parse("gameStateUpdate", _active(), 1)  # type: ignore[arg-type]
    assert isinstance(event, GameUpdate) and event.tick == 10


def test_unknown_events_are_ignored_not_rejected() -> None:
    parser = EventParser()
    for name in ("newChatMessage", "rugRoyaleUpdate", "gameStatePlayerUpdate", "whatever"):
        assert parser.parse(name, [{"gameId": GID}], 1) is None
    stats = parser.stats()
    assert stats["rejected"] == {} and sum(stats["ignored"].values()) == 4
    assert stats["total"] == 4


@pytest.mark.parametrize(
    ("over", "note"),
    [
        ({"partialPrices": {"values": {"8": "x"}}}, "partialPrices.values:float_type"),
        (
            {"partialPrices": {"values": {"08": 1.0}}},
            "partialPrices.values:string_pattern_mismatch",
        ),
        ({"partialPrices": {"values": {"99999": 1.0}}}, "partialPrices.values:tick_range"),
        ({"partialPrices": []}, "partialPrices.model_type"),
        ({"prices": [1.0, float("nan")]}, "prices.finite_number"),
        ({"gameHistory": [{"id": "bad"}]}, "gameHistory.id:string_pattern_mismatch"),
        ({"gameHistory": "nope"}, "gameHistory:list_type"),
        ({"provablyFair": {"serverSeedHash": 5}}, "provablyFair.serverSeedHash:string_type"),
    ],
)
def test_bad_optional_blob_is_dropped_and_the_tick_kept(over: dict[str, Any], note: str) -> None:
    parser = EventParser()
    event = parser.parse("gameStateUpdate", [_active(**over)], 1)
    assert isinstance(event, GameUpdate) and event.tick == 10 and event.price == 1.25
    stats = parser.stats()
    assert stats["degraded"] == {"gameStateUpdate": {note: 1}}
    assert stats["accepted"] == {"gameStateUpdate": 1}


def test_one_bad_history_entry_does_not_drop_the_others() -> None:
    good = {
        "id": "20251207-1e01ac417e8043ca",
        "timestamp": 1,
        "peakMultiplier": 1.5,
        "rugged": True,
        "prices": [1, 1.5, 0.01],
        "provablyFair": {"serverSeed": "s", "serverSeedHash": "h"},
    }
    bad = dict(good, peakMultiplier=float("nan"))
    event = EventParser().parse("gameStateUpdate", [_active(gameHistory=[good, bad])], 1)
    assert isinstance(event, GameUpdate)
    assert [g.game_id for g in event.history] == ["20251207-1e01ac417e8043ca"]
    assert event.history[0].prices == (1.0, 1.5, 0.01)


def test_rejections_are_logged_once_per_interval() -> None:
    parser = EventParser(log_interval_ms=1000)
    with structlog.testing.capture_logs() as logs:
        for ts in range(0, 900, 10):  # 90 bad events within one interval
            parser.parse("gameStateUpdate", [_active(price=-1.0)], ts)
        parser.parse("gameStateUpdate", [_active(price=-1.0)], 5000)
    lines = [e for e in logs if e["event"] == "protocol.rejected"]
    assert len(lines) == 2
    assert lines[0]["reason"] == "price:greater_than_equal" and lines[0]["suppressed"] == 0
    assert lines[1]["suppressed"] == 89 and lines[1]["log_level"] == "warning"
    assert _rejected(parser) == {"price:greater_than_equal": 91}


def test_new_side_bet_designed_shape() -> None:
    payload = {
        "playerId": "did:privy:abc",
        "gameId": GID,
        "username": "B31",
        "level": 35,
        "price": 0.062,
        "betAmount": 0.01,
        "xPayout": 5,
        "coinAddress": "So1",
        "endTick": 326,
        "startTick": 286,
        "tickIndex": 286,
        "timestamp": 1,
        "type": "placed",
    }
    event = EventParser().parse("newSideBet", [payload], 9)
    assert isinstance(event, SidebetEvent)
    assert (event.start_tick, event.end_tick, event.tick, event.type) == (286, 326, 286, "placed")
    assert event.bet_amount == 0.01 and event.x_payout == 5.0 and event.ts_ms == 9


@pytest.mark.parametrize(
    ("over", "kind"),
    [
        ({"type": "payout", "payout": 0.005}, "won"),
        ({"type": "lost", "payout": 0}, "lost"),
        ({"type": "settled", "payout": 0.0}, "lost"),
        ({"type": "settled", "payout": 0.5}, "won"),
    ],
)
def test_current_sidebet_result_types(over: dict[str, Any], kind: str) -> None:
    payload = {
        "playerId": "p",
        "gameId": GID,
        "betAmount": 0.001,
        "xPayout": 5,
        "startTick": 0,
        "endTick": 40,
        "tickIndex": 28,
        "price": 0.0196,
    }
    payload.update(over)
    event = EventParser().parse("currentSidebetResult", [payload], 1)
    assert isinstance(event, SidebetEvent) and event.type == kind


def test_unknown_sidebet_type_is_rejected() -> None:
    parser = EventParser()
    payload = {
        "playerId": "p",
        "gameId": GID,
        "betAmount": 0.001,
        "xPayout": 5,
        "startTick": 0,
        "endTick": 40,
        "type": "mystery",
    }
    assert parser.parse("newSideBet", [payload], 1) is None
    assert _rejected(parser, "newSideBet") == {"value_error": 1}


def test_player_update_designed_shape_and_sim_shape() -> None:
    spec = {
        "cash": 3.967072345,
        "cumulativePnL": 0.26,
        "positionQty": 0.2222919,
        "avgCost": 1.259605046,
        "totalInvested": 0.251352892,
        "id": "did:privy:x",
    }
    sim = {
        "playerId": "sim:me",
        "gameId": GID,
        "username": "me",
        "cash": 10,
        "positionQty": 0,
        "avgCost": 0,
        "totalInvested": 0,
        "pnl": -0.5,
        "sidebet": None,
    }
    parser = EventParser()
    a = parser.parse("playerUpdate", [spec], 1)
    b = parser.parse("playerUpdate", [sim], 2)
    assert isinstance(a, PlayerUpdate) and isinstance(b, PlayerUpdate)
    assert (a.player_id, a.cash, a.position_qty, a.pnl) == (
        "did:privy:x",
        3.967072345,
        0.2222919,
        0.26,
    )
    assert (b.player_id, b.game_id, b.cash, b.pnl) == ("sim:me", GID, 10.0, -0.5)


def test_player_update_without_position_is_rejected() -> None:
    parser = EventParser()
    assert parser.parse("playerUpdate", [{"cash": 1.0}], 1) is None
    assert _rejected(parser, "playerUpdate") == {"positionQty:missing": 1}


def test_parser_does_not_mutate_the_payload() -> None:
    payload = _active()
    before = copy.deepcopy(payload)
    EventParser().parse("gameStateUpdate", [payload], 1)
    assert payload == before


def test_unchanged_room_statistics_arrive_as_one_object() -> None:
    # the feature builder recomputes its session block only for a different object
    parser = EventParser()
    room = {"averageMultiplier": 1.9, "count2x": 40, "count10x": 4, "count50x": 1, "count100x": 0}
    first = parser.parse("gameStateUpdate", (_active(**room),), 1)
    again = parser.parse("gameStateUpdate", (_active(tickCount=11, **room),), 2)
    moved = parser.parse("gameStateUpdate", (_active(tickCount=12, **(room | {"count2x": 41})),), 3)

    assert isinstance(first, GameUpdate) and isinstance(again, GameUpdate)
    assert again.stats is first.stats and first.stats.count2x == 40
    assert moved.stats is not first.stats and moved.stats.count2x == 41
