"""Tick → click latency of the browser executor (DESIGN.md §3: p50 ≤ 5 ms, p99 ≤ 15 ms).

A simulator (``rugsd sim``, its own process) runs at 5x on loopback; a python-socketio client plays the daemon's feed. On
each active ``gameStateUpdate`` it stamps ``time.time_ns()`` and fires a 0.001 SOL BUY
through ``PlaywrightExecutor.fire`` (fill the bet input + click BUY in one ``evaluate`` on
cached handles). The page stamps the BUY click event at ``performance.timeOrigin +
event.timeStamp`` — the same wall-clock base in ms — so latency = page click − receipt.

The reference does the same with a plain ``page.locator(BUY).click()`` (Playwright's
actionability checks and waits). Figures: ``p50_ms``, ``p99_ms``, ``reference_p50_ms``,
``reference_p99_ms``, ``speedup_p50``, sample counts, ``fire_rtt_p50_ms`` (Python side of
one ``fire``), ``min_ms`` (a negative value would reveal a clock mismatch).
"""

from __future__ import annotations

import asyncio
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import socketio

from rugsd.daemon.config import BrowserConfig
from rugsd.daemon.execution.browser import PlaywrightExecutor
from rugsd.risk.verdicts import Order
from rugsd.strategy.intents import Action

SAMPLES = 200
REFERENCE_SAMPLES = 80
TIME_LIMIT_S = 120.0
SPEED = 5.0
ROOT = Path(__file__).resolve().parents[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(ex: PlaywrightExecutor, url: str, n: int, reference: bool) -> dict[str, Any]:
    """Stamp ``n`` active ticks and click on each; return latencies (ms)."""
    page = ex.page
    buy_sel = ex.controls.selectors["buy"]
    stamps: list[float] = []
    rtts: list[float] = []
    busy = asyncio.Lock()
    done = asyncio.Event()
    seq = 0
    sio = socketio.AsyncClient(reconnection=False)

    async def on_state(*args: Any) -> None:
        nonlocal seq
        t0 = time.time_ns()
        s = args[-1] if args else {}
        if not isinstance(s, dict) or not s.get("active") or s.get("rugged") or busy.locked():
            return
        if len(stamps) >= n:
            done.set()
            return
        async with busy:
            stamps.append(t0 / 1e6)
            seq += 1
            if reference:
                await page.locator(buy_sel).click()
            else:
                await ex.fire(Order(f"bench-{seq}", Action.BUY, 1_000_000, 0, "", 0, 0, 1.0))
            rtts.append((time.time_ns() - t0) / 1e6)

    sio.on("gameStateUpdate", on_state)
    before = len(await page.evaluate("window.__rugsdExec.recent(4000)"))
    await sio.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        await asyncio.wait_for(done.wait(), TIME_LIMIT_S)
    finally:
        await sio.disconnect()
    log = await page.evaluate("window.__rugsdExec.recent(4000)")
    clicks = [t for t, text in log[before:] if text.startswith("BUY")]
    lat = [c - s for s, c in zip(stamps, clicks, strict=False)]
    return {"lat": lat, "rtt": rtts}


async def _start_sim() -> tuple[asyncio.subprocess.Process, str]:
    """``rugsd sim`` in its own process (as in production: the venue is not the daemon)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from rugsd.daemon.cli import main; sys.exit(main())",
        "sim", "--port", "0", "--speed", str(SPEED), "--seed", "3",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=str(ROOT),
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    match = re.search(r"http://[0-9.]+:[0-9]+", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"rugsd sim did not start: {line!r}")
    return proc, match.group(0)


async def _run() -> dict[str, Any]:
    proc, url = await _start_sim()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ex = PlaywrightExecutor(BrowserConfig(), f"{url}/?player=bench", Path(tmp))
            try:
                await ex.start()
                # the reference clicks need an amount in the input: one fire sets it
                await ex.fire(Order("bench-0", Action.BUY, 1_000_000, 0, "", 0, 0, 1.0))
                fast = await _measure(ex, url, SAMPLES, reference=False)
                ref = await _measure(ex, url, REFERENCE_SAMPLES, reference=True)
            finally:
                await ex.stop()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    lat, rlat = fast["lat"], ref["lat"]
    p50, rp50 = statistics.median(lat), statistics.median(rlat)
    return {
        "p50_ms": round(p50, 3),
        "p99_ms": round(_pct(lat, 0.99), 3),
        "max_ms": round(max(lat), 3),
        "min_ms": round(min(lat), 3),
        "samples": len(lat),
        "fire_rtt_p50_ms": round(statistics.median(fast["rtt"]), 3),
        "reference_p50_ms": round(rp50, 3),
        "reference_p99_ms": round(_pct(rlat, 0.99), 3),
        "reference_samples": len(rlat),
        "speedup_p50": round(rp50 / p50, 1) if p50 > 0 else None,
        "target_p50_ms": 5.0,
        "target_p99_ms": 15.0,
    }


def run() -> dict[str, Any]:
    """Measure tick→click for the executor's fast path and for a plain locator click."""
    return asyncio.run(_run())


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
