"""Start-up of a daemon: claim the data dir, restore state from the journal and the latch.

After a crash (even ``kill -9``) this is what makes a restart safe: the account comes
back from the journal (latest position snapshot rolled forward through later fills),
orders that were in flight are marked unknown and never re-sent, the kill latch on disk
keeps trading KILLED, and the loss figures continue (daily loss and the session's
drawdown peak are not reset by a restart).
"""

from __future__ import annotations

import getpass
import os
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from rugsd.daemon.config import Settings
from rugsd.daemon.game.accounting import Account
from rugsd.daemon.journal import DataPaths
from rugsd.daemon.journal.compact import Compactor
from rugsd.daemon.journal.records import OperatorCommand, RiskEvent
from rugsd.daemon.journal.recovery import RecoveredState, mark_open_orders_unknown, restore
from rugsd.daemon.journal.store import Journal
from rugsd.risk import killswitch
from rugsd.risk.context import DAY_MS, SessionFigures
from rugsd.risk.states import RiskState

log = structlog.get_logger(__name__)


def now_ms() -> int:
    """Wall clock in ms (the shell stamps inputs; the core never reads clocks)."""
    return time.time_ns() // 1_000_000


class DaemonError(Exception):
    """The daemon cannot start (another instance, no venue account...)."""


def claim_pid_file(run_dir: Path) -> Path:
    """Write our pid; refuse when another live daemon owns this data dir."""
    path = killswitch.pid_path(run_dir)
    other = killswitch.read_pid(run_dir) if path.exists() else None
    if other and other != os.getpid() and killswitch.pid_alive(other):
        raise DaemonError(f"another rugsd (pid {other}) is running on {run_dir.parent}")
    path.write_text(f"{os.getpid()}\n")
    return path


@dataclass(frozen=True)
class Restored:
    """What a (re)starting daemon continues from."""

    account: Account | None
    risk: RiskState
    figures: SessionFigures | None
    exposure_game: str | None  # the game an open position / sidebet belongs to
    latched: bool
    state: RecoveredState


def figures_of(state: RecoveredState, ts_ms: int) -> SessionFigures | None:
    """Loss-limit figures carried over: today's start equity and the session's peak."""
    s = state.session
    if state.account is None or s.current_equity is None:
        return None
    start = s.session_start_equity if s.session_start_equity is not None else s.current_equity
    return SessionFigures(
        start_equity=start,
        peak_equity=max(s.peak_equity or s.current_equity, s.current_equity),
        day_start_equity=s.day_start_equity if s.day_start_equity is not None
        else s.current_equity,
        equity=s.current_equity,
        day=ts_ms // DAY_MS,
    )


def restore_state(journal: Journal, paths: DataPaths, mode: str, run_id: str) -> Restored:
    """Read the journal and the run dir; journal what the restore itself changes."""
    state = restore(journal, paths.run_dir, modes=(mode,))
    ts = now_ms()
    if state.open_orders:
        mark_open_orders_unknown(journal, state, ts)
        log.warning("orders open at the last stop marked unknown (never re-sent)",
                    count=len(state.open_orders))
    risk = RiskState()
    latch = killswitch.read_latch(paths.run_dir)
    if latch is not None:
        risk, change = risk.restore_kill(ts, latch.describe())
        if change is not None:
            journal.write(RiskEvent(run_id, ts, change.old.value, change.new.value,
                                    change.reason.value, change.detail))
        log.warning("kill latch in force: trading stays KILLED until `rugsd arm`",
                    latch=latch.describe())
    account = state.account
    exposed = account is not None and (account.qty > 0 or account.sidebet is not None)
    if account is not None:
        log.info("account restored from the journal", balance=account.balance,
                 qty=account.qty, cost=account.cost, realised=account.realised,
                 last_game=state.last_game_id)
    return Restored(
        account=account,
        risk=risk,
        figures=figures_of(state, ts),
        exposure_game=state.last_game_id if exposed else None,
        latched=latch is not None,
        state=state,
    )


def make_compactor(journal: Journal, dataset_dir: Path, settings: Settings) -> Compactor | None:
    """The between-games compactor (None when ``journal.compact_between_games`` is off)."""
    cfg = settings.journal
    if not cfg.compact_between_games:
        return None
    return Compactor(journal, dataset_dir, retention_days=cfg.retention_days,
                     batch_rows=cfg.compact_batch_rows)


def journal_opened(journal: Journal, run_id: str, ts_ms: int) -> None:
    """Log how the journal was opened; journal a ``--new-journal`` start."""
    opened = journal.opened
    if opened is None:
        return
    log.info("journal opened", created=opened.created, schema_from=opened.schema_from,
             schema_version=opened.schema_version, check=opened.check,
             check_ms=opened.check_ms)
    if opened.new_journal:
        kept = f"previous journal kept as {opened.replaced.name}" if opened.replaced else (
            "no previous journal")
        journal.write(OperatorCommand(run_id, ts_ms, "new_journal", _who(), f"ok: {kept}"))
        log.warning("started with a new journal (--new-journal)", detail=kept)


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid {os.getuid()}"
