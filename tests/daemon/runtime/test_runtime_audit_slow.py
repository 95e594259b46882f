"""The venue audit never blocks the decision loop: with an artificially slow auditor (each
audit takes 3 s, in its worker thread) a real in-process daemon on the embedded simulator
keeps deciding at the game's cadence while the audit runs, and the verdict still arrives
and is journaled when the audit ends."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from pathlib import Path

import pytest
from daemon_proc import wait_async

from rugsd.daemon.audit import check
from rugsd.daemon.config import Settings
from rugsd.daemon.runtime.daemon import Daemon

SLOW_S = 3.0
SPEED = 4  # a tick every 62.5 ms, presale decisions every 62.5 ms too


def _decision_times(db: Path, lo: int, hi: int) -> list[int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT ts_ms FROM decisions WHERE ts_ms BETWEEN ? AND ? "
                            "ORDER BY ts_ms", (lo, hi)).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


async def test_a_slow_audit_does_not_delay_decisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: every audit sleeps 3 s before doing the real work
    windows: list[tuple[int, int]] = []
    real_audit = check.audit_game

    def slow_audit(request):
        start = time.time_ns() // 1_000_000
        time.sleep(SLOW_S)
        result = real_audit(request)
        windows.append((start, time.time_ns() // 1_000_000))
        return result

    monkeypatch.setattr(check, "audit_game", slow_audit)
    settings = Settings.model_validate({
        "sim": {"port": 0, "speed": SPEED, "seed": 18},  # first games: 96, 136 ticks
        "strategy": {"name": "never"},
        "journal": {"decision_flush_interval_ms": 100},
    })
    daemon = Daemon(settings, tmp_path / "data")
    task = asyncio.create_task(daemon.run())
    try:
        # Act: wait for the first audit verdict to come back
        await wait_async(lambda: hasattr(daemon, "core") and sum(daemon.core.audit_book.counts.values())
                    >= 1, 60, "the first (slow) audit verdict")
        await asyncio.sleep(0.3)  # let the decision batch reach the journal
    finally:
        daemon.stop()
        await asyncio.wait_for(task, 30)

    # Assert: the audit took its 3 s off the loop...
    start, end = windows[0]
    assert end - start >= SLOW_S * 1000
    audit = daemon.core.audit_book.last
    assert audit is not None and audit.result.value == "verified"
    # ...while decisions kept their cadence: the presale and the next game's ticks were
    # decided during the audit, with no gap anywhere near the audit's length
    times = _decision_times(daemon.paths.journal, start, end)
    assert len(times) >= 10, times
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < 1000, max(gaps)
