"""Probe 5, control-plane flood: a trading ``rugsd run --paper`` on a real ``rugsd sim``
while ``idle`` clients hold control connections open without a word (each reconnects
50 ms after the server drops or refuses it, like a stuck TUI) and ``busy`` clients ask
``status`` back to back (a status storm).

Under the flood the kill switch is pulled ``rounds`` times per trigger — the control
socket's ``kill``, ``rugsd kill`` (the CLI process, interpreter start included), the kill
file and SIGUSR1 — in a shuffled order, at random moments. Kill latency = the journal's
kill event (the moment the core went KILLED) − the trigger; the same without the flood
for comparison. After each kill the probe re-arms by deleting the latch and the kill
file (the daemon notices within 100 ms; no control slot needed).

Must be 0: kills that did not land (no kill event within 5 s); kills the trigger could
not deliver as it should (a socket kill refused, a ``rugsd kill`` that exits non-zero —
no daemon acknowledged it, it fell back to SIGUSR1); orders after a kill other than the
flattening sell (orders in the journal between the
kill and the re-arm that are not a 100 % sell, and buys the simulator made for us).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._reliability.loop import LoopThread
from bench._reliability.observer import Observer
from bench._reliability.procs import Daemon, Sandbox, now_ms, wait_for
from bench._reliability.report import must_be_zero, percentiles
from rugsd.daemon.control.client import (
    ControlError,
    ControlUnavailable,
    send_command,
    send_command_sync,
)
from rugsd.daemon.control.sockpath import short_address
from rugsd.risk.killswitch import kill_file_path, latch_path

TRIGGERS = ("socket", "cli", "kill_file", "sigusr1")
LANDS_WITHIN_S = 5.0
RECONNECT_S = 0.05


@dataclass
class Flood:
    """Idle and busy control clients on the probe's loop thread."""

    sock: Path
    idle: int
    busy: int
    running: bool = True
    idle_open: int = 0
    idle_connects: int = 0
    storm_ok: int = 0
    storm_refused: int = 0
    storm_unavailable: int = 0
    storm_ms: list[float] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def start(self) -> None:
        """Start every client."""
        self._tasks = [asyncio.create_task(self._idle()) for _ in range(self.idle)]
        self._tasks += [asyncio.create_task(self._busy()) for _ in range(self.busy)]

    async def stop(self) -> None:
        """Stop and close every client."""
        self.running = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _idle(self) -> None:
        while self.running:
            writer = None
            try:
                with short_address(self.sock) as addr:
                    reader, writer = await asyncio.open_unix_connection(addr)
                self.idle_open += 1
                self.idle_connects += 1
                try:
                    await reader.read()  # nothing sent; until the server drops us
                finally:
                    self.idle_open -= 1
            except OSError:
                pass
            finally:
                if writer is not None:
                    writer.close()
            await asyncio.sleep(RECONNECT_S)

    async def _busy(self) -> None:
        while self.running:
            t0 = time.perf_counter()
            try:
                answer = await send_command(self.sock, "status", None, "bench:storm", 2.0)
            except (ControlUnavailable, ControlError):
                self.storm_unavailable += 1
                await asyncio.sleep(0.01)
                continue
            if answer.get("type") == "result":
                self.storm_ok += 1
                self.storm_ms.append((time.perf_counter() - t0) * 1000)
            else:
                self.storm_refused += 1
                await asyncio.sleep(0.001)


def _pull(d: Daemon, how: str) -> str | None:
    """Pull the kill switch; a failure to report (None when it was accepted)."""
    if how == "socket":
        try:
            answer = send_command_sync(d.sock, "kill", {"reason": "flood probe"},
                                       "bench:flood", 5)
        except (ControlUnavailable, ControlError) as err:
            return f"socket: {err}"
        return None if answer.get("type") == "result" and answer.get("ok") else \
            f"socket: {answer.get('error') or answer.get('detail')}"
    if how == "cli":
        done = d.box.cli("kill", "--data-dir", str(d.data_dir), "--reason", "flood probe")
        return None if done.returncode == 0 else f"cli exit {done.returncode}: " \
            f"{done.stderr.strip()[-200:]}"
    if how == "kill_file":
        os.close(os.open(kill_file_path(d.run_dir), os.O_WRONLY | os.O_CREAT, 0o600))
        return None
    os.kill(d.pid, signal.SIGUSR1)
    return None


