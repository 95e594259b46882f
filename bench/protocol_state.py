"""Feed parsing and game-state throughput (the front of the replay path).

Figures (median of ROUNDS timed rounds, time.perf_counter):

- ``parse_active_per_s`` — ``EventParser.parse`` of a typical active ``gameStateUpdate``
  (key sample 05: tick 103, 10-entry leaderboard, rugRoyale, partialPrices), trace form;
  ``parse_fast_path_us`` / ``parse_validated_path_us`` — the hand-written path vs the
  full pydantic path on the same payload; ``parse_cooldown_per_s``, ``parse_trade_per_s``.
- ``recording_line_per_s`` — ``tick_line_to_update`` on a recorded tick line (dict in).
- ``apply_per_s`` / ``apply_view_per_s`` — ``GameStateMachine.apply`` (and reading
  ``view`` after each) over every tick line of the real recordings (201 k updates,
  cooldown and active, with their gaps and repeats), converted beforehand.
- ``pipeline_active_per_s`` — parse + apply + view for a synthetic active game built
  from the sample payload (fresh tick each event).
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rugsd.daemon.protocol.fastpath import fast_game_update
from rugsd.daemon.protocol.models import game_update_from_wire
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.protocol.recording import tick_line_to_update
from rugsd.daemon.state.machine import GameStateMachine

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
ROUNDS = 5
TRACE = {"__trace": True, "traceparent": "00-995f436e9eba1896d1b0c7ac918da7bd-62a872824ce30baf-01"}


def _rate(fn: Callable[[], int], rounds: int = ROUNDS) -> float:
    """Median items/s over ``rounds`` calls of ``fn`` (which returns items done)."""
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def _loop(call: Callable[[], Any], n: int) -> Callable[[], int]:
    def work() -> int:
        for _ in range(n):
            call()
        return n

    return work


def _recording_updates() -> list[Any]:
    updates = []
    for path in sorted((REAL / "recordings").glob("*.jsonl")):
        for raw in path.read_text().splitlines():
            try:
                update = tick_line_to_update(json.loads(raw))
            except ValueError:
                continue
            if update is not None:
                updates.append(update)
    return updates


def _active_game(sample: dict[str, Any], ticks: int) -> list[dict[str, Any]]:
    """Payloads of one active game shaped like the sample, tick 0..ticks-1."""
    out = []
    for t in range(ticks):
        p = copy.copy(sample)
        p["tickCount"] = t
        p["price"] = 1.0 + t * 1e-3
        lo = max(0, t - 4)
        p["partialPrices"] = {
            "startTick": lo,
            "endTick": t,
            "values": {str(k): 1.0 + k * 1e-3 for k in range(lo, t + 1)},
        }
        out.append(p)
    return out


def run() -> dict[str, float]:
    """Measure and return the figures."""
    samples = json.loads((REAL / "key_samples.json").read_text())
    active = samples["05_active_midgame"]["data"]
    cooldown = samples["01_cooldown_early_minimal"]["data"]
    trade = samples["06_trade_buy"]["data"]
    parser = EventParser()
    n = 40_000
    figures: dict[str, float] = {}
    figures["parse_active_per_s"] = _rate(
        _loop(lambda: parser.parse("gameStateUpdate", (TRACE, active), 1), n)
    )
    fast = _rate(_loop(lambda: fast_game_update(active, 1), n))
    slow = _rate(_loop(lambda: game_update_from_wire(active, 1, []), n // 2))
    figures["parse_fast_path_us"] = 1e6 / fast
    figures["parse_validated_path_us"] = 1e6 / slow
    figures["parse_cooldown_per_s"] = _rate(
        _loop(lambda: parser.parse("gameStateUpdate", (cooldown,), 1), n)
    )
    figures["parse_trade_per_s"] = _rate(
        _loop(lambda: parser.parse("standard/newTrade", (TRACE, trade), 1), n // 2)
    )
    line = json.loads(
        (REAL / "recordings" / "game_20251029_183608.jsonl").read_text().splitlines()[1]
    )
    figures["recording_line_per_s"] = _rate(_loop(lambda: tick_line_to_update(line), n))

    updates = _recording_updates()

    def apply_all() -> int:
        m = GameStateMachine()
        for u in updates:
            m.apply(u)
        return len(updates)

    def apply_view_all() -> int:
        m = GameStateMachine()
        for u in updates:
            m.apply(u)
            _ = m.view
        return len(updates)

    figures["apply_updates"] = len(updates)
    figures["apply_per_s"] = _rate(apply_all, 3)
    figures["apply_view_per_s"] = _rate(apply_view_all, 3)

    game = _active_game(active, 4000)

    def pipeline() -> int:
        p, m = EventParser(), GameStateMachine()
        for i, payload in enumerate(game):
            event = p.parse("gameStateUpdate", (payload,), i)
            m.apply(event)  # type: ignore[arg-type]
            _ = m.view
        return len(game)

    figures["pipeline_active_per_s"] = _rate(pipeline)
    return {k: round(v, 2) for k, v in figures.items()}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
