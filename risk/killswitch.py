"""The persisted kill latch and the kill-file trigger (the file-system edge of the kill switch).

Layout under ``RUN_DIR = DATA_DIR/run``:

- ``kill.latch`` — JSON ``{ts_ms, who, reason, detail}``, written atomically (temp file +
  fsync + rename + directory fsync). Its presence means KILLED; it survives restarts and
  is the source of truth at start (``read_latch``; the journal only records history). An
  unreadable latch counts as a latch: fail safe.
- ``KILL`` — the operator's trigger: ``touch DATA_DIR/run/KILL``. The daemon polls it
  (``kill_file_latch``, every 100 ms), goes KILLED, writes the latch and *keeps* the
  file as evidence; ``arm`` removes both. An empty file is enough (it needs no disk
  block, so it can be created on a full disk). While the file exists, a kill is re-asserted on every
  poll, so arming with the file still present is impossible by construction.
- ``rugsd.pid`` — the running daemon's pid (written by the daemon), used by
  ``rugsd kill`` to send SIGUSR1.

Every file here is written 0600 in a 0700 directory. ``arm(run_dir, token)`` clears the
latch only with the right confirmation token: a short code derived from the latch
contents, shown by ``rugsd arm`` and typed back by the operator. A running daemon keeps
its own copy of the latch (``rugsd.daemon.runtime.latch``): it notices the latch
disappearing on its next poll and arms only if it had seen that latch on disk before (a
latch write that failed must not look like an arm).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from rugsd.daemon.lazylog import lazy_logger
from rugsd.risk.reasons import ReasonCode

log = lazy_logger(__name__)

LATCH_NAME = "kill.latch"
KILL_FILE_NAME = "KILL"
PID_NAME = "rugsd.pid"


def run_dir_of(data_dir: Path | str) -> Path:
    """``DATA_DIR/run``: where the latch, the kill file and the pid file live."""
    return Path(data_dir) / "run"


def latch_path(run_dir: Path) -> Path:
    """Path of the kill latch."""
    return Path(run_dir) / LATCH_NAME


def kill_file_path(run_dir: Path) -> Path:
    """Path of the operator's kill trigger file."""
    return Path(run_dir) / KILL_FILE_NAME


def pid_path(run_dir: Path) -> Path:
    """Path of the daemon's pid file."""
    return Path(run_dir) / PID_NAME


@dataclass(frozen=True, slots=True)
class KillLatch:
    """Who killed trading, when (ms since the epoch) and why (a ``ReasonCode`` value)."""

    ts_ms: int
    who: str
    reason: str
    detail: str = ""

    def to_json(self) -> str:
        """Canonical JSON (sorted keys): the file contents and the token's input."""
        return json.dumps(asdict(self), sort_keys=True)

    @property
    def token(self) -> str:
        """The confirmation code ``arm`` asks for: 6 hex digits of the latch's SHA-256."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:6].upper()

    def describe(self) -> str:
        """One line for operators."""
        extra = f": {self.detail}" if self.detail else ""
        try:
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.ts_ms / 1000))
        except (OverflowError, OSError, ValueError):
            when = f"ts_ms={self.ts_ms}"
        return f"killed at {when} by {self.who} ({self.reason}){extra}"


def _mtime_ms(path: Path) -> int:
    try:
        return int(path.stat().st_mtime * 1000)
    except OSError:
        return 0


def read_latch(run_dir: Path) -> KillLatch | None:
    """The latch on disk, ``None`` if absent. An unreadable latch is still a latch."""
    path = latch_path(run_dir)
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as err:
        log.error("kill latch unreadable, staying killed", path=str(path), error=str(err))
        return KillLatch(_mtime_ms(path), "unknown", ReasonCode.KILL_LATCH_RESTORED.value,
                         f"unreadable latch file: {err}")
    try:
        data = json.loads(raw)
        return KillLatch(int(data["ts_ms"]), str(data["who"]), str(data["reason"]),
                         str(data.get("detail", "")))
    except (ValueError, KeyError, TypeError) as err:
        log.error("kill latch malformed, staying killed", path=str(path), error=repr(err))
        return KillLatch(_mtime_ms(path), "unknown", ReasonCode.KILL_LATCH_RESTORED.value,
                         f"malformed latch file: {err!r}")


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system supports directory fsync
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700; an existing one is left as it is."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is masked by the umask
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``path`` atomically (temp file + fsync + rename + dir fsync), mode 0600.

    On failure (disk full...) the temp file is removed and the old file, if any, stays.
    """
    path = Path(path)
    make_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_latch(run_dir: Path, latch: KillLatch) -> None:
    """Persist ``latch`` atomically (replaces any existing latch)."""
    write_private(latch_path(run_dir), latch.to_json() + "\n")
    log.warning("kill latch written", who=latch.who, reason=latch.reason, detail=latch.detail)


