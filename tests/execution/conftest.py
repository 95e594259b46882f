"""Fixtures of the browser-execution tests: a fast simulator and Chromium executors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rugsd.daemon.config import BrowserConfig, SimConfig
from rugsd.daemon.execution.browser import PlaywrightExecutor
from rugsd.daemon.sim.server import SimServer

CHROMIUM = Path("/usr/bin/chromium")
SPEED = 10.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives Debian's Chromium: mark them ``browser``."""
    for item in items:
        if "tests/execution" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """The simulator on a free loopback port, 10x real time, repeatable games."""
    assert CHROMIUM.exists(), "Debian Chromium missing at /usr/bin/chromium"
    server = SimServer(SimConfig(), seed=11, speed=SPEED)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def executors(tmp_path: Path) -> AsyncIterator[Any]:
    """A factory of started executors (all stopped at teardown)."""
    made: list[PlaywrightExecutor] = []

    async def make(url: str, **kw: Any) -> PlaywrightExecutor:
        cfg = kw.pop("cfg", BrowserConfig())
        ex = PlaywrightExecutor(cfg, url, tmp_path / f"data{len(made)}", **kw)
        made.append(ex)
        await asyncio.wait_for(ex.start(), 30)
        return ex

    try:
        yield make
    finally:
        for ex in made:
            await asyncio.wait_for(ex.stop(), 30)
