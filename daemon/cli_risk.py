"""``rugsd kill`` and ``rugsd arm``: the operator's kill switch on the command line.

- ``rugsd kill [--data-dir DIR] [--reason TEXT]`` kills every running daemon in the
  registry (or the one on ``--data-dir``), from any directory: the control socket first
  (the daemon answers with its state: that is the acknowledgement), else SIGUSR1 to its
  pid. Then, for each data dir, it writes the kill file and the latch in
  ``DATA_DIR/run`` so the kill holds across restarts — best effort: a full disk is
  reported, never a crash, and never delays the socket kill. It exits 0 only when every
  running daemon acknowledged; otherwise it says so loudly (stderr) and exits 1 (some
  did not) or 3 (no running daemon at all: the latch applies at the next start).
- ``rugsd arm [--data-dir DIR] [--yes]`` shows the kill, asks the operator to type back
  its confirmation code (refused on a non-terminal stdin unless ``--yes``), then has the
  running daemon check the code and clear the latch (so the attempt is journaled, and a
  latch that is not on disk yet is refused), or clears the files itself when no daemon
  runs.
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
from dataclasses import dataclass, field
from pathlib import Path

from rugsd.daemon.cli_find import Target, TargetError, all_targets, one_target
from rugsd.daemon.control.client import ControlError, ControlUnavailable, send_command_sync
from rugsd.daemon.dirs import default_data_dir, registry_dir
from rugsd.risk.killswitch import (
    ArmResult,
    KillLatch,
    arm,
    check_kill_file,
    current_kill,
    pid_alive,
    read_pid,
    trip,
    write_kill_file,
)
from rugsd.risk.reasons import ReasonCode

EXIT_NOT_ACKNOWLEDGED = 1
EXIT_USAGE = 2
EXIT_NO_DAEMON = 3
SOCKET_TIMEOUT_S = 2.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``kill`` and ``arm``."""
    kill = sub.add_parser(
        "kill", help="stop trading now (every running daemon; latched, survives restarts)",
        description="Kill every running daemon (found from any directory), or the one on "
        "--data-dir. Exit 0 only if every running daemon acknowledged.")
    kill.add_argument("--data-dir", type=Path, default=None,
                      help="only the daemon on this data directory")
    kill.add_argument("--reason", default="", help="why, for the latch and the journal")
    kill.set_defaults(func=run_kill)

    arm_ = sub.add_parser("arm", help="clear the kill latch after confirmation")
    arm_.add_argument("--data-dir", type=Path, default=None,
                      help="data directory (default: the running daemon, else general.data_dir)")
    arm_.add_argument("--yes", action="store_true",
                      help="do not ask for the confirmation code (unattended use)")
    arm_.set_defaults(func=run_arm)


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}@{socket.gethostname()}"


def _looks_like_rugsd(pid: int) -> bool:
    """Guard against a stale pid file naming an unrelated process (SIGUSR1 would kill it)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc here: trust the pid file
    return b"rugsd" in cmdline or b"daemon" in cmdline


# --- kill ---------------------------------------------------------------------------


@dataclass
class KillOutcome:
    """What ``rugsd kill`` achieved on one data dir."""

    target: Target
    running: bool = False  # a daemon process runs on it
    acknowledged: bool = False  # ... and answered KILLED over the control socket
    how: str = ""
    latch: KillLatch | None = None
    problems: list[str] = field(default_factory=list)


def _kill_targets(arg: Path | None) -> tuple[list[Target], str]:
    """Never fails on a bad config: a kill must not wait for a config fix."""
    from rugsd.daemon.config_file import ConfigError

    try:
        return all_targets(arg), ""
    except ConfigError as err:
        return [Target(default_data_dir())], f"config unusable ({err}); using the default data dir"


def _ask_daemon(target: Target, reason: str) -> tuple[bool, str]:
    """The socket kill: (acknowledged, what happened)."""
    args = {"reason": reason} if reason else {}
    try:
        answer = send_command_sync(target.socket, "kill", args, _who(), SOCKET_TIMEOUT_S)
    except (ControlUnavailable, ControlError) as err:
        return False, f"control socket: {err}"
    state = str((answer.get("risk") or {}).get("state", "")).upper()
    if answer.get("type") == "result" and state == "KILLED":
        detail = str(answer.get("detail") or "")
        extra = f" — {detail}" if detail and detail != "KILLED" else ""
        return True, f"acknowledged over the control socket: KILLED{extra}"
    return False, f"control socket answered {answer.get('error') or state or answer!r}"


def _signal(target: Target) -> tuple[bool, str]:
    """SIGUSR1 to the daemon's pid: (a daemon process runs, what happened)."""
    pid = target.entry.pid if target.entry else read_pid(target.run_dir)
    if pid is None or pid == os.getpid() or not pid_alive(pid):
        return False, "no running daemon"
    if not _looks_like_rugsd(pid):
        return False, f"pid file names pid {pid}, which is not rugsd; not signalled"
    try:
        os.kill(pid, signal.SIGUSR1)
    except OSError as err:
        return True, f"could not signal pid {pid}: {err}"
    return True, (f"sent SIGUSR1 to daemon pid {pid}: it should be KILLED within 100 ms, "
                  "but it did not confirm")


