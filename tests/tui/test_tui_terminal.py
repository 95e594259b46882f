"""``rugsd tui`` without a terminal exits at once with one line (it used to spin a core
for as long as it was left running); in a real pseudo-terminal it draws and quits on q."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rugsd.tui.terminal import NO_TERMINAL

CLI = [sys.executable, "-m", "rugsd.daemon.cli", "tui"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUGSD_", "TEXTUAL_"))}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    return env


@pytest.mark.parametrize("argv", [CLI, [sys.executable, "-m", "rugsd.tui"]],
                         ids=["rugsd-tui", "python-m-rugsd-tui"])
def test_tui_without_a_terminal_exits_at_once_with_one_line(tmp_path: Path, argv):
    started = time.monotonic()
    done = subprocess.run(
        [*argv, "--socket", str(tmp_path / "control.sock")], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=30, env=_env(tmp_path), check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr == f"rugsd tui: {NO_TERMINAL}\n"
    assert elapsed < 30


def test_tui_with_stdout_piped_exits_too(tmp_path: Path):
    """``rugsd tui | head`` with a terminal on stdin only."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [*CLI, "--socket", str(tmp_path / "control.sock")], stdin=follower,
            capture_output=True, text=True, timeout=30, env=_env(tmp_path), check=False,
        )
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2 and "needs a terminal" in done.stderr


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {needle!r} on the terminal; last bytes: {seen[-400:]!r}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_tui_in_a_pseudo_terminal_draws_and_quits_on_q(tmp_path: Path):
    """The check does not stop the real thing: with a TTY the TUI runs (no daemon: it says
    so) and q ends it cleanly."""
    env = _env(tmp_path) | {"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec the TUI on the pseudo-terminal
        os.execvpe(CLI[0], [*CLI, "--socket", str(tmp_path / "control.sock")], env)
    try:
        _read_until(fd, b"NOT REACHABLE", 30)
        os.write(fd, b"q")
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            try:  # keep draining the terminal so the child never blocks writing
                if select.select([fd], [], [], 0.1)[0]:
                    os.read(fd, 65536)
            except OSError:
                pass
        else:
            raise AssertionError("the TUI did not quit on q")
        assert os.waitstatus_to_exitcode(status) == 0
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
