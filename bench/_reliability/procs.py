"""The processes a probe drives: ``rugsd sim`` and ``rugsd run --paper`` as real
subprocesses in a private sandbox (its own XDG dirs, so the registry of running daemons,
the config lookup and the data dirs are the probe's alone), the ``rugsd`` CLI, and a
read-only look at a journal.

Every wait is a bounded poll; ``Sandbox.close`` ends every process the probe started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from rugsd.daemon.control.client import ControlError, ControlUnavailable, send_command_sync
from rugsd.daemon.control.protocol import socket_path

T = TypeVar("T")
PYTHON = sys.executable
POLL_S = 0.02
PLAYER = "rugsd-paper"  # the paper daemon's account in the simulator (paper.player_name)

# what every probe's daemon runs with: the rule strategy (trades every game), a 10 SOL
# book like the simulator's practice accounts, limits that a long probe never reaches
# (a loss limit KILL would end the trading the probe watches), JSON logs
DAEMON_ENV = {
    "RUGSD_STRATEGY__NAME": "presale_target",
    "RUGSD_STRATEGY__MAX_HOLD_TICKS": "10",
    "RUGSD_PAPER__STARTING_BALANCE_SOL": "10",
    "RUGSD_RISK__MAX_ORDERS_PER_MINUTE": "1000",
    "RUGSD_RISK__MAX_DAILY_LOSS_SOL": "5",
    "RUGSD_RISK__MAX_DRAWDOWN_SOL": "5",
    "RUGSD_LOGGING__FORMAT": "json",
    "RUGSD_LOGGING__LEVEL": "info",
    "RUGSD_CONTROL__METRICS_PORT": "0",
}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_ms() -> int:
    """Wall clock in ms (the daemon's journal and logs use the same clock)."""
    return time.time_ns() // 1_000_000


def wait_for(check: Callable[[], T], timeout: float, what: str,
             alive: Callable[[], None] | None = None, poll: float = POLL_S) -> T:
    """Poll ``check`` until it returns something truthy; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None:
            alive()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(poll)


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a journal, read-only (retried while the daemon holds a write lock)."""
    for attempt in range(50):
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2.0)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                return []
            if attempt == 49:
                raise
            time.sleep(0.05)
    return []


def log_ms(event: dict[str, Any]) -> int | None:
    """A JSON log line's timestamp in ms since the epoch."""
    raw = event.get("timestamp")
    if not isinstance(raw, str):
        return None
    try:
        return int(datetime.fromisoformat(raw).timestamp() * 1000)
    except ValueError:
        return None


def rss_kb(pid: int) -> int | None:
    """Resident memory of ``pid`` from ``/proc/PID/status`` (kB); None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class Sandbox:
    """A probe's private root: XDG dirs, logs, data dirs; the processes started in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.procs: list[Proc] = []
        self.xdg = {}
        for name in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"):
            folder = root / "xdg" / name.removeprefix("XDG_").lower()
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.xdg[name] = str(folder)

    def env(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """The inherited environment without any ``RUGSD_*``, with the private XDG dirs."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
        env.update(self.xdg)
        env["PYTHONUNBUFFERED"] = "1"
        env.update(overrides or {})
        return env

    def cli(self, *args: str, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run one ``rugsd`` command to completion (from the sandbox root)."""
        return subprocess.run(
            [PYTHON, "-m", "rugsd.daemon.cli", *args], capture_output=True, text=True,
            timeout=timeout, env=self.env(env), stdin=subprocess.DEVNULL, check=False,
            cwd=self.root,
        )

    def sim(self, speed: float, seed: int, port: int | None = None) -> Sim:
        """A started ``rugsd sim`` (ready when this returns)."""
        sim = Sim(self, port or free_port(), speed, seed)
        self.procs.append(sim)
        sim.start()
        sim.wait_ready()
        return sim

    def daemon(self, data_dir: Path, feed_url: str, env: dict[str, str] | None = None) -> Daemon:
        """A ``rugsd run --paper`` (not started yet)."""
        proc = Daemon(self, data_dir, feed_url, env)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        """End every process still running."""
        for proc in self.procs:
            proc.close()


class Proc:
    """A subprocess with a log file per start."""

    name = "proc"

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.log_path = box.root / f"{self.name}.log"
        self._log = None

    def _spawn(self, args: list[str], env: dict[str, str]) -> None:
        self.starts += 1
        self.log_path = self.box.root / f"{self.name}-{self.starts}.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True, cwd=self.box.root)

    @property
    def pid(self) -> int:
        """The current process id."""
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        """The process has been started and has not exited."""
        return self.proc is not None and self.proc.poll() is None

    def alive(self) -> None:
        """AssertionError with the log tail when the process has exited."""
        if not self.running():
            code = self.proc.returncode if self.proc else None
            raise AssertionError(f"{self.name} exited ({code}):\n{self.log_tail()}")

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the process."""
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill9(self) -> None:
        """``kill -9``: no cleanup of any kind."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._close_log()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Ask it to stop; its exit code (killed, and AssertionError, after ``timeout``)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused process cannot stop
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"{self.name} ignored {sig!r} for {timeout}s:\n"
                                 f"{self.log_tail()}") from None
        finally:
            self._close_log()

    def close(self) -> None:
        """Make sure the process is gone."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.send_signal(signal.SIGCONT)
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        """The end of the current start's output."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_events(self, start: int | None = None) -> list[dict[str, Any]]:
        """The JSON log lines of one start (default: the current one)."""
        path = self.log_path if start is None else self.box.root / f"{self.name}-{start}.log"
        out = []
        with contextlib.suppress(OSError):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    with contextlib.suppress(ValueError):
                        out.append(json.loads(line))
        return out


