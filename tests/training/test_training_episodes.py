"""Episode synthesis: a price path becomes the simulator's event sequence."""

from __future__ import annotations

import numpy as np

from rugsd.daemon.game.rules import COOLDOWN_MS, TICK_MS
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.transitions import GameFinished
from rugsd.training.episodes import PRESALE_TIMERS, GameSpec, game_events, history_for


def _spec(gid: str, prices: list[float], start: int = 1_000_000) -> GameSpec:
    return GameSpec(gid, np.array(prices), 0.005, start)


def test_events_follow_cooldown_presale_ticks_then_rug():
    spec = _spec("20250101-aaaaaaaaaaaaaaaa", [1.0, 1.1, 0.9])

    events = game_events(spec)

    assert events[0].cooldown_ms == COOLDOWN_MS and not events[0].allow_prebuys
    presale = events[1 : 1 + len(PRESALE_TIMERS)]
    assert [e.cooldown_ms for e in presale] == list(PRESALE_TIMERS)
    assert all(e.allow_prebuys and not e.active for e in presale)
    ticks = [e for e in events if e.active and not e.rugged]
    assert [(e.tick, e.price) for e in ticks] == [(0, 1.0), (1, 1.1), (2, 0.9)]
    assert [e.ts_ms - spec.start_ms for e in ticks] == [0, TICK_MS, 2 * TICK_MS]
    rug = events[-1]
    assert rug.rugged and rug.active and rug.tick == 3 and rug.price == 0.005


def test_state_machine_sees_a_complete_game_and_its_history():
    prev = _spec("20250101-bbbbbbbbbbbbbbbb", [1.0, 2.0], start=0)
    spec = _spec("20250101-cccccccccccccccc", [1.0, 1.2, 1.3, 1.1])
    machine = GameStateMachine()

    finished = []
    for ev in game_events(spec, history_for([prev])):
        finished += [t for t in machine.apply(ev) if isinstance(t, GameFinished)]

    assert len(finished) == 1 and finished[0].complete and finished[0].rug_seen
    assert finished[0].prices == (1.0, 1.2, 1.3, 1.1, 0.005)
    assert [g.game_id for g in machine.view.recent] == [prev.game_id, spec.game_id]
    assert machine.view.recent[0].rug_tick == 2