def _persist(outcome: KillOutcome, reason: str, ts_ms: int) -> None:
    """The kill file and the latch, best effort (a full disk is reported, not raised)."""
    run_dir = outcome.target.run_dir
    try:
        write_kill_file(run_dir, reason)
    except OSError as err:
        outcome.problems.append(f"kill file not written: {err.strerror or err}")
    try:
        outcome.latch = trip(run_dir, KillLatch(ts_ms, _who(), ReasonCode.OPERATOR_KILL.value,
                                                reason))
    except OSError as err:
        outcome.problems.append(f"latch not written: {err.strerror or err}")


def _kill_one(target: Target, reason: str) -> KillOutcome:
    out = KillOutcome(target)
    out.acknowledged, out.how = _ask_daemon(target, reason)
    out.running = out.acknowledged
    if not out.acknowledged:
        out.running, signalled = _signal(target)
        out.how = f"{out.how}; {signalled}" if out.running else signalled
    _persist(out, reason, int(time.time() * 1000))
    return out


def _print_outcome(o: KillOutcome) -> None:
    t = o.target
    if o.acknowledged:
        print(f"KILLED: {t.describe()}: {o.how}")
    elif o.running:
        print(f"NOT ACKNOWLEDGED: {t.describe()}: {o.how}")
    else:
        note = "" if o.how == "no running daemon" else f" ({o.how})"
        print(f"no running daemon on {t.data_dir}{note}")
    if o.latch is not None:
        when = "holds at its next start" if not o.running else "holds across restarts"
        print(f"  latch {t.run_dir / 'kill.latch'} ({when}): {o.latch.describe()}")
    for problem in o.problems:
        print(f"  {problem}")
    print(f"  to resume trading: rugsd arm --data-dir {t.data_dir}")


def run_kill(args: argparse.Namespace) -> int:
    """Kill every running daemon (or the one on ``--data-dir``); see the module doc."""
    reason = getattr(args, "reason", "") or ""
    try:
        targets, note = _kill_targets(getattr(args, "data_dir", None))
    except TargetError as err:
        print(f"rugsd kill: {err}", file=sys.stderr)
        return EXIT_USAGE
    if note:
        print(f"rugsd kill: {note}", file=sys.stderr)
    outcomes = [_kill_one(t, reason) for t in targets]
    for o in outcomes:
        _print_outcome(o)
    running = [o for o in outcomes if o.running]
    missed = [o for o in running if not o.acknowledged]
    if not running:
        o = outcomes[0]
        if o.latch is not None:
            where = f"the latch is written: the next start on {o.target.data_dir} starts KILLED"
        else:
            where = (f"and the latch could NOT be written in {o.target.run_dir} "
                     f"({'; '.join(o.problems)}): nothing is killed")
        print(f"rugsd kill: NO RUNNING DAEMON ACKNOWLEDGED THE KILL (none found in "
              f"{registry_dir()}); {where}", file=sys.stderr)
        return EXIT_NO_DAEMON
    if missed:
        names = ", ".join(o.target.describe() for o in missed)
        print(f"rugsd kill: NOT ACKNOWLEDGED by {len(missed)} of {len(running)} running "
              f"daemon(s): {names}", file=sys.stderr)
        return EXIT_NOT_ACKNOWLEDGED
    return 0


