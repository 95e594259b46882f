"""Probe 2, feed faults, on each transport (``websocket``, ``polling``): a real
``rugsd sim`` behind a TCP proxy of ours, a real ``rugsd run --paper`` on the proxy.

- **silent**: the simulator is paused mid-game (``SIGSTOP``: its sockets stay open, nothing
  arrives) for ``silence_s``, then resumed. Time to HALTED = the journal's ``feed_stale``
  risk event − the pause; recovery = ``feed_recovered`` − the resume.
- **dropped**: the proxy aborts the feed's connections mid-game and refuses new ones for
  ``down_s`` (the network fails, the game goes on). Reconnect = the daemon's
  ``feed_connected`` log line − the network's return; and
  the ticks of that game the journal lacks once it has rugged, for a game still running
  at the reconnect (its snapshot carries the game's ``prices``: the gap is filled).
- **restarted**: the simulator is killed (``kill -9``) mid-game and started again on the
  same port after ``down_s`` (a new seed: new games). Reconnect = ``feed_connected`` −
  the moment the new simulator answered ``/health``; outage = ``feed_connected`` − kill;
  first tick = the first tick of the new games in the journal − ``/health`` (a game switch
  without the old game's rug is believed after the feed's stale threshold, 2 s after the
  old game's last update: docs/reliability.md, one game at a time).

Orders while stale: orders whose intent the journal holds with a time between a
``feed_stale`` event and the next ``feed_recovered`` (must be 0).
"""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench._reliability.loop import LoopThread
from bench._reliability.observer import Observer
from bench._reliability.procs import Daemon, Sandbox, Sim, log_ms, now_ms, wait_for
from bench._reliability.proxy import TcpProxy
from bench._reliability.report import must_be_zero, must_hold, percentiles

SPEED = 20


def _mid_game(obs: Observer, d: Daemon, min_tick: int = 3) -> None:
    """Until the simulator is in an active game past ``min_tick`` (bounded)."""
    def ok() -> bool:
        _gid, phase, tick = obs.phase()
        return phase == "active" and tick >= min_tick
    wait_for(ok, 60, "an active game", d.alive, poll=0.005)


def _connects(d: Daemon) -> list[int]:
    """Times (ms) of the daemon's ``feed_connected`` log lines, this start."""
    return [log_ms(e) for e in d.log_events() if e.get("event") == "feed_connected"]


def _risk_events(d: Daemon, since_ms: int) -> list[tuple[int, str, str]]:
    return d.query("SELECT ts_ms, reason, new_state FROM risk_events WHERE ts_ms >= ? "
                   "ORDER BY ts_ms, rowid", (since_ms,))


def _first(events: list[tuple[int, str, str]], reason: str, after: int) -> int | None:
    return next((ts for ts, r, _s in events if r == reason and ts >= after), None)


def _wait_event(d: Daemon, reason: str, after: int, timeout: float) -> int:
    return wait_for(lambda: _first(_risk_events(d, after), reason, after), timeout,
                    f"a {reason} risk event", d.alive)


def _silent(d: Daemon, sim: Sim, obs: Observer, silence_s: float) -> dict[str, Any]:
    _mid_game(obs, d)
    paused = now_ms()
    sim.send_signal(signal.SIGSTOP)
    try:
        stale = _wait_event(d, "feed_stale", paused, silence_s + 10)
        time.sleep(max(0.0, silence_s - (now_ms() - paused) / 1000))
    finally:
        sim.send_signal(signal.SIGCONT)
    resumed = now_ms()
    recovered = _wait_event(d, "feed_recovered", resumed, 30)
    return {"halted_s": (stale - paused) / 1000, "recovered_s": (recovered - resumed) / 1000}


