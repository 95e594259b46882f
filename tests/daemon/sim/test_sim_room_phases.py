"""The pure room: phase timing, one event per tick, the rug, gameHistory, payload shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rugsd.daemon.game import engine
from rugsd.daemon.game.matching import OrderKind
from rugsd.daemon.sim.desk import GAME_STATE, NEW_SIDEBET, NEW_TRADE, Emit
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS, StepKind

SOL = 1_000_000_000


def new_room(seed: str = "phases") -> Room:
    return Room(seed, start_ms=DETERMINISTIC_EPOCH_MS, starting_balance=10 * SOL)


def play_games(room: Room, games: int, max_steps: int = 200_000) -> list[tuple[Any, list]]:
    """Step until ``games`` rugs have happened plus the next cycle's first event."""
    log: list[tuple[Any, list]] = []
    rugs = 0
    for _ in range(max_steps):
        out = room.step()
        log.append((room.last_step, out))
        if room.last_step.kind == StepKind.RUG:
            rugs += 1
        if rugs == games and room.last_step.kind == StepKind.COOLDOWN:
            return log
    raise AssertionError("room did not finish the games in the step budget")


def states(log) -> list[dict]:
    return [
        o.args[0] for _, out in log for o in out if isinstance(o, Emit) and o.event == GAME_STATE
    ]


def test_each_cooldown_has_150_events_15000_to_100_and_presale_from_10000() -> None:
    events = states(play_games(new_room(), 3))
    cooldowns = [e for e in events if e.get("active") is not True]
    per_game: dict[str, list[dict]] = {}
    for e in cooldowns:
        per_game.setdefault(e["gameId"], []).append(e)
    complete = [evs for evs in per_game.values() if len(evs) > 1]
    assert len(complete) == 3
    for evs in complete:
        assert [e["cooldownTimer"] for e in evs] == list(range(15000, 0, -100))
        assert all(e["allowPreRoundBuys"] is (e["cooldownTimer"] <= 10000) for e in evs)
    assert all(e["cooldownTimer"] != 0 for e in cooldowns)


def test_game_ticks_once_per_tick_from_price_one_and_rugs_at_the_rug_tick() -> None:
    room = new_room()
    log = play_games(room, 1)
    events = states(log)
    game_id = events[0]["gameId"]
    active = [e for e in events if e.get("active") is True and e["gameId"] == game_id]
    start = active[0]
    assert (start["tickCount"], start["price"], start["rugged"]) == (0, 1, False)
    ticks = [e for e in active if not e["rugged"]]
    assert [e["tickCount"] for e in ticks] == list(range(len(ticks)))
    rug = next(e for e in active if e["rugged"])
    first_plan_prices = room.history[0]["prices"]
    assert rug["tickCount"] == len(ticks) == len(first_plan_prices) - 1
    assert rug["price"] == first_plan_prices[-1] < 0.02
    assert [e["price"] for e in ticks] == first_plan_prices[:-1]
    last = rug["partialPrices"]
    assert last["endTick"] == rug["tickCount"]
    assert list(last["values"]) == [str(t) for t in range(last["startTick"], last["endTick"] + 1)]
    assert len(last["values"]) == min(5, rug["tickCount"] + 1)


def test_next_game_starts_with_history_whose_seed_reproduces_the_prices() -> None:
    room = new_room()
    events = states(play_games(room, 2))
    firsts = [e for e in events if e.get("cooldownTimer") == 15000]
    assert len(firsts) == 3
    first_id = firsts[0]["gameId"]
    second = firsts[1]
    assert second["gameId"] != first_id and second["active"] is False
    finished = second["gameHistory"][0]
    assert finished["id"] == first_id and finished["rugged"] is True
    seed = finished["provablyFair"]["serverSeed"]
    assert engine.seed_hash(seed) == finished["provablyFair"]["serverSeedHash"]
    # the hash was published before the game, in every event of that game
    assert {e["provablyFair"]["serverSeedHash"] for e in events if e["gameId"] == first_id} == {
        finished["provablyFair"]["serverSeedHash"]
    }
    outcome = engine.generate_game(seed, finished["id"], finished["gameVersion"])
    assert list(outcome.prices) == finished["prices"][:-1]
    assert finished["peakMultiplier"] == outcome.peak
    assert firsts[2]["gameHistory"][0]["id"] == second["gameId"]
    assert firsts[2]["gameHistory"][1] == finished


