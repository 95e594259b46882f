"""A real full disk under a running daemon (root only: a small tmpfs holds its data dir):
trading stops at once (KILLED in memory, journaled as far as the disk allows, counted),
the control socket still answers, and no order goes out whose intent is not on disk."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_proc import DaemonProc, wait_for


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs, unmounted at teardown; skips where mounting is impossible."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the in-process disk-full test covers "
                    "the same path with sqlite's max_page_count)")
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs",
                           str(mnt)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, check=False)


def _fill(mnt: Path) -> Path:
    """Write a filler file until the file system refuses (ENOSPC)."""
    filler = mnt / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    return filler


def test_a_full_disk_stops_trading_and_the_daemon_still_answers(
    daemons: Callable[..., DaemonProc], small_tmpfs: Path, tmp_path: Path
) -> None:
    d = daemons(data_dir=small_tmpfs / "data")
    # (its log goes elsewhere: the test reads it, and journald is never on this disk)
    d.close()
    d.log_path = tmp_path / "daemon-disk-full.log"
    d.start()
    d.wait_ready()
    wait_for(lambda: d.query("SELECT count(*) FROM fills")[0][0] >= 1, 30, "a fill", d.alive)

    filler = _fill(small_tmpfs)

    snap = wait_for(lambda: (s := d.snapshot())["risk"]["state"] == "KILLED" and s, 30,
                    "the kill", d.alive)
    assert snap["risk"]["kill_reason"] == "journal_write_failed", snap["risk"]
    assert snap["risk"]["faults"]["journal_write"] >= 1
    # still KILLED a while later, and alive
    intents = d.query("SELECT count(*) FROM orders")[0][0]
    wait_for(lambda: d.snapshot()["game"]["tick"] != snap["game"]["tick"], 10, "ticks",
             d.alive)
    assert d.snapshot()["risk"]["state"] == "KILLED"
    assert d.query("SELECT count(*) FROM orders")[0][0] == intents
    events = [e for e in d.log_events() if e.get("kind") == "fault"]
    assert events and events[0]["reason"] == "journal_write_failed"

    filler.unlink()
    assert d.stop() == 0, d.log_tail()
