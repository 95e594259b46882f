"""Venue-integrity audit: how fast games are audited, and that auditing costs the decision
loop nothing measurable.

Games are the simulator's (``Room``, seeded): real ``gameStateUpdate`` payloads parsed by
``EventParser``, the daemon's own path.

- ``games_audited_per_s`` / ``ticks_audited_per_s`` / ``audit_ms_p50`` / ``audit_ms_p99`` /
  ``audit_ms_max`` / ``longest_game_ticks``: ``audit_game`` (collect the claims of live
  ticks, partialPrices and the history record, recompute with the exact engine, compare)
  over ``N_GAMES`` whole games, one thread;
- ``observe_ns_per_update``: the decision core's hook (``GameObserver.observe``), per feed
  update, averaged over every update of those games;
- ``decision_p50_us`` / ``decision_p99_us`` ``_without_audit`` / ``_with_audit``: feed
  payload → risk verdict through the whole ``DecisionCore`` (committed ONNX bundle) on
  active ticks, the games played in real time at ``SPEED``× (a tick every
  ``250/SPEED`` ms) on an asyncio loop. *Without*: the core's audit hook removed and no
  audit. *With*: the daemon's arrangement — the hook on, every revealed game audited on
  the ``Auditor`` worker thread and its verdict stepped back into the core. The two are
  measured in alternating blocks (``BLOCKS`` each) so machine load drifts hit both;
  ``noise_p99_us`` is the spread of p99 between blocks of the same kind;
  ``decisions_during_an_audit`` counts active-tick decisions made while an audit was
  queued or running (the audit is requested at the next game's first cooldown event, so
  at the game's real cadence it is done long before the next decision);
- ``hook_off_p50_us`` / ``hook_on_p50_us`` / ``hook_off_p99_us`` / ``hook_on_p99_us``: the
  core stepped flat out over the same games with its audit hook removed / in place
  (no audit running), ``HOOK_RUNS`` alternating runs each, medians of the per-run
  percentiles: what keeping every update until the reveal costs a decision;
- ``stress_p99_us_without`` / ``stress_p99_us_with``: the worst case no game produces —
  the core stepped flat out while the worker thread audits the longest game over and
  over (pure Python: it contends for the GIL). Kept to show the bound, not the normal.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np

from rugsd.daemon.audit.check import audit_game
from rugsd.daemon.audit.observe import GameObserver
from rugsd.daemon.audit.runner import Auditor
from rugsd.daemon.config import Settings
from rugsd.daemon.protocol.parse import EventParser
from rugsd.daemon.runtime.build import make_core
from rugsd.daemon.sim.desk import GAME_STATE, Emit
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import DETERMINISTIC_EPOCH_MS

N_GAMES = 200
SPEED = 25.0
PACED_GAMES = 8  # per block
BLOCKS = 3
STRESS_TICKS = 20_000
HOOK_RUNS = 6


def _payloads(games: int, seed: str) -> list[tuple[int, dict]]:
    """(virtual ms, gameStateUpdate payload) of ``games`` whole games and their reveal."""
    room = Room(seed, start_ms=DETERMINISTIC_EPOCH_MS, starting_balance=10**12)
    out = []
    while room.games_played < games:
        for o in room.step():
            if isinstance(o, Emit) and o.event == GAME_STATE:
                out.append((room.now_ms, o.args[0]))
    return out


def _throughput() -> dict:
    parser = EventParser()
    updates = [parser.parse("gameStateUpdate", [p], ts) for ts, p in _payloads(N_GAMES, "bench")]
    observer = GameObserver()
    t0 = time.perf_counter_ns()
    requests = []
    for u in updates:
        found = observer.observe(u)
        if found:
            requests.extend(found)
    observe_ns = (time.perf_counter_ns() - t0) / len(updates)
    times = []
    ticks = longest = 0
    t0 = time.perf_counter()
    for r in requests:
        s = time.perf_counter()
        audit = audit_game(r)
        times.append(time.perf_counter() - s)
        assert audit.result.value == "verified", audit.detail
        ticks += audit.rug_tick
        longest = max(longest, audit.rug_tick)
    total = time.perf_counter() - t0
    ms = np.array(times) * 1000
    return {
        "games_audited": len(requests),
        "games_audited_per_s": round(len(requests) / total, 1),
        "ticks_audited_per_s": round(ticks / total),
        "audit_ms_p50": round(float(np.percentile(ms, 50)), 3),
        "audit_ms_p99": round(float(np.percentile(ms, 99)), 3),
        "audit_ms_max": round(float(ms.max()), 3),
        "longest_game_ticks": longest,
        "observe_ns_per_update": round(observe_ns, 1),
    }


class _NoAudit:
    """The core without its audit hook (the 'without' arm)."""

    pending = 0

    def observe(self, update: object) -> None:  # GameObserver.observe, doing nothing
        return None


async def _paced(stream: list[tuple[int, dict]], audited: bool, settings: Settings,
                 overlap: list[int]) -> list[int]:
    core = make_core(settings, run_id="bench", order_prefix="bench")
    if not audited:
        core.audit = _NoAudit()
    parser = EventParser()
    auditor = Auditor(core.step, lambda: int(time.time() * 1000)) if audited else None
    loop = asyncio.get_running_loop()
    start = loop.time()
    t_first = stream[0][0]
    samples: list[int] = []
    clock = time.perf_counter_ns
    for ts, payload in stream:
        due = start + (ts - t_first) / 1000 / SPEED
        delay = due - loop.time()
        await asyncio.sleep(max(0.0, delay))
        busy = auditor is not None and auditor.pending > 0
        t0 = clock()
        out = core.step(parser.parse("gameStateUpdate", (payload,), ts))
        t1 = clock()
        if payload.get("active") and not payload.get("rugged"):
            samples.append(t1 - t0)
            if busy:  # an audit was queued or running on the worker during this decision
                overlap.append(t1 - t0)
        if auditor is not None and out.audits:
            auditor.submit(out.audits)
    if auditor is not None:
        while auditor.pending:
            await asyncio.sleep(0.01)
        assert sum(core.audit_book.counts.values()) >= PACED_GAMES - 1
        auditor.close()
    return samples


def _hook_ab(settings: Settings) -> dict:
    parser = EventParser()
    events = [parser.parse("gameStateUpdate", (p,), ts) for ts, p in _payloads(30, "hook")]
    active = [e.active and not e.rugged for e in events]
    per_run: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    clock = time.perf_counter_ns
    for _ in range(HOOK_RUNS):
        for hooked in (False, True):
            core = make_core(settings, run_id="bench", order_prefix="bench")
            if not hooked:
                core.audit = _NoAudit()
            samples = []
            for e, is_tick in zip(events, active, strict=True):
                t0 = clock()
                core.step(e)
                if is_tick:
                    samples.append(clock() - t0)
            per_run[hooked].append((_p(samples, 50), _p(samples, 99)))
    med = {k: np.median(np.array(v), axis=0) for k, v in per_run.items()}
    return {"hook_off_p50_us": round(float(med[False][0]), 1),
            "hook_on_p50_us": round(float(med[True][0]), 1),
            "hook_off_p99_us": round(float(med[False][1]), 1),
            "hook_on_p99_us": round(float(med[True][1]), 1)}


def _stress(settings: Settings, audited: bool) -> list[int]:
    stream = _payloads(40, "stress")
    core = make_core(settings, run_id="bench", order_prefix="bench")
    parser = EventParser()
    events = [parser.parse("gameStateUpdate", (p,), ts) for ts, p in stream]
    observer = GameObserver()
    requests = [r for u in events for r in (observer.observe(u) or ())]
    victim = max(requests, key=lambda r: len(r.updates))  # the longest game
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            audit_game(victim)

    worker = threading.Thread(target=hammer, daemon=True) if audited else None
    if worker is not None:
        worker.start()
    samples = []
    clock = time.perf_counter_ns
    try:
        while len(samples) < STRESS_TICKS:
            core = make_core(settings, run_id="bench", order_prefix="bench")
            for e in events:
                t0 = clock()
                core.step(e)
                if e.active and not e.rugged:
                    samples.append(clock() - t0)
    finally:
        stop.set()
        if worker is not None:
            worker.join()
    return samples[:STRESS_TICKS]


def _p(ns: list[int], q: float) -> float:
    return round(float(np.percentile(np.array(ns) / 1000.0, q)), 1)


def run() -> dict:
    """All figures (see the module docstring)."""
    settings = Settings()
    out = _throughput()
    stream = _payloads(PACED_GAMES, "paced")
    runs: dict[bool, list[list[int]]] = {False: [], True: []}
    overlap: list[int] = []
    for _ in range(BLOCKS):
        for audited in (False, True):
            runs[audited].append(asyncio.run(_paced(stream, audited, settings, overlap)))
    without = [s for block in runs[False] for s in block]
    with_ = [s for block in runs[True] for s in block]
    spread = [max(p99s) - min(p99s) for p99s in
              ([_p(b, 99) for b in runs[kind]] for kind in (False, True))]
    out.update({
        "speed": SPEED,
        "paced_ticks_measured": len(with_),
        "decision_p50_us_without_audit": _p(without, 50),
        "decision_p99_us_without_audit": _p(without, 99),
        "decision_p50_us_with_audit": _p(with_, 50),
        "decision_p99_us_with_audit": _p(with_, 99),
        "p99_by_block_without": [_p(b, 99) for b in runs[False]],
        "p99_by_block_with": [_p(b, 99) for b in runs[True]],
        "noise_p99_us": round(max(spread), 1),
        "decisions_during_an_audit": len(overlap),
        **_hook_ab(settings),
        "stress_p99_us_without": _p(_stress(settings, False), 99),
        "stress_p99_us_with": _p(_stress(settings, True), 99),
        "what": "audit_game over simulated games; decision latency (payload -> verdict, "
                "ONNX bundle) with the Auditor thread vs without, games in real time x25",
    })
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
