"""Probe 4, disk full (root only: a 16 MiB tmpfs holds the daemon's data dir; its log and
the registry stay elsewhere). Skipped, with the reason, where no tmpfs can be mounted.

- **journal**: a trading daemon on a real ``rugsd sim`` (its orders mirrored to the
  simulator). The disk is filled; time to KILLED = the daemon's ``journal_write_failed``
  fault (its log line) − the moment the disk was full. While full: trades the simulator
  made for our player without a journaled intent (must be 0), orders in the journal
  dated inside the window (must be 0), ``rugsd arm --yes`` refused. Space is freed: the
  latch appears (time), ``rugsd arm --yes`` re-arms, the daemon trades again.
- **triggers**: a daemon that writes nothing on its own for a while (strategy ``never``,
  decisions batched for an hour, a slow simulator, the disk filled right after a game's
  records). For each trigger — control socket, ``rugsd kill``, the kill file, SIGUSR1 —
  the disk is filled, the trigger pulled: time to KILLED (status polled every 5 ms), the
  kill is the trigger's own (not a journal fault that came first), the latch is pending
  (not on disk), a wrong code and ``rugsd arm --yes`` are refused; space freed: the latch
  appears, ``rugsd arm --yes`` re-arms.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from bench._reliability.loop import LoopThread
from bench._reliability.observer import Observer
from bench._reliability.procs import Daemon, Sandbox, log_ms, now_ms, wait_for
from bench._reliability.report import must_be_zero, must_hold, percentiles
from rugsd.risk.killswitch import kill_file_path, latch_path

TMPFS_SIZE = "16m"
TRIGGERS = ("socket", "cli", "kill_file", "sigusr1")
QUIET_ENV = {  # nothing reaches the journal on its own for an hour (triggers part)
    "RUGSD_STRATEGY__NAME": "never",
    "RUGSD_JOURNAL__DECISION_FLUSH_INTERVAL_MS": "3600000",
    "RUGSD_JOURNAL__DECISION_BATCH_SIZE": "1000000",
    "RUGSD_JOURNAL__COMPACT_BETWEEN_GAMES": "false",
}


class SmallDisk:
    """A tmpfs mounted for the probe, filled and freed on demand."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler"

    @classmethod
    def mount_at(cls, mount: Path) -> SmallDisk | str:
        """The mounted disk, or why it cannot be."""
        if os.geteuid() != 0:
            return "mounting a tmpfs needs root"
        mount.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700",
                               "tmpfs", str(mount)], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            return f"cannot mount a tmpfs: {done.stderr.strip()}"
        return cls(mount)

    def fill(self) -> int:
        """Write until ENOSPC; the time (ms) the disk was full."""
        with self.filler.open("ab", buffering=0) as fh:
            for size in (1 << 20, 1 << 12, 1):
                try:
                    while True:
                        fh.write(b"\0" * size)
                except OSError as err:
                    if err.errno != errno.ENOSPC:
                        raise
        return now_ms()

    def free(self) -> int:
        """Give the space back; the time (ms)."""
        self.filler.unlink(missing_ok=True)
        return now_ms()

    def unmount(self) -> None:
        """Unmount (lazily: a process may still hold a file)."""
        subprocess.run(["umount", "-l", str(self.mount)], capture_output=True, check=False)


def _arm_cli(d: Daemon) -> int:
    return d.box.cli("arm", "--yes", "--data-dir", str(d.data_dir), timeout=30).returncode


def _journal_part(box: Sandbox, disk: SmallDisk, hold_s: float, seed: int) -> dict[str, Any]:
    lt = LoopThread("disk-journal")
    obs = Observer()
    try:
        sim = box.sim(20, seed)
        lt.run(obs.start(sim.url))
        d = box.daemon(disk.mount / "journal-data", sim.url)
        d.start()
        d.wait_ready()
        wait_for(lambda: d.query("SELECT count(*) FROM fills")[0][0] >= 1, 60, "a fill",
                 d.alive)
        full = disk.fill()
        fault = wait_for(lambda: next((e for e in d.log_events()
                                       if e.get("reason") == "journal_write_failed"), None),
                         30, "the journal fault", d.alive)
        wait_for(lambda: d.state() == "KILLED", 10, "KILLED", d.alive)
        risk = d.snapshot()["risk"]
        kill_reason = risk["kill_reason"]
        faults = dict(risk["faults"])
        arm_refused = _arm_cli(d) != 0
        time.sleep(hold_s)
        orders_inside = d.query("SELECT count(*) FROM orders WHERE ts_ms > ?", (full,))[0][0]
        freed = disk.free()
        latch_at = wait_for(lambda: latch_path(d.run_dir).exists() and now_ms(), 10,
                            "the latch on disk", d.alive, poll=0.005)
        trades = [t for t in obs.trades if full < t.ms < freed]
        journaled = {(g, a, amt) for g, a, amt, ts in d.query(
            "SELECT game_id, action, amount, ts_ms FROM orders") if ts < full}
        unjournaled = [t for t in trades if (t.game_id, t.kind, t.amount_lamports)
                       not in journaled and not (t.kind == "sell" and any(
                           g == t.game_id and a == "sell" for g, a, _x in journaled))]
        armed = _arm_cli(d) == 0
        wait_for(lambda: d.state() == "ACTIVE", 10, "ACTIVE after arm", d.alive)
        fills = d.query("SELECT count(*) FROM fills")[0][0]
        wait_for(lambda: d.query("SELECT count(*) FROM fills")[0][0] > fills, 60,
                 "trading again", d.alive)
        exit_code = d.stop()
    finally:
        lt.run(obs.stop())
        lt.close()
    return {
        "killed_after_disk_full_s": round((log_ms(fault) - full) / 1000, 3),
        "kill_reason": kill_reason,
        "faults_counted": faults,
        "venue_trades_while_full": len(trades),
        "venue_trades_while_full_unjournaled": len(unjournaled),
        "orders_journaled_while_full": orders_inside,
        "arm_refused_while_full": arm_refused,
        "latch_written_after_free_s": round((latch_at - freed) / 1000, 3),
        "armed_after_free": armed,
        "traded_again": True,
        "exit_code": exit_code,
    }


