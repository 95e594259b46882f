"""The parser against the real captures: every sample parses, values land in the right place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rugsd.daemon.events import FinishedGame, GameUpdate, TradeEvent
from rugsd.daemon.protocol.fastpath import fast_game_update
from rugsd.daemon.protocol.models import game_update_from_wire
from rugsd.daemon.protocol.parse import EventParser

IGNORED_NAMES = {"newChatMessage", "rugRoyaleUpdate", "battleEventUpdate"}


def _args(data: Any) -> list[Any]:
    """Two-argument events keep both arguments as a list in the capture."""
    return data if isinstance(data, list) else [data]


@pytest.fixture(scope="module")
def key_samples(real_data_dir: Path) -> dict[str, Any]:
    return json.loads((real_data_dir / "key_samples.json").read_text())


@pytest.fixture(scope="module")
def raw_samples(real_data_dir: Path) -> list[dict[str, Any]]:
    lines = (real_data_dir / "websocket_raw_samples.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_key_sample_is_accepted(key_samples: dict[str, Any]) -> None:
    parser = EventParser()
    for name, sample in key_samples.items():
        event = parser.parse(sample["event_type"], _args(sample["data"]), sample["timestamp_ms"])
        assert event is not None, name
    stats = parser.stats()
    assert stats["rejected"] == {} and stats["degraded"] == {}
    assert stats["accepted"] == {"gameStateUpdate": 7, "standard/newTrade": 4}


def test_raw_samples_accept_game_and_trades_and_ignore_the_rest(
    raw_samples: list[dict[str, Any]],
) -> None:
    parser = EventParser()
    for i, sample in enumerate(raw_samples):
        event = parser.parse(sample["event_type"], _args(sample["data"]), i)
        if sample["event_type"] in IGNORED_NAMES:
            assert event is None
        else:
            assert event is not None, (i, sample["event_type"])
    stats = parser.stats()
    assert stats["accepted"] == {"gameStateUpdate": 176, "standard/newTrade": 18}
    assert sum(stats["ignored"].values()) == 6
    assert set(stats["ignored"]) == IGNORED_NAMES
    assert stats["rejected"] == {} and stats["degraded"] == {}
    assert stats["total"] == len(raw_samples) == 200


def test_active_midgame_sample_fields(key_samples: dict[str, Any]) -> None:
    data = key_samples["05_active_midgame"]["data"]
    event = EventParser().parse("gameStateUpdate", [data], 1770365099281)
    assert isinstance(event, GameUpdate)
    assert event.ts_ms == 1770365099281
    assert event.game_id == "20260206-003482fbeaae4ad5"
    assert (event.active, event.rugged, event.cooldown_ms) == (True, False, 0)
    assert event.tick == 103 and event.price == 0.45273518739708896
    assert event.trade_count == 172 and event.connected_players == 170
    assert event.partial_prices[0] == (99, 0.42755024139653963)
    assert [t for t, _ in event.partial_prices] == [99, 100, 101, 102, 103]
    assert event.partial_prices[-1] == (103, event.price)
    assert event.stats is not None and event.stats.count2x == 52
    assert event.stats.average_multiplier == 15.037652089579474
    assert event.server_seed_hash == (
        "2b2bcc8b4b71d70a1f69163b18f883acada7d5c12f327fb4624e0df792bee893"
    )
    assert event.version == "v3" and event.backfill is None and event.history == ()


def test_cooldown_and_presale_samples(key_samples: dict[str, Any]) -> None:
    parser = EventParser()
    minimal = parser.parse("gameStateUpdate", [key_samples["01_cooldown_early_minimal"]["data"]], 0)
    presale = parser.parse("gameStateUpdate", [key_samples["03_presale_transition"]["data"]], 0)
    assert isinstance(minimal, GameUpdate) and isinstance(presale, GameUpdate)
    assert (minimal.active, minimal.cooldown_ms, minimal.allow_prebuys) == (False, 14900, False)
    assert minimal.price is None and minimal.tick is None and minimal.stats is None
    assert (presale.cooldown_ms, presale.allow_prebuys, presale.price) == (10000, True, 1.0)
    assert isinstance(presale.price, float)


def test_rug_sample_is_rugged_and_active(key_samples: dict[str, Any]) -> None:
    event = EventParser().parse("gameStateUpdate", [key_samples["10_rug_event"]["data"]], 0)
    assert isinstance(event, GameUpdate)
    assert event.rugged and event.active
    assert event.tick == 255 and event.price == 0.0017842710071060424
    assert event.partial_prices[-1] == (255, event.price)


def test_history_entries_without_prices_convert(key_samples: dict[str, Any]) -> None:
    event = EventParser().parse(
        "gameStateUpdate", [key_samples["02_cooldown_early_full"]["data"]], 0
    )
    assert isinstance(event, GameUpdate)
    assert len(event.history) == 10
    first = event.history[0]
    assert isinstance(first, FinishedGame)
    assert first.game_id == "20260206-74fb8b07116b4d39"
    assert first.timestamp_ms == 1770347058350
    assert first.peak == 7.070350670169239 and first.rugged and first.version == "v3"
    assert first.prices is None
    assert first.server_seed == "49f5826e9ef04669ad77a4d5cc8a7435f4c87b82a63ee650e62c292fe2cdc3c1"
    assert first.server_seed_hash == (
        "c1709d66f87be4fe6c6a3efff1901931bad48a9b06ae3cb3ff879db328dd5c71"
    )


def test_mid_game_backfill_and_history_with_prices(raw_samples: list[dict[str, Any]]) -> None:
    event = EventParser().parse("gameStateUpdate", _args(raw_samples[1]["data"]), 0)
    assert isinstance(event, GameUpdate)
    assert event.tick == 128 and event.backfill is not None and len(event.backfill) == 129
    assert event.backfill[0] == 1.0 and event.backfill[-1] == event.price
    by_id = {g.game_id: g for g in event.history}
    game = by_id["20251207-1e01ac417e8043ca"]
    assert game.prices is not None and len(game.prices) == 93
    assert game.peak == 1.223525528686852
    assert game.server_seed == "e2896666bec952ac4dbc65d73e1d08dcd5da597137dcf6255f23cd67db9dcd7c"


def test_trade_in_trace_form(raw_samples: list[dict[str, Any]]) -> None:
    sample = raw_samples[5]
    assert sample["data"][0]["__trace"] is True  # the trace object comes first
    event = EventParser().parse(sample["event_type"], sample["data"], 42)
    assert isinstance(event, TradeEvent)
    assert event.ts_ms == 42
    assert event.trade_id == "6fcc3612-d7e8-4d8e-bf91-443e84f8eae8"
    assert event.game_id == "20251207-e8186dbf38e046d1"
    assert event.type == "buy" and event.tick == 127
    assert event.price == 1.073446660724414 and event.qty == 0.093157865
    assert event.amount == 0.1 and event.coin == "solana" and event.username is None


@pytest.mark.parametrize(
    ("key", "kind", "tick"),
    [
        ("06_trade_buy", "buy", 37),
        ("07_trade_sell", "sell", 8),
        ("08_trade_short_close", "short_close", 62),
        ("09_trade_short_open", "short_open", 3),
    ],
)
def test_trade_types(key_samples: dict[str, Any], key: str, kind: str, tick: int) -> None:
    sample = key_samples[key]
    trace = {"__trace": True, "traceparent": "00-aa-bb-01"}
    event = EventParser().parse("standard/newTrade", [trace, sample["data"]], 7)
    assert isinstance(event, TradeEvent)
    assert event.type == kind and event.tick == tick
    assert event.player_id == sample["data"]["playerId"]


def test_fast_path_matches_validated_path_on_every_real_game_state(
    key_samples: dict[str, Any], raw_samples: list[dict[str, Any]]
) -> None:
    payloads = [s["data"] for s in key_samples.values() if s["event_type"] == "gameStateUpdate"]
    payloads += [_args(s["data"])[-1] for s in raw_samples if s["event_type"] == "gameStateUpdate"]
    fast_taken = 0
    for payload in payloads:
        slow = game_update_from_wire(payload, 5, [])
        fast = fast_game_update(payload, 5)
        if fast is not None:
            fast_taken += 1
            assert fast == slow
    assert fast_taken >= 170  # only history/backfill events leave the fast path


def test_game_ids_in_every_capture_match_the_strict_format(
    raw_samples: list[dict[str, Any]], key_samples: dict[str, Any]
) -> None:
    from rugsd.daemon.protocol.recording import _game_id_match

    ids = {_args(s["data"])[-1].get("gameId") for s in raw_samples} - {None}
    ids |= {s["data"].get("gameId") for s in key_samples.values()}
    assert len(ids) >= 3
    assert all(_game_id_match(i) for i in ids)
