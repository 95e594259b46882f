"""Fixtures for the daemon process tests: factories whose processes are always ended."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_proc import DaemonProc, SimProc


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    """``daemons(data_dir=None, env=None, feed_url=None) -> DaemonProc`` (started).

    Each call uses a fresh free port; every process is terminated at teardown.
    """
    started: list[DaemonProc] = []

    def make(data_dir: Path | None = None, env: dict[str, str] | None = None,
             feed_url: str | None = None) -> DaemonProc:
        proc = DaemonProc(data_dir or tmp_path / "data", _port(), env, feed_url,
                          log_name=f"daemon{len(started)}")
        started.append(proc)
        return proc.start()

    yield make
    for proc in started:
        proc.close()


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[Callable[..., SimProc]]:
    """``sims(speed, seed, *extra_args) -> SimProc`` (started on a free port, e.g. with
    ``"--tamper", "price"``); stopped at teardown."""
    started: list[SimProc] = []

    def make(speed: float, seed: int, *extra: str) -> SimProc:
        sim = SimProc(tmp_path, _port(), speed, seed, extra)
        started.append(sim)
        sim.wait_ready()
        return sim

    yield make
    for sim in started:
        sim.close()
