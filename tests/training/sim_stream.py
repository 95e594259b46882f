"""The simulator's own feed for tests: a ``Room`` stepped in virtual time, its
``gameStateUpdate`` payloads parsed by the daemon's ``EventParser`` (or written as a
recording in our recorder's line format), and the ``GameSpec`` of each game it played."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.sim.desk import GAME_STATE, Emit
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS, StepKind
from rugsd.training.episodes import GameSpec


def room_payloads(seed: str, n_games: int) -> tuple[list[tuple[int, tuple]], list[GameSpec]]:
    """(virtual time, args) of every ``gameStateUpdate`` the room emits for its first
    ``n_games`` games (through each one's post-rug event), and those games as specs."""
    room = Room(seed, start_ms=DETERMINISTIC_EPOCH_MS, starting_balance=10**10)
    out: list[tuple[int, tuple]] = []
    specs: list[GameSpec] = []
    while len(specs) < n_games:
        kind = room.next_kind
        for item in room.step():
            if isinstance(item, Emit) and item.event == GAME_STATE:
                out.append((room.now_ms, item.args))
        if kind is StepKind.POSTRUG:
            plan = room.plan
            specs.append(GameSpec(plan.game_id, np.array(plan.outcome.prices, np.float64),
                                  plan.rug_price, plan.tick_ms(0), "sim"))
    return out, specs


def room_events(seed: str, n_games: int) -> tuple[list, list[GameSpec]]:
    """The room's updates as the daemon's parser gives them, and the games' specs."""
    payloads, specs = room_payloads(seed, n_games)
    parser = EventParser()
    events = [parser.parse(GAME_STATE, list(args), ts) for ts, args in payloads]
    assert all(e is not None for e in events)
    return events, specs


def write_room_recording(path: Path, seed: str, n_games: int) -> list[GameSpec]:
    """The room's feed as a recording in ``rugsd record``'s line format."""
    payloads, specs = room_payloads(seed, n_games)
    with path.open("w") as fh:
        for ts, args in payloads:
            fh.write(json.dumps({"recv_ts_ms": ts, "event": GAME_STATE, "args": list(args)})
                     + "\n")
    return specs
