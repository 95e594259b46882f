"""The registry of running daemons: how ``rugsd kill``/``status``/``tui`` find them from any
directory.

One small JSON file per running daemon in ``rugsd.daemon.dirs.registry_dir()``
(``~/.local/state/rugsd/daemons/<pid>-<run_id>.json``, 0600 in a 0700 dir): its pid, data
dir, control socket, start time, run id and mode. A daemon writes its entry once its
signal handlers are in place and removes it when it stops; a crashed daemon's entry is
pruned by the next reader, because its pid is gone (or now belongs to a process that
started at another time: the kernel's process start time guards against pid reuse).

Light on imports on purpose: ``rugsd kill`` reads it on its one-tick budget.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rugsd.daemon.dirs import registry_dir
from rugsd.risk.killswitch import make_private_dir, pid_alive, write_private


@dataclass(frozen=True, slots=True)
class DaemonEntry:
    """One running daemon, as its registry file describes it."""

    pid: int
    data_dir: str
    socket: str
    started_ts_ms: int
    run_id: str
    mode: str = "paper"
    proc_start: int | None = None  # /proc/<pid>/stat start time (clock ticks since boot)
    path: Path | None = field(default=None, compare=False)  # the registry file itself

    def to_json(self) -> str:
        """The file contents (without ``path``)."""
        data = asdict(self)
        data.pop("path")
        return json.dumps(data, sort_keys=True)

    def describe(self) -> str:
        """``pid 123 on /data/dir`` for operators."""
        return f"pid {self.pid} on {self.data_dir}"


def process_start(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (Linux ``/proc``), ``None`` where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces: split after its closing paren
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def entry_alive(entry: DaemonEntry) -> bool:
    """The entry's process still runs (and is the same process, not a reused pid)."""
    if not pid_alive(entry.pid):
        return False
    if entry.proc_start is None:
        return True
    now = process_start(entry.pid)
    return now is None or now == entry.proc_start


def register(
    data_dir: Path, socket: Path, started_ts_ms: int, run_id: str, mode: str,
    folder: Path | None = None,
) -> DaemonEntry:
    """Write this process's entry; returns it (``path`` set). Raises ``OSError``."""
    pid = os.getpid()
    folder = make_private_dir(folder or registry_dir())
    path = folder / f"{pid}-{run_id}.json"
    entry = DaemonEntry(pid, str(data_dir), str(socket), started_ts_ms, run_id, mode,
                        process_start(pid), path)
    write_private(path, entry.to_json() + "\n")
    return entry


def unregister(entry: DaemonEntry | None) -> None:
    """Remove an entry written by ``register`` (never raises)."""
    if entry is not None and entry.path is not None:
        with contextlib.suppress(OSError):
            entry.path.unlink()


def _read(path: Path) -> DaemonEntry | None:
    try:
        data = json.loads(path.read_text())
        return DaemonEntry(
            int(data["pid"]), str(data["data_dir"]), str(data["socket"]),
            int(data["started_ts_ms"]), str(data["run_id"]), str(data.get("mode", "")),
            None if data.get("proc_start") is None else int(data["proc_start"]), path,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # half-gone or foreign: skipped, never trusted


def running(folder: Path | None = None) -> list[DaemonEntry]:
    """The running daemons, oldest first; entries of dead processes are removed."""
    folder = folder or registry_dir()
    try:
        paths = sorted(folder.glob("*.json"))
    except OSError:
        return []
    alive = []
    for path in paths:
        entry = _read(path)
        if entry is None:
            continue
        if entry_alive(entry):
            alive.append(entry)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return sorted(alive, key=lambda e: (e.started_ts_ms, e.pid))


def same_dir(a: Path | str, b: Path | str) -> bool:
    """True if ``a`` and ``b`` name the same directory (symlinks and ``..`` folded)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def find(data_dir: Path | str, folder: Path | None = None) -> DaemonEntry | None:
    """The running daemon on ``data_dir``, if one is registered."""
    return next((e for e in running(folder) if same_dir(e.data_dir, data_dir)), None)
