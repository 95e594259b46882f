"""The simulator's logged-in events have the real shapes (``tests/data/real/logged_in/``):
``playerUpdate`` and ``gameStatePlayerUpdate`` carry every key of the real payloads, the
sidebet in the venue's own form, and a won sidebet sends ``currentSidebetResult`` first."""

from __future__ import annotations

import json
from pathlib import Path

from rugsd.daemon.events import Phase, PlayerUpdate, SidebetEvent
from rugsd.daemon.game.matching import OrderKind
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.sim.desk import Emit
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS, plan_game

DATA = Path(__file__).resolve().parents[2] / "data" / "real" / "logged_in"
T = json.loads((DATA / "devtools-2025-12-27-transcribed.json").read_text())
SOL = 1_000_000_000
P = "sim:alice"


def real(kind: str) -> dict:
    return json.loads(next(iter(sorted(DATA.glob(f"seq_*_{kind}.json")))).read_text())["data"]


def early_rug_seed() -> str:
    """A seed whose first game rugs within a presale sidebet's window (ticks 5..40)."""
    for i in range(5000):
        if 5 < plan_game(f"s{i}", 0, DETERMINISTIC_EPOCH_MS, "v3").rug_tick <= 40:
            return f"s{i}"
    raise AssertionError("no seed")


def mine(outs: list, event: str) -> list:
    return [o.args for o in outs if isinstance(o, Emit) and o.event == event and o.player_id == P]


def test_a_won_sidebet_sends_the_real_events_in_the_real_order():
    room = Room(early_rug_seed(), start_ms=DETERMINISTIC_EPOCH_MS, starting_balance=10 * SOL)
    room.join(P, "alice")
    outs: list = []
    while room.phase != Phase.PRESALE:
        outs = room.step()
    placed = room.submit(P, OrderKind.SIDEBET, {"amount": 0.001, "xPayout": 5})
    bought = room.submit(P, OrderKind.BUY, {"amount": 0.001})
    while room.phase != Phase.RUGGED:
        outs = room.step()

    # placing: playerUpdate then gameStatePlayerUpdate, with the real keys
    update = next(a[0] for a in [o.args for o in placed.outputs if o.event == "playerUpdate"])
    assert set(update) == set(real("playerUpdate"))
    assert set(update["sideBet"]) == set(T["presale_playerUpdate"]["sideBet"])
    assert (update["sideBet"]["startedAtTick"], update["sideBet"]["end"]) == (0, 40)
    state = next(o.args[0] for o in bought.outputs if o.event == "gameStatePlayerUpdate")
    assert set(state) == {"gameId", "leaderboardEntry"}
    assert set(state["leaderboardEntry"]) == set(real("gameStatePlayerUpdate")["leaderboardEntry"])
    # the rug: currentSidebetResult (trace + payload), playerUpdate, gameStatePlayerUpdate
    order = [o.event for o in outs if isinstance(o, Emit) and o.player_id == P]
    assert order == ["currentSidebetResult", "playerUpdate", "gameStatePlayerUpdate"]
    trace, result = mine(outs, "currentSidebetResult")[0]
    assert trace["__trace"] is True and set(result) == set(T["currentSidebetResult"])
    assert (result["type"], result["payout"], result["profit"]) == ("payout", 0.005, 0.004)
    final = mine(outs, "playerUpdate")[0][0]
    assert final["sideBet"] is None and final["positionQty"] == 0

    # and the daemon's parser reads them as it reads the real ones
    parser = EventParser()
    assert isinstance(parser.parse("playerUpdate", [update], 1), PlayerUpdate)
    won = parser.parse("currentSidebetResult", [trace, result], 2)
    assert isinstance(won, SidebetEvent) and won.type == "won" and won.player_id == P
    assert parser.stats()["rejected"] == {}
