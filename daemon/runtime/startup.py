"""Start-up of a daemon: claim the data dir, restore state from the journal and the latch.

After a crash (even ``kill -9``) this is what makes a restart safe: the account comes
back from the journal (latest position snapshot rolled forward through later fills),
orders that were in flight are marked unknown and never re-sent, the kill latch (or a
kill file) on disk keeps trading KILLED, and the loss figures continue (daily loss and
the session's drawdown peak are not reset by a restart).

The data dir is private: ``prepare_data_dir`` creates it and its run dir 0700 and makes
private what an older version left group/world readable (the journal holds balances);
the CLI runs with umask 077, so everything written later is 0600 / 0700 too.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from rugsd.daemon.audit.restore import RESTORED, venue_halt_in_force
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


# what a data dir holds (journal.py / dataset / run dir / training / browser profile):
# a folder with any of these is ours to make private
_OURS = ("journal.sqlite", "run", "dataset", "training", "browser-profile")


def prepare_data_dir(paths: DataPaths) -> None:
    """Create the data dir and its run dir (0700); a bad data dir is a one-line error."""
    data = paths.data_dir
    try:
        existed = data.is_dir()
        if data.exists() and not existed:
            raise DaemonError(f"data dir {data} exists and is not a directory")
        killswitch.make_private_dir(data)
        if existed:
            _make_private(data)
        killswitch.make_private_dir(paths.run_dir)
        os.chmod(paths.run_dir, 0o700)
        if not os.access(data, os.W_OK | os.X_OK):
            raise DaemonError(f"data dir {data} is not writable")
    except OSError as err:
        raise DaemonError(f"data dir {data}: {err.strerror or err}") from None


def _make_private(data: Path) -> None:
    """Tighten what an older rugsd left readable (only in a folder that is clearly ours)."""
    names = set(os.listdir(data))
    ours = sorted(n for n in names if n in _OURS or n.startswith("journal.sqlite"))
    if names and not ours:
        if stat.S_IMODE(data.stat().st_mode) & 0o077:
            log.warning("data dir is readable by others and not a rugsd data dir: left as is",
                        data_dir=str(data))
        return
    _chmod(data, 0o700)
    for name in ours:
        path = data / name
        if path.is_dir() and not path.is_symlink():
            for root, dirs, files in os.walk(path):
                _chmod(Path(root), 0o700)
                for name in files:
                    _chmod(Path(root) / name, 0o600)
        elif path.is_file() and not path.is_symlink():
            _chmod(path, 0o600)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(OSError):
        if stat.S_IMODE(path.lstat().st_mode) & ~mode:
            os.chmod(path, mode)
            log.info("made private", path=str(path), mode=oct(mode))


def claim_pid_file(run_dir: Path) -> Path:
    """Write our pid (0600); refuse when another live daemon owns this data dir."""
    path = killswitch.pid_path(run_dir)
    other = killswitch.read_pid(run_dir) if path.exists() else None
    if other and other != os.getpid() and killswitch.pid_alive(other):
        raise DaemonError(f"another rugsd (pid {other}) is running on {run_dir.parent}")
    try:
        return killswitch.write_pid(run_dir, os.getpid())
    except OSError as err:
        raise DaemonError(f"cannot write the pid file {path}: {err.strerror or err}") from None


@dataclass(frozen=True)
class Restored:
    """What a (re)starting daemon continues from."""

    account: Account | None
    risk: RiskState
    figures: SessionFigures | None
    exposure_game: str | None  # the game an open position / sidebet belongs to
    latch: killswitch.KillLatch | None  # the kill in force on disk (latch or kill file)
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
    latch = killswitch.current_kill(paths.run_dir)
    if latch is not None:
        risk, change = risk.restore_kill(ts, latch.describe())
        if change is not None:
            journal.write(RiskEvent(run_id, ts, change.old.value, change.new.value,
                                    change.reason.value, change.detail))
        log.warning("kill latch in force: trading stays KILLED until `rugsd arm`",
                    latch=latch.describe())
    venue = venue_halt_in_force(journal)
    if venue is not None:  # an unresolved venue-integrity halt: not lifted by a restart
        risk, change = risk.venue_integrity(ts, (RESTORED + venue)[:500])
        if change is not None:
            journal.write(RiskEvent(run_id, ts, change.old.value, change.new.value,
                                    change.reason.value, change.detail))
        log.warning("venue-integrity halt in force: HALTED until `rugsd resume`", detail=venue)
    account = state.account
    exposed = account is not None and (account.qty > 0 or account.sidebet is not None)
    if account is not None:
        # SOL to the lamport (9 decimals: exact), not raw lamports, for people reading it
        log.info("account restored from the journal", balance_sol=_sol9(account.balance),
                 qty=account.qty, cost_sol=_sol9(account.cost),
                 realised_sol=_sol9(account.realised), last_game=state.last_game_id)
    if exposed:
        # the core settles it by that game's outcome (core/orphan.py) and says how
        log.warning("the last run left exposure open: it is settled by that game's outcome",
                    game_id=state.last_game_id, qty=account.qty, cost=account.cost,
                    sidebet=account.sidebet is not None)
    return Restored(
        account=account,
        risk=risk,
        figures=figures_of(state, ts),
        exposure_game=state.last_game_id if exposed else None,
        latch=latch,
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


def _sol9(lamports: int) -> str:
    """Lamports as an exact SOL string (``1.008106366``)."""
    sign = "-" if lamports < 0 else ""
    whole, frac = divmod(abs(lamports), 1_000_000_000)
    return f"{sign}{whole}.{frac:09d}"
