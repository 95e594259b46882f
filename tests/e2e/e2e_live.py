"""Helpers for the end-to-end tests against a real daemon subprocess: bounded async
waits (the TUI runs on the test's event loop, so nothing may block it for long), the
``rugsd`` CLI run asynchronously, journal queries and Prometheus scrapes.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from daemon_proc import PYTHON, DaemonProc, clean_env
from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")

SPEED = 20.0  # daemon_proc.BASE_ENV runs the embedded simulator at x20
TICK_MS = 250 / SPEED  # one game tick of that simulator, in wall-clock ms
ENTRY = "('buy', 'sidebet')"  # order actions that open risk
# hold every position until the rug, a kill or a flatten (nothing else sells it)
HOLD = {"RUGSD_STRATEGY__TARGET_MULTIPLE": "1000", "RUGSD_STRATEGY__MAX_HOLD_TICKS": "5000"}
# buy in every presale, sell a few ticks into the game: orders all the time
CHURN = {"RUGSD_STRATEGY__MAX_HOLD_TICKS": "3"}


def now_ms() -> int:
    """Wall clock in ms (the daemon stamps its journal with the same clock)."""
    return time.time_ns() // 1_000_000


async def until(
    check: Callable[[], T],
    timeout: float,
    what: str,
    d: DaemonProc | None = None,
    step: float = 0.03,
) -> T:
    """Await until ``check()`` is truthy (returned); fail after ``timeout`` seconds.

    Yields to the event loop between polls so a Textual app under ``run_test`` keeps
    running; ``d`` makes a dead daemon fail at once with its log.
    """
    deadline = time.monotonic() + timeout
    while True:
        if d is not None:
            d.alive()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(step)


async def rugsd_async(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    """Run one ``rugsd`` CLI command without blocking the loop: (exit code, out, err)."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "rugsd.daemon.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"rugsd {' '.join(args)} did not finish in {timeout:g}s") from None
    return proc.returncode, out.decode(), err.decode()


async def status_json(d: DaemonProc) -> dict[str, Any]:
    """``rugsd status --json --data-dir …`` of a running daemon, parsed."""
    rc, out, err = await rugsd_async("status", "--json", "--data-dir", str(d.data_dir))
    assert rc == 0, f"rugsd status exited {rc}: {err}"
    return json.loads(out)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """``GET /metrics`` → {(sample name, sorted labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def state_gauge(samples: dict[tuple[str, tuple], float]) -> str | None:
    """The trading state the enum metric ``rugsd_trading_state`` has set to 1."""
    on = [
        dict(labels)["rugsd_trading_state"]
        for (name, labels), v in samples.items()
        if name == "rugsd_trading_state" and v == 1
    ]
    return on[0] if len(on) == 1 else None


def count(d: DaemonProc, sql: str, params: tuple = ()) -> int:
    """``SELECT count(*) …`` on the daemon's journal."""
    return int(d.query(sql, params)[0][0])


def holding_in_active(snap: dict[str, Any] | None, max_tick: int = 10_000) -> bool:
    """A snapshot (dict) showing an open position early in the active phase."""
    if not snap:
        return False
    game, acct = snap.get("game") or {}, snap.get("account") or {}
    return (
        game.get("phase") == "active"
        and 1 <= (game.get("tick") or 0) <= max_tick
        and (acct.get("qty") or 0) > 0
    )


def flat_and_idle(snap: dict[str, Any]) -> bool:
    """No position and no order in flight: the balance cannot change any more."""
    return snap["account"]["qty"] == 0 and snap["execution"]["pending_orders"] == 0
