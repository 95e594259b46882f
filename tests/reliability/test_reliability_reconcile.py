"""The kill -9 probe's reconciliation can fail: a venue trade without a journaled order,
an order re-sent by a later run, ledgers that moved differently, a game whose ticks are
missing — each is counted (synthetic inputs; the probe itself runs in the slow test)."""

from __future__ import annotations

from bench._reliability.kill9_probe import (
    Checkpoint,
    Ledgers,
    Run,
    _ended_games,
    _intervals,
    _match_trades,
)
from bench._reliability.observer import Game, Trade

G = "20260101-00000000000000a1"
WINDOWS = [("run-1", 0, 1000), ("run-2", 2000, 5000)]


def _order(oid: str, run: str, ts: int, action: str = "buy", status: str = "filled",
           tick: int = 0, amount: int = 10_000_000) -> dict:
    return {"order_id": oid, "run_id": run, "ts_ms": ts, "game_id": G, "tick": tick,
            "action": action, "amount": amount, "status": status, "fill_tick": tick,
            "fill_amount": amount}


def test_each_trade_needs_its_own_journaled_order_from_the_run_alive_then() -> None:
    orders = [_order("a", "run-1", 100)]
    once = _match_trades([Trade(110, G, "buy", 0, 10_000_000)], orders, WINDOWS)
    assert once["unmatched"] == [] and once["resent"] == 0
    # the same order filled twice at the venue: the second trade has no order
    twice = _match_trades([Trade(110, G, "buy", 0, 10_000_000),
                           Trade(120, G, "buy", 0, 10_000_000)], orders, WINDOWS)
    assert len(twice["unmatched"]) == 1
    # a trade of run-1's order while run-2 runs: re-sent after the restart
    late = _match_trades([Trade(2500, G, "buy", 0, 10_000_000)], orders, WINDOWS)
    assert late["resent"] == 1
    # another amount is another order
    other = _match_trades([Trade(110, G, "buy", 0, 5_000_000)], orders, WINDOWS)
    assert len(other["unmatched"]) == 1


def test_ledgers_that_move_differently_are_a_mismatch_unless_explained() -> None:
    orders = [_order("a", "run-1", 100)]
    pairs = [(Trade(110, G, "buy", 0, 10_000_000), orders[0])]
    led = Ledgers(checkpoints=[Checkpoint(0, 100, 100), Checkpoint(500, 90, 90),
                               Checkpoint(900, 80, 85)])
    out = _intervals(led, pairs, orders, [], [])
    assert out["exact"] == 1 and len(out["mismatches"]) == 1
    explained = _intervals(led, pairs, orders, [], [700])  # an order in flight at a kill
    assert explained["exact"] == 1 and explained["explained"] == {"order_in_flight_at_kill": 1}
    # paper filled at tick 0, the venue at tick 1: not comparable, and said so
    late = _intervals(led, [(Trade(110, G, "buy", 1, 10_000_000), orders[0])], orders, [], [])
    assert late["explained"] == {"order_filled_differently": 1}


def test_a_game_counts_as_ended_only_when_watched_from_tick_0_to_its_rug() -> None:
    games = {
        "w": Game("w", first_tick_ms=1100, rug_ms=1500),  # watched whole by run 1
        "j": Game("j", first_tick_ms=900, rug_ms=1500),  # started before run 1 connected
        "k": Game("k", first_tick_ms=1600, rug_ms=1950),  # rug too close to the kill
    }
    obs = type("Obs", (), {"games": games, "order": list(games)})()
    runs = [Run(1, connected_ms=1000, end_ms=2000)]
    assert [g.game_id for g in _ended_games(obs, runs)] == ["w"]