class Sim(Proc):
    """A standalone ``rugsd sim`` on a fixed port (a restart reuses it)."""

    name = "sim"

    def __init__(self, box: Sandbox, port: int, speed: float, seed: int) -> None:
        super().__init__(box)
        self.port, self.speed, self.seed = port, speed, seed
        self.url = f"http://127.0.0.1:{port}"

    def start(self, seed: int | None = None) -> Sim:
        """Start (again, on the same port; a new ``seed`` gives new games)."""
        self.seed = self.seed if seed is None else seed
        self._spawn([PYTHON, "-m", "rugsd.daemon.cli", "sim", "--port", str(self.port),
                     "--speed", str(self.speed), "--seed", str(self.seed)],
                    self.box.env({"RUGSD_LOGGING__FORMAT": "json"}))
        return self

    def get(self, path: str) -> tuple[int, Any]:
        """``GET path`` → (status, JSON body); (0, None) when nothing answers."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, None
        except (OSError, ValueError):
            return 0, None

    def ledger(self, player: str = PLAYER) -> dict[str, Any] | None:
        """The simulator's own exact account of ``player`` (None if unknown)."""
        status, body = self.get(f"/ledger/{player}")
        return body if status == 200 else None

    def wait_ready(self, timeout: float = 20) -> None:
        """Until ``/health`` answers."""
        wait_for(lambda: self.get("/health")[0] == 200, timeout, "the simulator", self.alive)


class Daemon(Proc):
    """``rugsd run --paper --feed URL --data-dir D`` (restartable on the same data dir)."""

    name = "daemon"

    def __init__(self, box: Sandbox, data_dir: Path, feed_url: str,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(box)
        self.data_dir = data_dir
        self.feed_url = feed_url
        self.env = {**DAEMON_ENV, "RUGSD_FEED__URL": feed_url, **(env or {})}

    def start(self) -> Daemon:
        """Start the process (returns at once; see ``wait_ready``)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._spawn([PYTHON, "-m", "rugsd.daemon.cli", "run", "--paper", "--feed",
                     self.feed_url, "--data-dir", str(self.data_dir)], self.box.env(self.env))
        return self

    @property
    def sock(self) -> Path:
        """The control socket."""
        return socket_path(self.data_dir)

    @property
    def run_dir(self) -> Path:
        """``DATA_DIR/run``."""
        return self.data_dir / "run"

    @property
    def db(self) -> Path:
        """The journal."""
        return self.data_dir / "journal.sqlite"

    def command(self, cmd: str, args: dict[str, Any] | None = None,
                timeout: float = 5) -> dict[str, Any]:
        """One control-socket command; the answer."""
        return send_command_sync(self.sock, cmd, args, "bench:reliability", timeout)

    def try_snapshot(self, timeout: float = 3) -> dict[str, Any] | None:
        """The status snapshot, or None while the socket does not answer."""
        try:
            answer = self.command("status", timeout=timeout)
        except (ControlUnavailable, ControlError):
            return None
        return answer.get("snapshot") if answer.get("type") == "result" else None

    def snapshot(self) -> dict[str, Any]:
        """The status snapshot (AssertionError when the socket does not answer)."""
        snap = self.try_snapshot()
        if snap is None:
            self.alive()
            raise AssertionError("the control socket did not answer status")
        return snap

    def wait_ready(self, timeout: float = 30) -> dict[str, Any]:
        """Until the control socket answers and the feed is connected; the snapshot."""
        def ready() -> dict[str, Any] | None:
            snap = self.try_snapshot()
            return snap if snap and snap["feed"]["connected"] else None

        return wait_for(ready, timeout, "the daemon's connected feed", self.alive)

    def state(self) -> str:
        """The trading state (ACTIVE, HALTED, KILLED...)."""
        return self.snapshot()["risk"]["state"]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of this daemon's journal."""
        return query(self.db, sql, params)

    def rss_kb(self) -> int | None:
        """Resident memory now (kB)."""
        return rss_kb(self.pid) if self.running() else None

    def first_log(self, event: str, start: int | None = None) -> dict[str, Any] | None:
        """The first log line ``event`` of a start."""
        return next((e for e in self.log_events(start) if e.get("event") == event), None)
