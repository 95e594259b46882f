"""Probe 1, hostile feed: a real game stream (``rugsd sim``, relayed by our hostile server)
with garbage of every kind interleaved (``garbage.py``), into a real ``rugsd run --paper``.

Figures: garbage events sent and survived; the daemon alive and its clean exit code; RSS
at the start (after a warm-up game), at the end and at its peak (``/proc/PID/status``);
orders and fills on bad input (every order's decision and every fill must be at a game
id, tick and price the real stream sent: must be 0); real ticks the journal lacks (must
be 0: garbage costs no real data); and the rejected-frame counters by reason as
``rugsd status --json`` and ``/metrics`` report them, against what was sent (must agree,
reason by reason; the two ignored-by-design kinds are counted nowhere).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._reliability.garbage import GarbageMaker, huge_frame
from bench._reliability.hostile import HostileServer
from bench._reliability.loop import LoopThread
from bench._reliability.procs import Sandbox, free_port, wait_for
from bench._reliability.report import (
    diff_counts,
    metrics_rejected,
    must_be_zero,
    must_hold,
    status_json,
)

SPEED = 20  # the simulator's speed: a tick every 12.5 ms
BATCH = 25  # garbage events per burst between two looks at the clock


def _rejected(report: dict[str, Any]) -> dict[str, int]:
    return dict(report["snapshot"]["feed"]["rejected_by_reason"])


async def _pump(server: HostileServer, maker: GarbageMaker, events: int, rate: float,
                huge: int) -> None:
    """Inject ``events`` garbage events at about ``rate`` a second, ``huge`` 10 MB frames
    spread among them (each followed by the wait for the client's reconnect)."""
    loop = asyncio.get_running_loop()
    huge_at = {events * (i + 1) // (huge + 1) for i in range(huge)}
    sent = 0
    started = loop.time()
    while sent < events:
        for _ in range(min(BATCH, events - sent)):
            if sent in huge_at and await server.inject(huge_frame) is not None:
                huge_at.discard(sent)
                await server.wait_client(30)
            if await server.inject(maker.make) is not None:
                sent += 1
            else:  # no client (reconnecting) or nothing relayed yet
                await server.wait_client(30)
                await asyncio.sleep(0.01)
        ahead = started + sent / rate - loop.time()
        await asyncio.sleep(max(ahead, 0))


def _real_stream(updates: list[dict[str, Any]]) -> tuple[set[str], dict[tuple[str, int], set]]:
    """Real game ids, and the prices the real stream sent per (game, tick)."""
    games: set[str] = set()
    prices: dict[tuple[str, int], set] = {}
    for u in updates:
        gid = u.get("gameId")
        games.add(gid)
        if (u.get("active") or u.get("rugged")) and u.get("tickCount") is not None:
            prices.setdefault((gid, int(u["tickCount"])), set()).add(float(u["price"]))
    return games, prices


def _on_bad_input(d: Any, games: set[str], prices: dict) -> tuple[list, list, int, int]:
    """Orders decided and fills made on anything the real stream did not send."""
    orders = d.query(
        "SELECT o.order_id, o.game_id, o.tick, o.action, d.phase, d.price FROM orders o "
        "LEFT JOIN decisions d ON d.order_id = o.order_id")
    bad_orders = []
    for oid, gid, tick, action, phase, price in orders:
        real = gid in games and (phase == "presale" or price in prices.get((gid, tick), ()))
        if not real:
            bad_orders.append((oid, gid, tick, action, phase, price))
    fills = d.query("SELECT game_id, tick, kind, price FROM fills")
    bad_fills = []
    for gid, tick, kind, price in fills:
        presale = kind == "buy" and price == 1.0 and tick <= 0
        if gid not in games or not (presale or price in prices.get((gid, tick), ())):
            bad_fills.append((gid, tick, kind, price))
    return bad_orders, bad_fills, len(orders), len(fills)


def hostile_feed(root: Path, *, events: int, rate: float, huge: int, seed: int = 7) -> dict:
    """Run the probe in ``root``; its figures (module docstring)."""
    box = Sandbox(root)
    lt = LoopThread("hostile-feed")
    server: HostileServer | None = None
    try:
        sim = box.sim(SPEED, seed)
        server = HostileServer(sim.url)
        lt.run(server.start())
        metrics_port = free_port()
        d = box.daemon(root / "data", server.url,
                       {"RUGSD_CONTROL__METRICS_PORT": str(metrics_port)})
        d.start()
        d.wait_ready()
        first_update = len(server.updates)  # what the daemon sees from here on
        # warm-up: a first trade, so the probe starts from a trading daemon
        wait_for(lambda: d.query("SELECT count(*) FROM fills")[0][0] >= 1, 60,
                 "a first fill", d.alive)
        before = _rejected(status_json(d))
        rss_start = d.rss_kb()
        rss_peak = rss_start
        maker = GarbageMaker(seed)
        t0 = time.monotonic()
        job = lt.spawn(_pump(server, maker, events, rate, huge))
        while not job.done():
            d.alive()
            rss_peak = max(rss_peak, d.rss_kb() or 0)
            time.sleep(0.2)
        job.result()
        attack_s = time.monotonic() - t0
        sent = Counter(g.expect for g in server.injected if g.expect is not None)
        kinds = Counter(g.kind for g in server.injected)
        ignored = sum(1 for g in server.injected if g.expect is None)
        garbage = [g for g in server.injected if g.kind != "too_large"]
        # the daemon has taken every frame once its counters stop moving (bounded)
        settled: list[dict[str, int]] = []

        def caught_up() -> bool:
            settled.append(diff_counts(_rejected(status_json(d)), before))
            return len(settled) > 1 and settled[-1] == settled[-2] \
                and sum(settled[-1].values()) >= sum(sent.values())

        wait_for(caught_up, 60, "the daemon to take every frame", d.alive, poll=0.5)
        report = status_json(d)
        by_status = diff_counts(_rejected(report), before)
        by_metrics = metrics_rejected(metrics_port)
        state = report["trading_state"]
        rss_end = d.rss_kb()
        rss_peak = max(rss_peak, rss_end or 0)
        alive = d.running()
        sent_before_stop = len(server.updates)
        time.sleep(0.5)  # the daemon takes what was sent before the cut; then it stops
        exit_code = d.stop()
        games, prices = _real_stream(server.updates)
        bad_orders, bad_fills, n_orders, n_fills = _on_bad_input(d, games, prices)
        journal_ticks = set(d.query("SELECT game_id, tick, price FROM ticks"))
        real_ticks = {(u["gameId"], int(u["tickCount"]), float(u["price"]))
                      for u in server.updates[first_update:sent_before_stop]
                      if u.get("active") and not u.get("rugged")}
        lost = real_ticks - journal_ticks
    finally:
        if server is not None:
            lt.run(server.stop())
        lt.close()
        box.close()
    expected = dict(sorted(sent.items()))
    by_reason = {r: {"sent": expected.get(r, 0), "status": by_status.get(r, 0),
                     "metrics": by_metrics.get(r, 0)}
                 for r in sorted(set(expected) | set(by_status) | set(by_metrics))}
    mismatched = [r for r, v in by_reason.items()
                  if not v["sent"] == v["status"] == v["metrics"]]
    return {
        "runs": d.starts,
        "faults_injected": len(garbage) + kinds.get("too_large", 0),
        "garbage_events_sent": len(garbage),
        "garbage_events_survived": len(garbage) if alive else 0,
        "oversized_frames_sent": kinds.get("too_large", 0),
        "garbage_by_kind": dict(sorted(kinds.items())),
        "ignored_by_design_sent": ignored,
        "real_events_relayed": server.relayed,
        "attack_s": round(attack_s, 1),
        "garbage_events_per_s": round(len(garbage) / attack_s, 1),
        "daemon_alive": alive,
        "daemon_exit_code": exit_code,
        "trading_state_after": state,
        "rss_start_mb": round((rss_start or 0) / 1024, 1),
        "rss_end_mb": round((rss_end or 0) / 1024, 1),
        "rss_peak_mb": round(rss_peak / 1024, 1),
        "rss_growth_mb": round(((rss_end or 0) - (rss_start or 0)) / 1024, 1),
        "orders": n_orders,
        "fills": n_fills,
        "orders_on_bad_input_detail": bad_orders[:10],
        "fills_on_bad_input_detail": bad_fills[:10],
        "real_ticks_sent": len(real_ticks),
        "real_ticks_lost_detail": sorted(lost)[:10],
        "rejected_by_reason": by_reason,
        "rejected_mismatched_reasons": mismatched,
        "checks": {
            "orders_on_bad_input": must_be_zero(len(bad_orders)),
            "fills_on_bad_input": must_be_zero(len(bad_fills)),
            "real_ticks_lost": must_be_zero(len(lost)),
            "daemon_alive": must_hold(alive and exit_code == 0,
                                      "alive after the attack, then a clean exit (0)"),
            "counters_agree": must_hold(
                not mismatched, "status, /metrics and what was sent agree for every reason"),
        },
    }
