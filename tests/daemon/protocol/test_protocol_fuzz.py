"""Property tests: whatever arrives, the parser never raises and counts every call once;
the hand-written fast path never disagrees with the validated pydantic path."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rugsd.daemon.events import GameUpdate, PlayerUpdate, SidebetEvent, TradeEvent
from rugsd.daemon.protocol.fastpath import fast_game_update
from rugsd.daemon.protocol.models import MAX_WIRE_TICK, game_update_from_wire
from rugsd.daemon.protocol.parse import HANDLERS, EventParser

_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)
nasty = (
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            2**64,
            10**400 // 10**380,
            -(10**30),
            1.5,
            -0.0,
            float("nan"),
            float("inf"),
            float("-inf"),
            1e308,
            "",
            "1",
            "20260206-003482fbeaae4ad5",
            [],
            {},
            [1, 2],
            {"values": {"1": 1}},
            {"values": {"1": float("nan")}},
            [{"id": 1}],
            {"__trace": True},
        ]
    )
    | json_values
)

NAMES = [*HANDLERS, "newChatMessage", "gameStatePlayerUpdate", "rugRoyaleUpdate"]


def _load(real_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    samples = json.loads((real_dir / "key_samples.json").read_text())
    for sample in samples.values():
        out.append((sample["event_type"], sample["data"]))
    lines = (real_dir / "websocket_raw_samples.jsonl").read_text().splitlines()
    for i in (0, 1, 5, 160, 162, 165):  # active, backfill, trade, rug, post-rug, history
        sample = json.loads(lines[i])
        data = sample["data"]
        out.append((sample["event_type"], data[-1] if isinstance(data, list) else data))
    return out


@pytest.fixture(scope="module")
def real_payloads(real_data_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    return _load(real_data_dir)


def _check_event(event: object) -> None:
    """Whatever the parser accepts satisfies the contract of rugsd.daemon.events."""
    if isinstance(event, GameUpdate):
        assert event.price is None or (math.isfinite(event.price) and event.price >= 0)
        assert event.tick is None or 0 <= event.tick <= MAX_WIRE_TICK
        if event.active or event.rugged:
            assert event.price is not None and event.tick is not None
        ticks = [t for t, _ in event.partial_prices]
        assert ticks == sorted(ticks) and len(set(ticks)) == len(ticks)
        assert all(math.isfinite(p) and p >= 0 for _, p in event.partial_prices)
        if event.backfill is not None:
            assert all(math.isfinite(p) and p >= 0 for p in event.backfill)
    elif isinstance(event, TradeEvent):
        assert math.isfinite(event.price) and event.price >= 0 and event.tick >= 0
    elif isinstance(event, SidebetEvent):
        assert event.type in ("placed", "won", "lost")
    elif isinstance(event, PlayerUpdate):
        assert math.isfinite(event.cash) and event.cash >= 0
    else:
        assert event is None


def _nasty(data: st.DataObject) -> Any:
    # a copy: ``sampled_from`` hands out the same objects in every example, and a later
    # "nested" mutation would otherwise write into them (hypothesis then sees its own
    # strategy change between examples: FlakyStrategyDefinition)
    return copy.deepcopy(data.draw(nasty))


def _mutate(data: st.DataObject, payload: dict[str, Any]) -> dict[str, Any]:
    """Delete keys, replace values with garbage, poison nested blobs."""
    p = copy.deepcopy(payload)
    for _ in range(data.draw(st.integers(1, 4))):
        keys = sorted(p)
        op = data.draw(st.sampled_from(["delete", "replace", "nested", "add"]))
        if op == "delete" and keys:
            del p[data.draw(st.sampled_from(keys))]
        elif op == "replace" and keys:
            p[data.draw(st.sampled_from(keys))] = _nasty(data)
        elif op == "nested":
            target = data.draw(
                st.sampled_from(["partialPrices", "gameHistory", "prices", "provablyFair"])
            )
            blob = p.get(target)
            if isinstance(blob, dict) and isinstance(blob.get("values"), dict) and blob["values"]:
                key = data.draw(st.sampled_from(sorted(blob["values"])))
                blob["values"][data.draw(st.sampled_from([key, "x", "007", "-1", "1e3"]))] = (
                    _nasty(data)
                )
            elif isinstance(blob, list) and blob:
                blob[data.draw(st.integers(0, len(blob) - 1))] = _nasty(data)
            else:
                p[target] = _nasty(data)
        else:
            p[data.draw(st.text(max_size=8))] = _nasty(data)
    return p


@_SETTINGS
@given(name=st.sampled_from(NAMES) | st.text(max_size=20), args=st.lists(nasty, max_size=3))
def test_random_args_never_raise_and_are_counted(name: str, args: list[Any]) -> None:
    parser = EventParser()
    event = parser.parse(name, args, 1)
    _check_event(event)
    assert parser.stats()["total"] == 1


@_SETTINGS
@given(data=st.data())
def test_mutated_real_payloads_never_raise(
    real_payloads: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    name, payload = data.draw(st.sampled_from(real_payloads))
    mutated = _mutate(data, payload)
    with_trace = data.draw(st.booleans())
    args = [{"__trace": True, "traceparent": "00-1-2-01"}, mutated] if with_trace else [mutated]
    parser = EventParser()
    event = parser.parse(name, args, data.draw(st.integers(0, 2**62)))
    _check_event(event)
    stats = parser.stats()
    assert stats["total"] == 1
    assert (event is not None) == (sum(stats["accepted"].values()) == 1)


@_SETTINGS
@given(data=st.data())
def test_fast_path_agrees_with_validated_path(
    real_payloads: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    states = [p for n, p in real_payloads if n == "gameStateUpdate"]
    payload = _mutate(data, data.draw(st.sampled_from(states)))
    fast = fast_game_update(payload, 3)
    try:
        slow: GameUpdate | None = game_update_from_wire(payload, 3, [])
    except ValueError:  # pydantic's ValidationError is a ValueError
        slow = None
    if fast is not None:
        assert slow == fast


def test_many_reasons_stay_bounded() -> None:
    parser = EventParser()
    for i in range(500):
        parser.parse(f"event{i}", [{}], i)  # hostile: endless new event names
        parser.parse("gameStateUpdate", [{"gameId": i}], i)
    stats = parser.stats()
    assert len(stats["ignored"]) <= 101 and stats["total"] == 1000
    assert sum(stats["ignored"].values()) == 500
