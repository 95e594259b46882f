"""The registry of running daemons: written and removed by its daemon, dead or reused
pids pruned by readers, private files, and looked up by data dir."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from rugsd.daemon.control import registry
from rugsd.daemon.dirs import registry_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_register_writes_a_private_entry_that_running_finds_and_unregister_removes(
    tmp_path: Path,
) -> None:
    entry = registry.register(tmp_path / "data", tmp_path / "data/run/control.sock", 123, "run-x",
                              "paper")
    assert entry.path is not None and entry.path.parent == registry_dir()
    assert str(registry_dir()).startswith(os.environ["XDG_STATE_HOME"])
    assert _mode(entry.path) == 0o600 and _mode(registry_dir()) == 0o700
    assert json.loads(entry.path.read_text())["pid"] == os.getpid()

    assert registry.running() == [entry]
    assert registry.find(tmp_path / "data" / ".." / "data") == entry
    assert registry.find(tmp_path / "other") is None

    registry.unregister(entry)
    assert registry.running() == []


def test_entries_of_dead_processes_and_reused_pids_are_pruned(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    folder = registry_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stale = registry.DaemonEntry(int(dead.stdout), str(tmp_path), "s", 1, "run-dead")
    (folder / "dead.json").write_text(stale.to_json())
    reused = registry.DaemonEntry(os.getpid(), str(tmp_path), "s", 1, "run-reused",
                                  proc_start=(registry.process_start(os.getpid()) or 0) + 1)
    (folder / "reused.json").write_text(reused.to_json())
    (folder / "garbage.json").write_text("{not json")
    alive = registry.register(tmp_path, tmp_path / "s", 2, "run-alive", "paper")

    assert registry.running() == [alive]
    assert sorted(p.name for p in folder.iterdir()) == sorted(["garbage.json", alive.path.name])