def _kill_round(d: Daemon, how: str, obs: Observer, hold_s: float) -> dict[str, Any]:
    """One kill: trigger, wait for its kill event, hold KILLED, re-arm; its figures."""
    since = d.query("SELECT coalesce(max(rowid), 0) FROM kill_events")[0][0]
    triggered = now_ms()
    failure = _pull(d, how)
    event = None
    with contextlib.suppress(AssertionError):
        event = wait_for(lambda: d.query("SELECT ts_ms FROM kill_events WHERE rowid > ? "
                                         "ORDER BY rowid LIMIT 1", (since,)), LANDS_WITHIN_S,
                         "the kill event", d.alive, poll=0.005)
    time.sleep(hold_s)
    rearm = now_ms()
    for path in (latch_path(d.run_dir), kill_file_path(d.run_dir)):
        path.unlink(missing_ok=True)
    if event is None:
        return {"how": how, "landed": False, "acknowledged": failure is None,
                "failure": failure or "no kill event"}
    wait_for(lambda: d.query("SELECT count(*) FROM risk_events WHERE ts_ms >= ? AND "
                             "new_state = 'active'", (rearm,))[0][0], 10, "the re-arm",
             d.alive)
    killed = event[0][0]
    orders = d.query("SELECT action, percentage FROM orders WHERE ts_ms > ? AND ts_ms < ?",
                     (killed, rearm))
    buys = [t for t in obs.trades if killed < t.ms < rearm and t.kind != "sell"]
    return {"how": how, "landed": True, "acknowledged": failure is None, "failure": failure,
            "latency_ms": killed - triggered,
            "non_flattening_orders": sum(1 for a, p in orders if a != "sell" or p != 100)
            + len(buys)}


def _rounds(d: Daemon, obs: Observer, rounds: int, rng: random.Random,
            hold_s: float) -> list[dict[str, Any]]:
    plan = [how for how in TRIGGERS for _ in range(rounds)]
    rng.shuffle(plan)
    out = []
    for how in plan:
        time.sleep(rng.uniform(0.1, 1.0))  # a random moment of the game
        out.append(_kill_round(d, how, obs, hold_s))
    return out


def _latencies(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {how: percentiles((r["latency_ms"] for r in results
                              if r["how"] == how and "latency_ms" in r), 1)
            for how in TRIGGERS}


def control_flood(root: Path, *, idle: int, busy: int, rounds: int, quiet_rounds: int,
                  hold_s: float = 0.5, seed: int = 91) -> dict[str, Any]:
    """Run the probe in ``root``; its figures (module docstring)."""
    box = Sandbox(root)
    lt = LoopThread("flood")
    obs = Observer()
    rng = random.Random(seed)
    flood: Flood | None = None
    try:
        sim = box.sim(20, seed)
        lt.run(obs.start(sim.url))
        d = box.daemon(root / "data", sim.url)
        d.start()
        d.wait_ready()
        wait_for(lambda: d.query("SELECT count(*) FROM fills")[0][0] >= 1, 60, "a fill",
                 d.alive)
        quiet = _rounds(d, obs, quiet_rounds, rng, hold_s)
        flood = Flood(d.sock, idle, busy)
        lt.run(flood.start())
        wait_for(lambda: flood.idle_open >= min(idle, 32), 30, "the idle clients", d.alive)
        t0 = time.monotonic()
        flooded = _rounds(d, obs, rounds, rng, hold_s)
        flood_s = time.monotonic() - t0
        lt.run(flood.stop())
        alive = d.running()
        exit_code = d.stop()
    finally:
        if flood is not None and flood.running:
            lt.run(flood.stop())
        lt.run(obs.stop())
        lt.close()
        box.close()
    missed = [r for r in flooded + quiet if not r["landed"]]
    refused = [r for r in flooded + quiet if not r["acknowledged"]]
    latencies = [r["latency_ms"] for r in flooded + quiet if "latency_ms" in r]
    return {
        "runs": d.starts,
        "faults_injected": flood.idle_connects + flood.storm_ok + flood.storm_refused
        + flood.storm_unavailable,
        "samples": {"kill_latency_ms": latencies},
        "kill_latency_ms_all": percentiles(latencies, 1),
        "idle_clients": idle,
        "busy_clients": busy,
        "idle_connections_made": flood.idle_connects,
        "storm_status_ok_per_s": round(flood.storm_ok / flood_s, 1),
        "storm_status_refused": flood.storm_refused,
        "storm_status_unavailable": flood.storm_unavailable,
        "storm_status_ms": percentiles(flood.storm_ms, 1),
        "kills_under_flood": len(flooded),
        "kill_latency_ms_under_flood": _latencies(flooded),
        "kills_quiet": len(quiet),
        "kill_latency_ms_quiet": _latencies(quiet),
        "kills_refused_detail": [(r["how"], r["failure"]) for r in refused][:8],
        "alive_and_clean_exit": alive and exit_code == 0,
        "checks": {
            "kills_not_landed": must_be_zero(len(missed)),
            "kills_refused_or_unacknowledged": must_be_zero(len(refused)),
            "non_flattening_orders_after_kill": must_be_zero(
                sum(r.get("non_flattening_orders", 0) for r in flooded + quiet)),
        },
    }
