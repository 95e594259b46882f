"""Episode streams: a simulated game is what the simulator emits, at the real cadence; a
recorded game is its recorded events."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from sim_stream import room_events

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import open_account
from rugsd.daemon.game.rules import COOLDOWN_MS, TICK_MS
from rugsd.daemon.journal.records import DecisionRecord, FillRecord, OrderRecord
from rugsd.daemon.runtime.replay import decision_line
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.transitions import GameFinished
from rugsd.strategy.features import ROOM_STATS_SLICE
from rugsd.training.backtest import RandomStrategy
from rugsd.training.env import core_settings
from rugsd.training.episodes import (
    PRESALE_DECISION_TIMERS,
    GameSpec,
    game_events,
    history_for,
    session_events,
)


def _spec(gid: str, prices: list[float], start: int = 1_000_000) -> GameSpec:
    return GameSpec(gid, np.array(prices), 0.005, start)


def test_events_follow_the_simulator_cadence():
    spec = _spec("20250101-aaaaaaaaaaaaaaaa", [1.0, 1.1, 0.9])

    events = game_events(spec)

    cooldown = [e for e in events if not e.active]
    assert [e.cooldown_ms for e in cooldown] == list(range(COOLDOWN_MS, 0, -100))
    assert [e.ts_ms - cooldown[0].ts_ms for e in cooldown] == list(range(0, COOLDOWN_MS, 100))
    assert [e.allow_prebuys for e in cooldown] == [e.cooldown_ms <= 10_000 for e in cooldown]
    ticks = [e for e in events if e.active and not e.rugged]
    assert [(e.tick, e.price) for e in ticks] == [(0, 1.0), (1, 1.1), (2, 0.9)]
    assert [e.ts_ms - spec.start_ms for e in ticks] == [0, TICK_MS, 2 * TICK_MS]
    rug, post = events[-2:]
    assert rug.rugged and rug.active and rug.tick == 3 and rug.price == 0.005
    assert post.rugged and post.ts_ms == rug.ts_ms + TICK_MS


def test_the_core_decides_41_times_in_presale_then_once_per_tick():
    spec = _spec("20250101-dddddddddddddddd", [1.0, 1.2, 1.3, 1.1])
    core = DecisionCore(RandomStrategy(StrategyConfig(), seed=1), core_settings(),
                        open_account(10**9))
    phases = []
    for ev in game_events(spec):
        phases += [r.phase for r in core.step(ev).records if isinstance(r, DecisionRecord)]

    assert phases.count(Phase.PRESALE.value) == len(PRESALE_DECISION_TIMERS) == 41
    assert phases.count(Phase.ACTIVE.value) == spec.rug_tick


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


def _shape(ev) -> tuple:
    base = (ev.ts_ms, ev.game_id, ev.active, ev.rugged, ev.cooldown_ms, ev.allow_prebuys)
    return base + ((ev.tick, ev.price) if ev.active else ())


def test_synthetic_updates_are_the_simulator_rooms_own():
    parsed, specs = room_events("episodes-eq", 6)

    synthetic = list(session_events(specs))

    assert [_shape(e) for e in synthetic] == [_shape(e) for e in parsed]
    for a, b in zip(synthetic, parsed, strict=True):  # gameHistory: same games, same prices
        assert [(h.game_id, h.prices) for h in a.history] == [
            (h.game_id, h.prices) for h in b.history]


def _run(events) -> tuple[list, list, list]:
    # the decision records carry each decision's feature vector
    settings = dataclasses.replace(core_settings("eq"), keep_features=True)
    core = DecisionCore(RandomStrategy(StrategyConfig(), seed=7), settings,
                        open_account(10**9))
    decisions, money, features = [], [], []
    for ev in events:
        for rec in core.step(ev).records:
            if isinstance(rec, DecisionRecord):
                line = json.loads(decision_line(rec))
                line.pop("features_hash")
                line.pop("features")
                decisions.append(line)
                f = np.frombuffer(rec.features, np.float32).copy()
                f[ROOM_STATS_SLICE] = 0.0  # the room's statistics: not part of the episodes
                features.append(f.tobytes())
            elif isinstance(rec, FillRecord | OrderRecord):
                money.append(rec)
    return decisions, money, features


def test_the_core_decides_fills_and_sees_the_same_on_room_and_synthetic_streams():
    parsed, specs = room_events("episodes-core", 8)

    room = _run(parsed)
    synthetic = _run(session_events(specs))

    assert room[0] == synthetic[0] and len(room[0]) > 8 * 41
    assert room[1] == synthetic[1] and any(isinstance(r, FillRecord) for r in room[1])
    assert room[2] == synthetic[2]
