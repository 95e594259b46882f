"""``rugsd kill`` and ``rugsd arm``: the operator's kill switch on the command line.

- ``rugsd kill [--data-dir DIR] [--reason TEXT]`` writes the kill file *and* the latch in
  ``DATA_DIR/run`` (so the kill holds even if no daemon is running, and across restarts),
  then tells a running daemon: the control socket first (hook, not wired yet), else
  SIGUSR1 to the pid in ``DATA_DIR/run/rugsd.pid`` if that process is alive and looks like
  rugsd.
- ``rugsd arm [--data-dir DIR] [--yes]`` shows the kill, asks the operator to type back
  its confirmation code (refused on a non-terminal stdin unless ``--yes``), then clears
  the latch and the kill file.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import signal
import socket
import sys
import time
from pathlib import Path

from rugsd.daemon.config import load_settings
from rugsd.risk.killswitch import (
    ArmResult,
    KillLatch,
    arm,
    check_kill_file,
    current_kill,
    pid_alive,
    read_pid,
    run_dir_of,
    trip,
    write_kill_file,
)
from rugsd.risk.reasons import ReasonCode


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``kill`` and ``arm``."""
    kill = sub.add_parser("kill", help="stop trading now (latched; survives restarts)")
    kill.add_argument("--data-dir", type=Path, default=None,
                      help="data directory (default: general.data_dir from config)")
    kill.add_argument("--reason", default="", help="why, for the latch and the journal")
    kill.set_defaults(func=run_kill)

    arm_ = sub.add_parser("arm", help="clear the kill latch after confirmation")
    arm_.add_argument("--data-dir", type=Path, default=None,
                      help="data directory (default: general.data_dir from config)")
    arm_.add_argument("--yes", action="store_true",
                      help="do not ask for the confirmation code (unattended use)")
    arm_.set_defaults(func=run_arm)


def _run_dir(args: argparse.Namespace) -> Path:
    data_dir = getattr(args, "data_dir", None) or load_settings().general.data_dir
    return run_dir_of(data_dir)


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}"


def _notify_control_socket(run_dir: Path, command: str, args: dict | None = None) -> bool:
    """Send ``command`` over the control socket; True if a running daemon acknowledged.

    Tried first (it answers with the new trading state); the signal below is the
    fallback when the socket is unreachable.
    """
    from rugsd.daemon.control.client import try_control_command

    answer = try_control_command(Path(run_dir).parent, command, args or {}, _who(), 2.0)
    return bool(answer and answer.get("ok"))


def _looks_like_rugsd(pid: int) -> bool:
    """Guard against a stale pid file naming an unrelated process (SIGUSR1 would kill it)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc here: trust the pid file
    return b"rugsd" in cmdline or b"daemon" in cmdline


def _notify_daemon(run_dir: Path) -> str:
    """Tell a running daemon about the kill; returns what was done, for the operator."""
    if _notify_control_socket(run_dir, "kill"):
        return "daemon notified over the control socket"
    pid = read_pid(run_dir)
    if pid is None or pid == os.getpid() or not pid_alive(pid):
        return "no running daemon found; the latch applies at its next start"
    if not _looks_like_rugsd(pid):
        return f"pid file names pid {pid}, which is not rugsd; not signalled"
    try:
        os.kill(pid, signal.SIGUSR1)
    except OSError as err:
        return f"could not signal pid {pid}: {err}; the daemon sees the kill file within 100 ms"
    return f"sent SIGUSR1 to daemon pid {pid}"


def run_kill(args: argparse.Namespace) -> int:
    """Write the kill file and the latch, then notify a running daemon."""
    run_dir = _run_dir(args)
    reason = getattr(args, "reason", "") or ""
    now_ms = int(time.time() * 1000)
    write_kill_file(run_dir, reason)
    latch = trip(run_dir, KillLatch(now_ms, _who(), ReasonCode.OPERATOR_KILL.value, reason))
    print(f"KILLED: {latch.describe()}")
    print(_notify_daemon(run_dir))
    print(f"to resume trading: rugsd arm --data-dir {run_dir.parent}")
    return 0


def run_arm(args: argparse.Namespace) -> int:
    """Show the kill, confirm, clear the latch and the kill file."""
    run_dir = _run_dir(args)
    kill = current_kill(run_dir)
    if kill is None:
        print("not killed: nothing to arm")
        return 0
    print(kill.describe())
    if check_kill_file(run_dir):
        print(f"kill file present: {run_dir / 'KILL'} (removed on arm)")
    if getattr(args, "yes", False):
        token = kill.token
    else:
        stdin = sys.stdin
        if stdin is None or not stdin.isatty():
            print("rugsd arm: stdin is not a terminal; run it interactively or pass --yes",
                  file=sys.stderr)
            return 2
        print(f"type the code {kill.token} to re-arm trading: ", end="", flush=True)
        token = ""
        with contextlib.suppress(EOFError, OSError):
            token = stdin.readline()
    result = arm(run_dir, token)
    if result is ArmResult.WRONG_TOKEN:
        print("wrong code: still killed", file=sys.stderr)
        return 1
    if result is ArmResult.NOT_KILLED:
        print("not killed any more: nothing to arm")
        return 0
    # a running daemon re-arms now (it would also notice the latch gone within 100 ms)
    _notify_control_socket(run_dir, "arm", {"token": token.strip()})
    print("armed: kill latch cleared")
    return 0
