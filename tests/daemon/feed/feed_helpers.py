"""Helpers for the feed tests against the simulator: bounded waits, a running client and
a fast-reconnecting feed config. Imported by the test files of this folder (pytest puts
the folder on ``sys.path``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from rugsd.daemon.config import FeedConfig
from rugsd.daemon.feed.client import FeedClient


async def until(cond: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll ``cond`` every 10 ms; fail the test after ``timeout`` seconds."""
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


@contextlib.asynccontextmanager
async def running(client: FeedClient) -> AsyncIterator[FeedClient]:
    """``client.run`` in a task, stopped (and awaited, bounded) on exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    try:
        yield client
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def fast_feed(url: str, **kw: Any) -> FeedConfig:
    """A feed config that reconnects quickly.

    ``silent_reconnect_s``: ``SimServer.stop()`` leaves sockets open until the runner's
    cleanup (python-socketio's shutdown does not close them); the client must not wait.
    """
    options = {"reconnect_delay_s": 0.1, "reconnect_delay_max_s": 0.5,
               "silent_reconnect_s": 1.0, **kw}
    return FeedConfig(url=url, **options)
