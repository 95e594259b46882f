"""The executor seam: the daemon holds executors chosen by ``[executor] kind``, no special cases.

The worked example (docs/architecture.md, "to add an executor"): one class in this file
plus one ``EXECUTORS`` entry — here a recorder that sees every approved order next to the
paper executor — runs in a real in-process daemon on its embedded simulator.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from rugsd.daemon.config import Settings
from rugsd.daemon.runtime import executors
from rugsd.daemon.runtime.daemon import Daemon
from rugsd.daemon.runtime.executors import (
    EXECUTORS,
    BaseExecutor,
    ExecutorKind,
    PaperExecutor,
    executor_kind,
    feed_auth,
    merged_health,
)
from rugsd.daemon.runtime.startup import DaemonError
from rugsd.risk.verdicts import Order


class RecordingExecutor(BaseExecutor):
    """Remembers every order it is given and every feed event it is shown."""

    name = "recording"

    def __init__(self) -> None:
        self.orders: list[Order] = []
        self.events = 0
        self.closed = False

    def submit(self, order: Order) -> None:
        self.orders.append(order)

    def on_feed_event(self, event: Any) -> None:
        self.events += 1

    def health(self) -> dict[str, Any]:
        return {"recorded": len(self.orders)}

    async def close(self) -> None:
        self.closed = True


def test_an_unknown_executor_is_refused_with_the_known_names() -> None:
    with pytest.raises(DaemonError, match="unknown executor 'nope' .*paper, browser"):
        executor_kind("nope")


def test_the_daemon_takes_its_executor_from_the_config(tmp_path: Path) -> None:
    browser = Daemon(Settings(executor={"kind": "browser"}), tmp_path)
    assert browser.executor_kind == "browser" and not browser.kind.paper_fills
    override = Daemon(Settings(executor={"kind": "browser"}), tmp_path, executor="paper")
    assert override.executor_kind == "paper" and override.kind.paper_fills
    with pytest.raises(DaemonError, match="unknown executor"):
        Daemon(Settings(executor={"kind": "carrier-pigeon"}), tmp_path)


def test_paper_on_the_simulator_mirrors_unless_configured_off() -> None:
    sim = type("Venue", (), {"is_simulator": True, "url": "http://127.0.0.1:1"})()
    names = [ex.name for ex in EXECUTORS["paper"].build(Settings(), sim)]
    assert names == ["mirror", "paper"]  # the mirror sends before paper fills
    off = Settings(executor={"mirror": False})
    assert [ex.name for ex in EXECUTORS["paper"].build(off, sim)] == ["paper"]
    real = type("Venue", (), {"is_simulator": False, "url": "https://x"})()
    assert [ex.name for ex in EXECUTORS["paper"].build(Settings(), real)] == ["paper"]


def test_health_and_feed_auth_merge_over_the_executors() -> None:
    rec = RecordingExecutor()
    assert merged_health([rec, PaperExecutor()]) == {"last_error": None, "mirror": None,
                                                     "recorded": 0}
    assert feed_auth([rec, PaperExecutor()]) is None
    mirror = executors.MirrorExecutor("me")
    assert feed_auth([rec, mirror]) == {"player": "me"}


def _settings(port: int) -> Settings:
    return Settings(
        feed={"url": f"http://127.0.0.1:{port}", "connect_timeout_s": 20.0},
        sim={"host": "127.0.0.1", "port": port, "seed": 18, "speed": 20.0},
        executor={"kind": "recording"},
        strategy={"name": "presale_target", "max_hold_ticks": 3},
        risk={"max_orders_per_minute": 1000},
        control={"metrics_port": 0},
    )


async def test_a_new_executor_is_one_class_and_one_registry_entry(
    tmp_path: Path, free_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordingExecutor()
    monkeypatch.setitem(EXECUTORS, "recording", ExecutorKind(
        paper_fills=True, build=lambda settings, venue: [recorder, PaperExecutor()]))
    data_dir = tmp_path / "data"
    daemon = Daemon(_settings(free_port), data_dir)
    task = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(60):
            while len(recorder.orders) < 2 or daemon.core.account.qty:
                assert not task.done(), "the daemon stopped"
                await asyncio.sleep(0.05)
        snap = daemon.snapshot()
    finally:
        daemon.stop()
        assert await asyncio.wait_for(task, 40) == 0

    # every order the core approved (and journaled as sent) reached the new executor,
    # and paper still filled it: the seam changed where orders go, not the accounting
    conn = sqlite3.connect(data_dir / "journal.sqlite")
    try:
        sent = [r[0] for r in conn.execute("SELECT order_id FROM orders ORDER BY ts_ms")]
        filled = {r[0] for r in conn.execute(
            "SELECT order_id FROM fills WHERE order_id IS NOT NULL")}
    finally:
        conn.close()
    assert sorted(o.order_id for o in recorder.orders) == sorted(sent)
    assert {o.order_id for o in recorder.orders} <= filled
    assert recorder.events > 0 and recorder.closed
    assert snap["execution"]["executor"] == "recording"
    assert snap["execution"]["recorded"] >= 2
