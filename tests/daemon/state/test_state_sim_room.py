"""The simulator's room (pure, no sockets) → EventParser → GameStateMachine, end to end."""

from __future__ import annotations

from collections import Counter

from rugsd.daemon.events import GameUpdate
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.sim.desk import Emit
from rugsd.daemon.sim.room import Room
from rugsd.daemon.state.machine import GameStateMachine
from rugsd.daemon.state.transitions import Anomaly, GameFinished, HistoryRevealed


def test_simulated_games_parse_cleanly_and_finish_once_each() -> None:
    room = Room("state-machine-test", start_ms=0, starting_balance=10**10)
    parser, machine = EventParser(), GameStateMachine()
    anomalies: Counter[str] = Counter()
    finished: list[GameFinished] = []
    revealed: dict[str, HistoryRevealed] = {}
    for _ in range(8000):
        for out in room.step():
            if not isinstance(out, Emit):
                continue
            event = parser.parse(out.event, out.args, room.now_ms)
            if not isinstance(event, GameUpdate):
                continue
            for t in machine.apply(event):
                if isinstance(t, Anomaly):
                    anomalies[t.kind] += 1
                elif isinstance(t, GameFinished):
                    finished.append(t)
                elif isinstance(t, HistoryRevealed):
                    revealed[t.game.game_id] = t

    stats = parser.stats()
    assert stats["rejected"] == {} and stats["degraded"] == {}
    assert anomalies == Counter()  # a clean feed has no gaps, duplicates or mismatches
    assert len(finished) >= 10 and all(f.complete and f.rug_seen for f in finished)
    assert len({f.summary.game_id for f in finished}) == len(finished)
    for done in finished[:-1]:  # every finished game comes back in the next history
        record = revealed[done.summary.game_id].game
        assert record.prices == done.prices and record.server_seed
