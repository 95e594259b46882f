"""Tests-only helpers: run ``rugsd run --paper`` (or ``rugsd sim``) as a real subprocess
on a temp data dir and a free loopback port, and look at it from the outside — the
control socket, the CLI and the journal (read-only sqlite).

Every wait is a bounded poll; ``DaemonProc.close`` (called by the ``daemons`` fixture)
always ends the process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rugsd.daemon.control.client import ControlError, ControlUnavailable, send_command_sync
from rugsd.daemon.control.protocol import socket_path

T = TypeVar("T")

PYTHON = sys.executable
POLL_S = 0.05

# a fast, reproducible session: speed x20 (a tick every 12.5 ms), fixed games
BASE_ENV = {
    "RUGSD_SIM__SPEED": "20",
    "RUGSD_SIM__SEED": "18",  # short first games: [96, 136, 58, 41, 33, 13, 351] ticks
    "RUGSD_STRATEGY__NAME": "presale_target",
    "RUGSD_PAPER__STARTING_BALANCE_SOL": "10",  # the tests' books start at 10 SOL
    "RUGSD_LOGGING__FORMAT": "json",
    "RUGSD_LOGGING__LEVEL": "info",
    "RUGSD_CONTROL__METRICS_PORT": "0",
    # decisions reach the journal within ~0.1 s (tests poll them)
    "RUGSD_JOURNAL__DECISION_FLUSH_INTERVAL_MS": "100",
}


def clean_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The test environment without any inherited ``RUGSD_*`` setting, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides or {})
    return env


def wait_for(check: Callable[[], T], timeout: float, what: str,
             alive: Callable[[], None] | None = None) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None:
            alive()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(POLL_S)


async def wait_async(check: Callable[[], object], timeout: float, what: str) -> None:
    """``wait_for`` for in-process daemons: poll on the running event loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(POLL_S)


def now_ms() -> int:
    """Wall clock in ms (the daemon stamps its journal with the same clock)."""
    return time.time_ns() // 1_000_000


def rugsd(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
          stdin: Any = subprocess.DEVNULL, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run one ``rugsd`` CLI command to completion (in ``cwd``, default the current dir)."""
    return subprocess.run(
        [PYTHON, "-m", "rugsd.daemon.cli", *args], capture_output=True, text=True,
        timeout=timeout, env=clean_env(env), stdin=stdin, check=False, cwd=cwd,
    )


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows from the journal, read-only (retries while the daemon holds a write lock)."""
    for attempt in range(40):
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2.0)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err) or attempt == 39:
                if "no such table" in str(err):
                    return []
                raise
            time.sleep(POLL_S)
    return []


class DaemonProc:
    """One ``rugsd run --paper`` subprocess on ``data_dir``."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str] | None = None,
                 feed_url: str | None = None, log_name: str = "daemon",
                 extra_args: tuple[str, ...] = ()) -> None:
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.port = port
        self.feed_url = feed_url
        self.env = {
            **BASE_ENV,
            "RUGSD_SIM__PORT": str(port),
            # probing the configured feed URL must find nothing: never a foreign simulator
            "RUGSD_FEED__URL": f"http://127.0.0.1:{port}",
            **(env or {}),
        }
        self.log_path = data_dir.parent / f"{log_name}-{port}.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> DaemonProc:
        """Start the process (returns at once; see ``wait_ready``)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [PYTHON, "-m", "rugsd.daemon.cli", "run", "--paper", "--data-dir", str(self.data_dir)]
        if self.feed_url:
            args += ["--feed", self.feed_url]
        args += list(self.extra_args)
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=clean_env(self.env), start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        """The daemon's pid."""
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> None:
        """Fail with the log tail if the process has exited."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log_tail()}")

    def wait_ready(self, timeout: float = 20) -> dict[str, Any]:
        """Wait until the control socket answers ``status``; return the answer."""
        return wait_for(self.try_status, timeout, "the control socket", self.alive)

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the daemon."""
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Ask the daemon to stop with ``sig``; its exit code (killed after ``timeout``)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"daemon ignored {sig!r} for {timeout}s:\n{self.log_tail()}")

    def kill9(self) -> None:
        """``kill -9``: no cleanup of any kind."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def close(self) -> None:
        """Make sure the process is gone (fixture teardown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the daemon's output."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_events(self) -> list[dict[str, Any]]:
        """The daemon's JSON log lines."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    # -- looking at it ------------------------------------------------------------------

    @property
    def sock(self) -> Path:
        """The control socket path."""
        return socket_path(self.data_dir)

    @property
    def run_dir(self) -> Path:
        """``DATA_DIR/run``."""
        return self.data_dir / "run"

    @property
    def db(self) -> Path:
        """The journal file."""
        return self.data_dir / "journal.sqlite"

    def command(self, cmd: str, args: dict[str, Any] | None = None,
                timeout: float = 5) -> dict[str, Any]:
        """One control-socket command; the answer."""
        return send_command_sync(self.sock, cmd, args, "test:pytest", timeout)

    def try_status(self) -> dict[str, Any] | None:
        """The status answer, or None while the socket is not up."""
        try:
            answer = self.command("status", timeout=3)
        except (ControlUnavailable, ControlError):
            return None
        return answer if answer.get("type") == "result" else None

    def snapshot(self) -> dict[str, Any]:
        """The current control-plane snapshot."""
        answer = self.command("status")
        assert answer.get("type") == "result", answer
        return answer["snapshot"]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows from this daemon's journal."""
        return query(self.db, sql, params)

    def run_id(self) -> str:
        """The id of the running process's run (from its snapshot)."""
        return self.snapshot()["daemon"]["run_id"]


class SimProc:
    """A standalone ``rugsd sim`` subprocess."""

    def __init__(self, workdir: Path, port: int, speed: float, seed: int,
                 extra: tuple[str, ...] = ()) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / f"sim-{port}.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "rugsd.daemon.cli", "sim", "--port", str(port), "--speed", str(speed),
             "--seed", str(seed), *extra],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            env=clean_env({"RUGSD_LOGGING__FORMAT": "json"}),
        )

    def get(self, path: str) -> tuple[int, Any]:
        """``GET path`` → (status, JSON body); (0, None) when nothing answers."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, None
        except (OSError, ValueError):
            return 0, None

    def wait_ready(self, timeout: float = 15) -> None:
        """Wait until ``/health`` answers."""
        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"sim exited: {self.log_path.read_text()[-2000:]}")
            return self.get("/health")[0] == 200

        wait_for(up, timeout, "the simulator")

    def close(self) -> None:
        """Stop the simulator."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