def _dropped(d: Daemon, proxy: TcpProxy, lt: LoopThread, obs: Observer,
             down_s: float) -> dict[str, Any]:
    _mid_game(obs, d)
    gid = obs.phase()[0]
    before = len(_connects(d))
    cut = now_ms()
    lt.run(proxy.cut(down_s))
    back = cut + round(down_s * 1000)
    connected = wait_for(lambda: _connects(d)[before:], 60, "the reconnect", d.alive)[0]
    wait_for(lambda: obs.games[gid].rug_ms is not None, 120, "the game's rug", d.alive)
    game = obs.games[gid]
    time.sleep(1.5)  # the game's ticks reach the journal with its rug (a decision batch)
    journal = dict(d.query("SELECT tick, price FROM ticks WHERE game_id = ? AND phase = "
                           "'active'", (gid,)))
    # only a game still running at the reconnect can be whole: the new connection's
    # snapshot carries its prices so far; the ticks of one that ended meanwhile were
    # never received (the next game's gameHistory reveals them; the journal keeps the
    # ticks it received)
    went_on = game.rug_ms is not None and game.rug_ms > connected
    missing = [t for t, p in game.prices.items() if journal.get(t) != p] if went_on else []
    return {"reconnect_s": (connected - back) / 1000, "went_on": went_on,
            "game_ticks": len(game.prices) if went_on else 0,
            "game_ticks_missing": len(missing)}


def _restarted(d: Daemon, sim: Sim, obs: Observer, down_s: float, seed: int) -> dict:
    _mid_game(obs, d)
    before = len(_connects(d))
    killed = now_ms()
    sim.kill9()
    time.sleep(down_s)
    sim.start(seed=seed)
    sim.wait_ready()
    up = now_ms()
    connected = wait_for(lambda: _connects(d)[before:], 60, "the reconnect", d.alive)[0]
    # the first tick of the new simulator's games the daemon took (an outage shorter than
    # the stale threshold halts nothing, so there may be no feed_recovered event)
    recovered = wait_for(lambda: d.query("SELECT min(ts_ms) FROM ticks WHERE ts_ms > ?",
                                         (up,))[0][0], 60, "a tick of the new simulator",
                         d.alive)
    return {"reconnect_s": (connected - up) / 1000, "outage_s": (connected - killed) / 1000,
            "trading_data_after_up_s": (recovered - up) / 1000}


def _orders_while_stale(d: Daemon, since_ms: int) -> tuple[int, int]:
    """(orders inside a stale window, stale windows) of the journal since ``since_ms``."""
    windows, start = [], None
    for ts, reason, _state in _risk_events(d, since_ms):
        if reason == "feed_stale" and start is None:
            start = ts
        elif reason == "feed_recovered" and start is not None:
            windows.append((start, ts))
            start = None
    if start is not None:
        windows.append((start, now_ms()))
    bad = sum(d.query("SELECT count(*) FROM orders WHERE ts_ms > ? AND ts_ms < ?", w)[0][0]
              for w in windows)
    return bad, len(windows)


