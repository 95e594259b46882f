"""The kill switch with the disk full (a small tmpfs, root only): every trigger still
kills, the kill stays latched in memory, ``arm`` is refused until the latch is on disk,
and the daemon writes the latch itself as soon as there is room again."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_proc import DaemonProc, rugsd, wait_for

from rugsd.risk.killswitch import kill_file_path, latch_path, read_latch

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


class SmallDisk:
    """A 16 MiB tmpfs that a test can fill up and free again."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler"

    def fill(self) -> None:
        """Write until ENOSPC: no new file can get a byte of data after this."""
        with self.filler.open("ab", buffering=0) as fh:
            for size in (1 << 20, 1 << 12):
                try:
                    while True:
                        fh.write(b"\0" * size)
                except OSError as err:
                    assert err.errno == errno.ENOSPC, err
        with pytest.raises(OSError):
            (self.mount / "probe").write_text("x" * 5000)

    def free(self) -> None:
        """Give the space back."""
        self.filler.unlink(missing_ok=True)
        (self.mount / "probe").unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def daemon_on(small_disk: SmallDisk, tmp_path: Path) -> Iterator[DaemonProc]:
    """A paper daemon whose data dir is on the small disk (its log is not)."""
    proc = DaemonProc(small_disk.mount / "data", _port())
    proc.log_path = tmp_path / "daemon.log"
    try:
        proc.start()
        proc.wait_ready()
        wait_for(lambda: proc.snapshot()["risk"]["state"] == "ACTIVE", 20, "ACTIVE", proc.alive)
        yield proc
    finally:
        proc.close()


def _state(d: DaemonProc) -> str:
    return d.snapshot()["risk"]["state"]


def _trigger(d: DaemonProc, how: str) -> None:
    if how == "control":
        answer = d.command("kill", {"reason": "disk full test"})
        assert answer["type"] == "result" and answer["ok"], answer
        assert answer["risk"]["state"] == "KILLED"
        assert "not persisted" in answer["detail"].lower()
    elif how == "cli":
        done = rugsd("kill", "--data-dir", str(d.data_dir), "--reason", "disk full test")
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0, done.stdout + done.stderr
        assert "acknowledged" in done.stdout
    elif how == "kill-file":
        # what `touch run/KILL` does: an empty file needs no data block
        os.close(os.open(kill_file_path(d.run_dir), os.O_WRONLY | os.O_CREAT, 0o600))
    elif how == "sigusr1":
        os.kill(d.pid, signal.SIGUSR1)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["control", "cli", "kill-file", "sigusr1"])
def test_every_kill_trigger_lands_with_the_disk_full_and_arm_waits_for_the_latch(
    small_disk: SmallDisk, daemon_on: DaemonProc, how: str
) -> None:
    d = daemon_on
    small_disk.fill()

    _trigger(d, how)

    wait_for(lambda: _state(d) == "KILLED", 5, "KILLED with the disk full", d.alive)
    assert not latch_path(d.run_dir).exists()  # nothing could be written
    # a wrong code must never un-kill a daemon, and no arm works before the latch is on disk
    wrong = d.command("arm", {"token": "WRONG1"})
    assert wrong["type"] == "result" and wrong["ok"] is False, wrong
    cli_arm = rugsd("arm", "--yes", "--data-dir", str(d.data_dir))
    assert cli_arm.returncode != 0, cli_arm.stdout
    assert _state(d) == "KILLED"

    small_disk.free()

    latch = wait_for(lambda: read_latch(d.run_dir), 5, "the daemon to write its latch", d.alive)
    assert _state(d) == "KILLED"
    assert d.command("arm", {"token": "WRONG1"})["ok"] is False
    armed = d.command("arm", {"token": latch.token})
    assert armed["ok"] is True, armed
    wait_for(lambda: _state(d) == "ACTIVE", 5, "ACTIVE after the right code", d.alive)
    with contextlib.suppress(FileNotFoundError):
        assert not kill_file_path(d.run_dir).exists()
