"""The running daemon's side of the kill latch: memory first, then disk, and an ``arm`` that
only a correct code can pass.

The decision core goes KILLED in memory the moment a kill arrives (any trigger). The
latch file then has to be written; when it cannot be (disk full, read-only file system)
the kill is *pending*: the daemon stays KILLED, retries the write every timer tick
(``retry``) and refuses every ``arm`` until the latch is on disk — an arm must never
succeed against a kill that a restart would not remember. The keeper also remembers
the latch it wrote or saw, so that a control-socket ``arm`` is checked against the
kill in force even after ``rugsd arm`` removed the file a moment earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import structlog

from rugsd.risk import killswitch
from rugsd.risk.killswitch import KillLatch

log = structlog.get_logger(__name__)


class ArmVerdict(StrEnum):
    """What a control-socket ``arm`` may do."""

    ARM = "armed"
    NOT_KILLED = "not_killed"  # nothing to arm
    WRONG_TOKEN = "wrong_token"
    NOT_PERSISTED = "latch_not_persisted"  # refused until the latch is on disk
    NO_LATCH = "no_latch_known"  # killed, but no latch to check a code against


@dataclass
class LatchKeeper:
    """The kill latch as the running daemon knows it (see the module doc)."""

    run_dir: Path
    known: KillLatch | None = None  # the latch in force, as last written or read
    pending: KillLatch | None = None  # in memory only: its write failed
    error: str | None = None  # why the pending latch is not on disk
    seen_on_disk: bool = False  # the latch file existed since we last armed

    def restored(self, latch: KillLatch | None) -> None:
        """At start: the latch (or kill file) found on disk."""
        self.known = latch
        self.seen_on_disk = latch is not None and killswitch.latch_present(self.run_dir)

    def trip(self, latch: KillLatch) -> bool:
        """Persist ``latch`` (first latch wins); False, and kept pending, if it failed."""
        try:
            self.known = killswitch.trip(self.run_dir, self.pending or latch)
        except OSError as err:
            if self.pending is None:
                log.error("KILL LATCH NOT PERSISTED: staying KILLED, arm refused until it is",
                          error=str(err), who=latch.who, reason=latch.reason)
            self.pending = self.pending or latch
            self.error = str(err)
            return False
        if self.pending is not None:
            log.warning("kill latch persisted after a failed write", who=self.known.who)
        self.pending, self.error, self.seen_on_disk = None, None, True
        return True

    def retry(self) -> None:
        """Timer: try the pending write again."""
        if self.pending is not None:
            self.trip(self.pending)

    def cleared_on_disk(self) -> bool:
        """True once when a latch we had seen on disk is gone (``rugsd arm`` removed it)."""
        if self.pending is not None or not self.seen_on_disk:
            return False
        if killswitch.latch_present(self.run_dir) or killswitch.check_kill_file(self.run_dir):
            return False
        self.seen_on_disk = False
        self.known = None
        return True

    def check_arm(self, token: str, killed: bool) -> ArmVerdict:
        """May a control-socket ``arm`` with ``token`` leave KILLED? (Clears no file.)"""
        if self.pending is not None:
            return ArmVerdict.NOT_PERSISTED
        latch = killswitch.current_kill(self.run_dir) or (self.known if killed else None)
        if latch is None:
            return ArmVerdict.NO_LATCH if killed else ArmVerdict.NOT_KILLED
        if token.strip().upper() != latch.token:
            return ArmVerdict.WRONG_TOKEN
        return ArmVerdict.ARM

    def armed(self) -> None:
        """The files are cleared and the core armed: forget the latch."""
        self.known, self.seen_on_disk = None, False

    def describe_pending(self) -> str:
        """One line for answers and status."""
        return (f"kill latch NOT persisted ({self.error}): trading stays KILLED and arm is "
                "refused until the latch is written (free disk space; it retries every 100 ms)")