# --- arm ----------------------------------------------------------------------------


def _daemon_risk(target: Target) -> dict | None:
    """The running daemon's risk section, ``None`` when its socket does not answer."""
    try:
        answer = send_command_sync(target.socket, "status", None, _who(), SOCKET_TIMEOUT_S)
    except (ControlUnavailable, ControlError):
        return None
    if answer.get("type") != "result":
        return None
    risk = answer.get("risk")
    return risk if isinstance(risk, dict) else {}


def _read_token(kill: KillLatch, yes: bool) -> str | None:
    if yes:
        return kill.token
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        print("rugsd arm: stdin is not a terminal; run it interactively or pass --yes",
              file=sys.stderr)
        return None
    print(f"type the code {kill.token} to re-arm trading: ", end="", flush=True)
    token = ""
    with contextlib.suppress(EOFError, OSError):
        token = stdin.readline()
    return token


def run_arm(args: argparse.Namespace) -> int:
    """Show the kill, confirm, then clear it (through the daemon when one runs)."""
    try:
        target = one_target(getattr(args, "data_dir", None), "arm")
    except TargetError as err:
        print(f"rugsd arm: {err}", file=sys.stderr)
        return EXIT_USAGE
    run_dir = target.run_dir
    risk = _daemon_risk(target)
    killed_live = risk is not None and str(risk.get("state", "")).upper() == "KILLED"
    if risk is not None and risk.get("latch_error"):
        print(f"rugsd arm: refused: {risk['latch_error']}", file=sys.stderr)
        return EXIT_NOT_ACKNOWLEDGED
    kill = current_kill(run_dir)
    if kill is None:
        if killed_live:
            print("rugsd arm: the daemon is KILLED but its latch is not on disk yet; "
                  "try again in a moment", file=sys.stderr)
            return EXIT_NOT_ACKNOWLEDGED
        print("not killed: nothing to arm")
        return 0
    print(kill.describe())
    if check_kill_file(run_dir):
        print(f"kill file present: {run_dir / 'KILL'} (removed on arm)")
    token = _read_token(kill, getattr(args, "yes", False))
    if token is None:
        return EXIT_USAGE
    if risk is not None:
        return _arm_through_daemon(target, token)
    try:
        result = arm(run_dir, token)
    except OSError as err:
        print(f"rugsd arm: could not clear the latch in {run_dir}: {err}", file=sys.stderr)
        return EXIT_NOT_ACKNOWLEDGED
    if result is ArmResult.WRONG_TOKEN:
        print("wrong code: still killed", file=sys.stderr)
        return EXIT_NOT_ACKNOWLEDGED
    if result is ArmResult.NOT_KILLED:
        print("not killed any more: nothing to arm")
        return 0
    print("armed: kill latch cleared (no daemon running)")
    return 0


def _arm_through_daemon(target: Target, token: str) -> int:
    """The daemon checks the code, clears the files and journals the attempt."""
    try:
        answer = send_command_sync(target.socket, "arm", {"token": token.strip() or "-"},
                                   _who(), SOCKET_TIMEOUT_S * 2)
    except (ControlUnavailable, ControlError) as err:
        print(f"rugsd arm: the daemon stopped answering ({err}); nothing was armed",
              file=sys.stderr)
        return EXIT_NOT_ACKNOWLEDGED
    if answer.get("type") == "result" and answer.get("ok"):
        state = str((answer.get("risk") or {}).get("state", "")).upper()
        print(f"armed: kill latch cleared; {target.describe()} is now {state}")
        return 0
    why = answer.get("detail") or answer.get("error") or "refused"
    print(f"rugsd arm: refused by the daemon: {why}", file=sys.stderr)
    return EXIT_NOT_ACKNOWLEDGED