def trip(run_dir: Path, latch: KillLatch) -> KillLatch:
    """Set the latch unless one is already set; returns the latch in force (first wins)."""
    existing = read_latch(run_dir)
    if existing is not None:
        return existing
    write_latch(run_dir, latch)
    return latch


def latch_present(run_dir: Path) -> bool:
    """True while the latch file exists (a running daemon polls this to notice ``arm``)."""
    return latch_path(run_dir).exists()


def check_kill_file(run_dir: Path) -> bool:
    """True if the operator's kill file ``RUN_DIR/KILL`` exists."""
    return kill_file_path(run_dir).exists()


def write_kill_file(run_dir: Path, text: str = "") -> Path:
    """Create the kill file (what ``touch DATA_DIR/run/KILL`` does, with a note).

    When the note cannot be written (disk full), an empty kill file is created instead:
    it needs no data block, and its presence is what counts. Raises ``OSError`` only when
    not even that is possible.
    """
    path = kill_file_path(run_dir)
    try:
        write_private(path, text)
    except OSError as err:
        if not text:
            raise
        log.error("kill file note not written; creating an empty kill file", error=str(err))
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        _fsync_dir(path.parent)
    return path


def kill_file_latch(run_dir: Path, ts_ms: int) -> KillLatch | None:
    """The kill the kill file asks for, or ``None`` without one (writes nothing)."""
    path = kill_file_path(run_dir)
    if not path.exists():
        return None
    try:
        note = path.read_text().strip()[:200]
    except OSError:
        note = ""
    return KillLatch(ts_ms, "kill-file", ReasonCode.KILL_FILE.value, note)


def poll_kill_file(run_dir: Path, ts_ms: int) -> KillLatch | None:
    """If the kill file exists, trip the latch (keeping the file) and return it."""
    latch = kill_file_latch(run_dir, ts_ms)
    return None if latch is None else trip(run_dir, latch)


def current_kill(run_dir: Path) -> KillLatch | None:
    """The kill in force: the latch, or (file without latch, daemon not running) the file."""
    latch = read_latch(run_dir)
    if latch is not None:
        return latch
    path = kill_file_path(run_dir)
    if path.exists():
        return KillLatch(_mtime_ms(path), "kill-file", ReasonCode.KILL_FILE.value, "kill file only")
    return None


class ArmResult(StrEnum):
    """Outcome of ``arm``."""

    ARMED = "armed"
    NOT_KILLED = "not_killed"
    WRONG_TOKEN = "wrong_token"


def arm(run_dir: Path, confirmation_token: str) -> ArmResult:
    """Clear the latch and the kill file if ``confirmation_token`` matches the kill's token."""
    kill = current_kill(run_dir)
    if kill is None:
        return ArmResult.NOT_KILLED
    if confirmation_token.strip().upper() != kill.token:
        return ArmResult.WRONG_TOKEN
    # the kill file first: with the latch gone but the file left, a daemon would re-kill
    for path in (kill_file_path(run_dir), latch_path(run_dir)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    _fsync_dir(Path(run_dir))
    log.warning("kill latch cleared (armed)", was=kill.describe())
    return ArmResult.ARMED


def write_pid(run_dir: Path, pid: int) -> Path:
    """Write the pid file (0600)."""
    path = pid_path(run_dir)
    write_private(path, f"{pid}\n")
    return path


def read_pid(run_dir: Path) -> int | None:
    """The pid in ``rugsd.pid``, or ``None`` if absent or malformed."""
    try:
        pid = int(pid_path(run_dir).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


def pid_alive(pid: int) -> bool:
    """True if a process with ``pid`` exists (signal 0 probe)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