def _pull(d: Daemon, how: str) -> None:
    if how == "socket":
        d.command("kill", {"reason": "disk full probe"})
    elif how == "cli":
        d.box.cli("kill", "--data-dir", str(d.data_dir), "--reason", "disk full probe")
    elif how == "kill_file":  # what `touch run/KILL` does: an empty file needs no block
        os.close(os.open(kill_file_path(d.run_dir), os.O_WRONLY | os.O_CREAT, 0o600))
    else:
        os.kill(d.pid, signal.SIGUSR1)


def _triggers_part(box: Sandbox, disk: SmallDisk, seed: int) -> dict[str, Any]:
    sim = box.sim(1, seed)
    d = box.daemon(disk.mount / "trigger-data", sim.url, QUIET_ENV)
    d.start()
    d.wait_ready()
    out: dict[str, Any] = {"disk_fills": 0}
    for how in TRIGGERS:
        for _attempt in range(3):  # a game's records may hit the full disk first: retry
            full = disk.fill()
            out["disk_fills"] += 1
            _pull(d, how)
            wait_for(lambda: d.state() == "KILLED", 10, f"KILLED by {how}", d.alive,
                     poll=0.005)
            killed = now_ms()
            risk = d.snapshot()["risk"]
            own = risk["kill_reason"] != "journal_write_failed"
            pending = not latch_path(d.run_dir).exists() and bool(risk["latch_error"])
            wrong = d.command("arm", {"token": "WRONG1"})["ok"] is False
            cli_refused = _arm_cli(d) != 0
            still = d.state() == "KILLED"
            freed = disk.free()
            latch_at = wait_for(lambda: latch_path(d.run_dir).exists() and now_ms(), 10,
                                "the latch on disk", d.alive, poll=0.005)
            armed = _arm_cli(d) == 0
            wait_for(lambda: d.state() == "ACTIVE", 10, "ACTIVE after arm", d.alive)
            with contextlib.suppress(FileNotFoundError):
                kill_file_path(d.run_dir).unlink()
            if own:
                break
        out[how] = {"killed_ms": killed - full, "own_kill": own, "latch_pending": pending,
                    "arm_refused": wrong and cli_refused and still,
                    "latch_written_after_free_s": round((latch_at - freed) / 1000, 3),
                    "armed_after_free": armed}
    out["exit_code"] = d.stop()
    return out


def disk_full(root: Path, *, hold_s: float = 2.0, seed: int = 71) -> dict[str, Any]:
    """Run the probe in ``root``; its figures, or ``{"skipped": why}``."""
    disk = SmallDisk.mount_at(root / "mnt")
    if isinstance(disk, str):
        return {"skipped": disk}
    box = Sandbox(root / "box")
    try:
        journal = _journal_part(box, disk, hold_s, seed)
        triggers = _triggers_part(box, disk, seed + 1)
    finally:
        box.close()
        disk.unmount()
    per = [triggers[t] for t in TRIGGERS]
    return {
        "runs": 2,
        "faults_injected": 1 + triggers["disk_fills"],
        "samples": {"kill_latency_ms": [t["killed_ms"] for t in per],
                    "recovery_s": {"latch_on_disk_after_free": [
                        journal["latch_written_after_free_s"],
                        *(t["latch_written_after_free_s"] for t in per)]}},
        "journal": journal,
        "triggers": triggers,
        "trigger_killed_ms": percentiles((t["killed_ms"] for t in per), 1),
        "checks": {
            "orders_after_disk_full": must_be_zero(
                journal["venue_trades_while_full_unjournaled"]
                + journal["orders_journaled_while_full"]),
            "journal_fault_counted": must_hold(
                journal["faults_counted"].get("journal_write", 0) > 0,
                "status counts the journal fault (risk.faults.journal_write)"),
            "every_trigger_kills_on_a_full_disk": must_hold(
                all(t["own_kill"] and t["latch_pending"] for t in per),
                "each trigger itself made the daemon KILLED, the latch pending"),
            "arm_refused_until_latch_on_disk": must_hold(
                journal["arm_refused_while_full"] and all(t["arm_refused"] for t in per),
                "wrong code and `rugsd arm --yes` refused while the latch is not on disk"),
            "recovers_after_space_frees": must_hold(
                journal["armed_after_free"] and journal["traded_again"]
                and all(t["armed_after_free"] for t in per)
                and journal["exit_code"] == 0 and triggers["exit_code"] == 0,
                "latch written, re-armed, trading again, clean exit"),
        },
    }