def test_postrug_event_repeats_the_rug_without_revealing_the_seed() -> None:
    room = new_room()
    log = play_games(room, 1)
    post = [out for step, out in log if step.kind == StepKind.POSTRUG]
    (payload,) = [o.args[0] for o in post[0]]
    assert payload["rugged"] is True and payload["active"] is True
    assert payload["gameHistory"] == []  # the finished game appears with the next game


def test_history_keeps_the_ten_most_recent_games() -> None:
    room = new_room("ten")
    events = states(play_games(room, 12))
    last = events[-1]
    ids = [g["id"] for g in last["gameHistory"]]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert room.games_played == 12


def test_same_seed_emits_identical_games_and_another_seed_does_not() -> None:
    a = json.dumps(states(play_games(new_room("same"), 2)))
    b = json.dumps(states(play_games(new_room("same"), 2)))
    c = json.dumps(states(play_games(new_room("other"), 2)))
    assert a == b
    assert a != c


# --------------------------------------------------------------- shapes vs the real feed
@pytest.fixture(scope="module")
def real(real_data_dir: Path) -> dict[str, Any]:
    samples = json.loads((real_data_dir / "key_samples.json").read_text())
    return {k: v["data"] for k, v in samples.items()}


@pytest.fixture(scope="module")
def raw_events(real_data_dir: Path) -> list[dict]:
    lines = (real_data_dir / "websocket_raw_samples.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def sim_log() -> tuple[Room, list]:
    room = new_room("shapes")
    room.join("sim:alice", "alice")
    log: list = []
    bought = bet = sold = False
    for _ in range(100_000):
        out = list(room.step())
        step = room.last_step
        if step.kind == StepKind.COOLDOWN and step.index == 60 and not bought:
            out += room.submit("sim:alice", OrderKind.BUY, {"amount": 0.5}).outputs
            out += room.submit("sim:alice", OrderKind.SIDEBET, {"amount": 0.01}).outputs
            bought = bet = True
        if step.kind == StepKind.TICK and step.index == 1 and bought and not sold:
            room.submit("sim:alice", OrderKind.SELL, {"percentage": 50})
            sold = True
        log.append((step, out))
        if room.games_played == 1 and step.kind == StepKind.COOLDOWN and step.index == 1:
            assert bet
            return room, log
    raise AssertionError("no complete game")


def _first(log, pred) -> dict:
    return next(
        o.args[0]
        for _, out in log
        for o in out
        if isinstance(o, Emit) and o.event == GAME_STATE and pred(o.args[0])
    )


def test_cooldown_payload_keys_match_the_real_samples(real, sim_log) -> None:
    _, log = sim_log
    minimal = _first(log, lambda e: e.get("cooldownTimer") == 14900)
    assert list(minimal) == list(real["01_cooldown_early_minimal"])
    full = _first(log, lambda e: e.get("cooldownTimer") == 15000 and e["gameHistory"])
    assert list(full) == list(real["02_cooldown_early_full"])
    presale = _first(log, lambda e: e.get("cooldownTimer") == 10000)
    assert list(presale) == list(real["03_presale_transition"])
    assert presale["allowPreRoundBuys"] is True


def test_active_payload_keys_match_the_real_samples(real, sim_log) -> None:
    _, log = sim_log
    start = _first(log, lambda e: e.get("active") is True and e["tickCount"] == 0)
    assert list(start) == list(real["04_game_start_tick0"])
    mid = _first(log, lambda e: e.get("active") is True and e["tickCount"] == 2)
    assert list(mid) == list(real["05_active_midgame"])
    rug = _first(log, lambda e: e.get("rugged") is True and "gameHistory" not in e)
    assert list(rug) == list(real["10_rug_event"])
    post = _first(log, lambda e: e.get("rugged") is True and "gameHistory" in e)
    assert list(post) == list(real["11_postrug_final"])
    for sub in ("partialPrices", "rugpool", "provablyFair", "rugRoyale"):
        assert list(mid[sub]) == list(real["05_active_midgame"][sub])


def test_leaderboard_and_history_entries_use_the_real_field_names(
    real, raw_events, sim_log
) -> None:
    _, log = sim_log
    mid = _first(log, lambda e: e.get("active") is True and e["tickCount"] == 2)
    (entry,) = mid["leaderboard"]
    real_entry = real["05_active_midgame"]["leaderboard"][0]
    assert list(entry) == list(real_entry)
    assert entry["id"] == "sim:alice" and entry["position"] == 1
    assert set(entry["sideBet"]) == {
        "startedAtTick",
        "gameId",
        "end",
        "betAmount",
        "xPayout",
        "coinAddress",
        "bonusPortion",
        "realPortion",
    }
    full = _first(log, lambda e: e.get("cooldownTimer") == 15000 and e["gameHistory"])
    real_hist = next(
        e["data"]["gameHistory"][0]
        for e in raw_events
        if isinstance(e["data"], dict) and e["data"].get("gameHistory")
    )
    mine = full["gameHistory"][0]
    assert list(mine) == list(real_hist)
    assert list(mine["provablyFair"]) == list(real_hist["provablyFair"])
    (sidebet,) = mine["globalSidebets"]
    assert list(sidebet) == list(real_hist["globalSidebets"][0])
    assert (sidebet["startedAtTick"], sidebet["end"], sidebet["betAmount"]) == (0, 40, 0.01)


def test_trades_use_the_two_argument_trace_form_like_the_real_feed(
    real, raw_events, sim_log
) -> None:
    _, log = sim_log
    trades = [o for _, out in log for o in out if isinstance(o, Emit) and o.event == NEW_TRADE]
    real_trades = [e["data"] for e in raw_events if e["event_type"] == "standard/newTrade"]
    assert all(isinstance(d, list) and len(d) == 2 for d in real_trades)
    assert {t.args[1]["type"] for t in trades} == {"buy", "sell"}
    for t in trades:
        trace, payload = t.args
        assert set(trace) == set(real_trades[0][0]) == {"__trace", "traceparent"}
        shape = real["06_trade_buy"] if payload["type"] == "buy" else real["07_trade_sell"]
        assert list(payload) == list(shape)
    gsu = [o for _, out in log for o in out if isinstance(o, Emit) and o.event == GAME_STATE]
    assert all(len(o.args) == 1 for o in gsu)
    assert all(
        isinstance(e["data"], dict) for e in raw_events if e["event_type"] == "gameStateUpdate"
    )
    sidebets = [o for _, out in log for o in out if isinstance(o, Emit) and o.event == NEW_SIDEBET]
    assert len(sidebets) == 1
    assert list(sidebets[0].args[0]) == [
        "playerId",
        "gameId",
        "username",
        "level",
        "price",
        "betAmount",
        "xPayout",
        "coinAddress",
        "startTick",
        "endTick",
        "tickIndex",
        "timestamp",
        "type",
    ]


def test_snapshot_for_a_mid_game_connect_carries_a_prices_backfill() -> None:
    room = new_room("snap")
    assert room.snapshot() is None
    while not (room.last_step and room.last_step.kind == StepKind.TICK and room.tick == 5):
        room.step()
    snap = room.snapshot()
    assert snap is not None and snap["tickCount"] == 5 and snap["active"] is True
    assert len(snap["prices"]) == 6 and snap["prices"][0] == 1
    assert snap["prices"][5] == snap["price"]


def test_history_timestamps_are_virtual_time_one_cycle_apart() -> None:
    room = new_room("clock")
    events = states(play_games(room, 3))
    newest, older = events[-1]["gameHistory"][0], events[-1]["gameHistory"][1]
    newest_rug_tick = len(newest["prices"]) - 1
    # rug to rug: 500 ms to the next cycle, 15 s of cooldown, 250 ms per tick
    assert newest["timestamp"] - older["timestamp"] == 500 + 15000 + 250 * newest_rug_tick
    first = events[-1]["gameHistory"][2]
    assert first["timestamp"] == DETERMINISTIC_EPOCH_MS + 15000 + 250 * (len(first["prices"]) - 1)
