"""``rugsd export`` and ``rugsd compact``: the Parquet dataset and the journal's size.

- ``rugsd export [--data-dir DIR] [--since ISO|duration] [--json]`` brings the day files
  ``DATA_DIR/dataset/{ticks,decisions,games}/day-YYYY-MM-DD.parquet`` up to date with the
  journal (read-only; safe while the daemon runs). Deleting the dataset and exporting
  rebuilds it for every day the journal still holds.
- ``rugsd compact [--data-dir DIR] [--retention-days N] [--json]`` exports the days past
  the retention window, deletes their decisions and ticks from the journal and gives
  the freed space back to the filesystem. The running daemon does the same between
  games; ``compact`` refuses while it runs (its full VACUUM would block it).

Exit codes: 0 done; 1 failed (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from rugsd.daemon.cli_report import data_dir_arg
from rugsd.daemon.config import ConfigError, load_settings
from rugsd.daemon.journal.errors import JournalError


def add_parser(subparsers: Any) -> None:
    """Register ``export`` and ``compact``."""
    p = subparsers.add_parser(
        "export", help="write the journal's ticks, decisions and games as Parquet day files",
        description="Bring DATA_DIR/dataset/*/day-YYYY-MM-DD.parquet up to date with the "
        "journal (safe while the daemon runs).",
    )
    _common(p)
    p.add_argument("--since", default=None,
                   help="only days since an ISO time or a duration (2h, 1d)")
    p.set_defaults(func=run_export)
    p = subparsers.add_parser(
        "compact", help="move old decisions and ticks to Parquet and shrink the journal",
        description="Export the days older than journal.retention_days, delete their "
        "decisions and ticks from the journal and reclaim the space (daemon stopped).",
    )
    _common(p)
    p.add_argument("--retention-days", type=int, default=None,
                   help="days of decisions and ticks kept in the journal "
                   "(default: journal.retention_days)")
    p.set_defaults(func=run_compact)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=None, help="data dir (default: config)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _fail(command: str, err: BaseException) -> int:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    sys.stderr.write(f"rugsd {command}: {text}\n")
    return 1


def _quiet_logs() -> None:
    """Warnings only, on stderr: stdout carries the summary (or ``--json``)."""
    from rugsd.daemon.logs import configure

    configure("auto", "warning")


def _print(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        sys.stdout.write(json.dumps(data, sort_keys=True) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")


def run_export(args: argparse.Namespace) -> int:
    """``rugsd export``."""
    from rugsd.daemon.journal import data_paths
    from rugsd.daemon.journal.export import export_data_dir
    from rugsd.daemon.journal.report import parse_since

    _quiet_logs()
    try:
        paths = data_paths(data_dir_arg(args))
        since = parse_since(args.since, int(time.time() * 1000)) if args.since else None
        t0 = time.perf_counter()
        from rugsd.daemon.progress import progress_bar

        with progress_bar("export", None, "day files") as update:
            summary = export_data_dir(paths.data_dir, since, progress=lambda kind, done, days:
                                      update(description=f"export {kind}", completed=done,
                                             total=days))
        seconds = time.perf_counter() - t0
    except (JournalError, OSError, ValueError, ConfigError) as err:
        return _fail("export", err)
    data = {"dataset_dir": str(paths.dataset_dir), "seconds": round(seconds, 3),
            "kinds": summary.as_dict()}
    lines = [f"exported {paths.journal} to {paths.dataset_dir} in {seconds:.2f} s"]
    lines += [f"  {kind:<9} {v['files_written']} day file(s) written ({v['rows']} new rows), "
              f"{v['days_unchanged']} unchanged" for kind, v in summary.as_dict().items()]
    _print(args, data, lines)
    return 0


def _refuse_if_running(run_dir: Path) -> None:
    from rugsd.risk.killswitch import pid_alive, read_pid

    pid = read_pid(run_dir)
    if pid is not None and pid_alive(pid):
        raise JournalError(f"a daemon (pid {pid}) runs on this data dir and compacts between "
                           "games; stop it to compact now")


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal"))
               if p.exists())


def run_compact(args: argparse.Namespace) -> int:
    """``rugsd compact``."""
    from rugsd.daemon.journal import data_paths
    from rugsd.daemon.journal.compact import Compactor, reclaim
    from rugsd.daemon.journal.opening import check_file, integrity
    from rugsd.daemon.journal.store import Journal

    _quiet_logs()
    try:
        cfg = load_settings().journal
        paths = data_paths(data_dir_arg(args))
        retention = cfg.retention_days if args.retention_days is None else args.retention_days
        if retention < 0:
            raise ValueError("--retention-days must be >= 0")
        if not paths.journal.is_file():
            raise JournalError(f"no journal at {paths.journal}")
        _refuse_if_running(paths.run_dir)
        check_file(paths.journal)
        integrity(paths.journal, cfg.integrity_check)
        before = _size(paths.journal)
        t0 = time.perf_counter()
        with Journal(paths.journal) as journal:
            compactor = Compactor(journal, paths.dataset_dir, retention_days=retention,
                                  batch_rows=max(cfg.compact_batch_rows, 20_000))
            stats = compactor.run_all(int(time.time() * 1000))
            reclaimed = reclaim(journal)
        seconds = time.perf_counter() - t0
        after = _size(paths.journal)
    except (JournalError, sqlite3.Error, OSError, ValueError, ConfigError) as err:
        return _fail("compact", err)
    data = {"journal_bytes_before": before, "journal_bytes_after": after,
            "retention_days": retention, "seconds": round(seconds, 3), "reclaim": reclaimed,
            **{k: v for k, v in stats.as_dict().items() if k in (
                "days_archived", "rows_exported", "rows_pruned")}}
    lines = [
        f"compacted {paths.journal} in {seconds:.2f} s (keeping {retention} days)",
        (f"  days archived to Parquet: {stats.days_archived}, rows exported "
         f"{stats.rows_exported}, rows deleted {stats.rows_pruned}"),
        f"  journal {before / 1e6:.2f} MB -> {after / 1e6:.2f} MB ({reclaimed})",
    ]
    _print(args, data, lines)
    return 0
