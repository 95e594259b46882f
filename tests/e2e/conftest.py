"""Fixtures for the end-to-end tests: a real ``rugsd run --paper`` subprocess on the
embedded simulator (loopback, x20, fixed seed), looked at from the outside only.

The process helper is the daemon-runtime tests' ``DaemonProc`` (tests/daemon/runtime/
daemon_proc.py), reused as is: this conftest puts that folder on ``sys.path``.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_RUNTIME_HELPERS = Path(__file__).resolve().parents[1] / "daemon" / "runtime"
if str(_RUNTIME_HELPERS) not in sys.path:
    sys.path.insert(0, str(_RUNTIME_HELPERS))

from daemon_proc import DaemonProc  # importable thanks to the path above

# snapshots every 100 ms so the TUI and the tests see changes quickly
E2E_ENV = {"RUGSD_CONTROL__SNAPSHOT_INTERVAL_S": "0.1"}


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    """``live_daemon(env=None, metrics=False) -> DaemonProc``, started and answering.

    ``metrics=True`` serves Prometheus on a free loopback port (``proc.metrics_port``).
    Every process is ended at teardown (SIGTERM, then SIGKILL after 10 s).
    """
    started: list[DaemonProc] = []

    def make(env: dict[str, str] | None = None, metrics: bool = False) -> DaemonProc:
        extra = dict(E2E_ENV)
        metrics_port = _port() if metrics else 0
        extra["RUGSD_CONTROL__METRICS_PORT"] = str(metrics_port)
        extra.update(env or {})
        proc = DaemonProc(
            tmp_path / f"data{len(started)}", _port(), extra, log_name=f"e2e-daemon{len(started)}"
        )
        proc.metrics_port = metrics_port  # type: ignore[attr-defined]
        started.append(proc)
        proc.start()
        proc.wait_ready(timeout=20)
        return proc

    yield make
    for proc in started:
        proc.close()