def _one_transport(root: Path, transport: str, *, silences: int, silence_s: float,
                   drops: int, restarts: int, down_s: float, seed: int) -> dict[str, Any]:
    box = Sandbox(root)
    lt = LoopThread(f"faults-{transport}")
    obs, proxy = Observer(), None
    try:
        sim = box.sim(SPEED, seed)
        proxy = TcpProxy(sim.port)
        lt.run(proxy.start())
        lt.run(obs.start(sim.url))
        d = box.daemon(root / "data", proxy.url,
                       {"RUGSD_FEED__TRANSPORTS": json.dumps([transport])})
        d.start()
        d.wait_ready()
        wait_for(lambda: d.query("SELECT count(*) FROM fills")[0][0] >= 1, 60,
                 "a first fill", d.alive)
        started = now_ms()
        transports = {e.get("transport") for e in d.log_events()
                      if e.get("event") == "feed_connected"}
        silent = [_silent(d, sim, obs, silence_s) for _ in range(silences)]
        dropped = [_dropped(d, proxy, lt, obs, down_s) for _ in range(drops)]
        restarted = [_restarted(d, sim, obs, down_s, seed + 1 + i) for i in range(restarts)]
        wait_for(lambda: d.state() == "ACTIVE", 30, "ACTIVE again", d.alive)
        fills_before = d.query("SELECT count(*) FROM fills")[0][0]
        wait_for(lambda: d.query("SELECT count(*) FROM fills")[0][0] > fills_before, 60,
                 "trading again", d.alive)
        transports |= {e.get("transport") for e in d.log_events()
                       if e.get("event") == "feed_connected"}
        reconnects = d.snapshot()["feed"]["reconnects"]
        alive = d.running()
        exit_code = d.stop()
        orders_stale, windows = _orders_while_stale(d, started)
    finally:
        if proxy is not None:
            lt.run(proxy.stop())
        lt.run(obs.stop())
        lt.close()
        box.close()
    return {
        "runs": d.starts,
        "faults_injected": silences + drops + restarts,
        "reconnects_counted": reconnects,
        "samples": {"recovery_s": {
            "silent_recovered": [s["recovered_s"] for s in silent],
            "drop_reconnect": [x["reconnect_s"] for x in dropped],
            "restart_reconnect": [r["reconnect_s"] for r in restarted]}},
        "transports_used": sorted(t for t in transports if t),
        "silent_halted_s": percentiles(s["halted_s"] for s in silent),
        "silent_recovered_s": percentiles(s["recovered_s"] for s in silent),
        "drop_reconnect_s": percentiles(x["reconnect_s"] for x in dropped),
        "drops_game_went_on": sum(1 for x in dropped if x["went_on"]),
        "dropped_game_ticks": sum(x["game_ticks"] for x in dropped),
        "dropped_game_ticks_missing": sum(x["game_ticks_missing"] for x in dropped),
        "restart_reconnect_s": percentiles(r["reconnect_s"] for r in restarted),
        "restart_outage_s": percentiles(r["outage_s"] for r in restarted),
        "restart_first_tick_after_up_s": percentiles(r["trading_data_after_up_s"]
                                                     for r in restarted),
        "stale_windows": windows,
        "orders_while_stale": orders_stale,
        "alive_and_clean_exit": alive and exit_code == 0,
    }


def feed_faults(root: Path, *, silences: int, silence_s: float, drops: int, restarts: int,
                down_s: float = 0.5, seed: int = 31, parallel: bool = False) -> dict[str, Any]:
    """Run the probe on both transports in ``root``; its figures (module docstring).
    ``parallel`` runs the two transports at the same time (two sandboxes: CI's wall
    time), else one after the other (the benchmark's quieter figures)."""
    def one(i: int, transport: str) -> dict[str, Any]:
        return _one_transport(root / transport, transport, silences=silences,
                              silence_s=silence_s, drops=drops, restarts=restarts,
                              down_s=down_s, seed=seed + 100 * i)

    transports = ("websocket", "polling")
    with ThreadPoolExecutor(max_workers=2 if parallel else 1) as pool:
        jobs = [pool.submit(one, i, t) for i, t in enumerate(transports)]
        out: dict[str, Any] = {t: job.result() for t, job in zip(transports, jobs,
                                                                strict=True)}
    out["parallel"] = parallel
    ws, poll = out["websocket"], out["polling"]
    both = (ws, poll)
    out["runs"] = ws["runs"] + poll["runs"]
    out["faults_injected"] = ws["faults_injected"] + poll["faults_injected"]
    out["samples"] = {"recovery_s": {
        what: ws["samples"]["recovery_s"][what] + poll["samples"]["recovery_s"][what]
        for what in ws["samples"]["recovery_s"]}}
    out["checks"] = {
        "orders_while_stale": must_be_zero(ws["orders_while_stale"]
                                           + poll["orders_while_stale"]),
        "dropped_game_ticks_missing": must_be_zero(ws["dropped_game_ticks_missing"]
                                                   + poll["dropped_game_ticks_missing"]),
        "each_transport_used_alone": must_hold(
            ws["transports_used"] == ["websocket"] and poll["transports_used"] == ["polling"],
            "the websocket run connected only over websocket, the polling run only polling"),
        "faults_counted": must_hold(
            all(f["reconnects_counted"] >= drops + restarts and f["stale_windows"] >= silences
                for f in both),
            "status counts a reconnect per drop and restart, the journal a stale window "
            "per silence, on each transport"),
        "alive_and_clean_exit": must_hold(ws["alive_and_clean_exit"]
                                          and poll["alive_and_clean_exit"],
                                          "the daemon survived every fault, then exit 0"),
    }
    return out
