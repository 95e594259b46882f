"""``rugsd replay PATH...``: drive the decision core from recordings and report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rugsd.daemon.config import load_settings
from rugsd.daemon.journal.errors import JournalError
from rugsd.daemon.journal.report import build_report
from rugsd.daemon.logs import configure
from rugsd.daemon.runtime.build import data_dir_of
from rugsd.daemon.runtime.replay import NothingToReplay, replay


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``replay``."""
    p = sub.add_parser("replay", help="replay recordings through the decision core (paper)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="recording file or folder")
    p.add_argument("--data-dir", help="where the journal goes")
    p.add_argument("--strategy", help="strategy name (default: strategy.name from config)")
    p.add_argument("--decision-log", type=Path, help="also write the decision log (JSONL)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    """Replay, print the summary and the report; exit 1 when nothing could be read."""
    overrides = {"strategy": {"name": args.strategy}} if args.strategy else {}
    settings = load_settings(**overrides) if overrides else load_settings()
    if args.strategy:
        settings.strategy.name = args.strategy
    # logs go to stderr: with --json, stdout carries exactly one JSON document
    configure(settings.logging.format, settings.logging.level)
    data_dir = data_dir_of(settings, args.data_dir)
    for path in args.paths:
        if not Path(path).exists():
            print(f"rugsd replay: no such file or folder: {path}", file=sys.stderr)
            return 1
    from rugsd.daemon.progress import progress_bar
    from rugsd.daemon.runtime.replay import sources_of
    from rugsd.strategy.registry import StrategyError

    try:
        files = sum(len(source.files) for source in sources_of(args.paths))
        with progress_bar("replay", files, "files") as update:
            summary = replay(args.paths, settings, data_dir, decision_log=args.decision_log,
                             on_source=lambda done: update(completed=done))
    except (NothingToReplay, JournalError) as err:
        print(f"rugsd replay: {err}", file=sys.stderr)
        return 1
    except StrategyError as err:  # e.g. a bundle of another feature schema
        print(f"rugsd replay: {err}", file=sys.stderr)
        return 2
    report = build_report(data_dir)
    if args.json:
        print(json.dumps({"summary": summary.as_dict(), "report": report}, default=str))
        return 0
    s = summary
    f = s.figures
    g = s.game_counts
    print(f"replayed {s.files} files, {s.lines} lines: {s.events} events, "
          f"{s.malformed} malformed and {s.skipped} skipped lines")
    print(f"run {s.run_id}: {s.decisions} decisions, {s.orders} orders, {s.fills} fills, "
          f"{s.games} games; P&L {s.pnl_sol:+.9f} SOL; state {s.trading_state}")
    print(f"games: {g['complete']} complete, {g['incomplete']} incomplete, "
          f"{g['skipped']} skipped (no decision)")
    refused = ", ".join(f"{k} {v}" for k, v in f["orders_refused"].items()) or "none"
    print(f"intents: {f['non_wait_intents']} non-wait, refused {sum(f['orders_refused'].values())}"
          f" ({100 * f['refused_share']:.1f} %: {refused}); exits: {f['exits']['sold']} sold, "
          f"{f['exits']['rugged']} rugged")
    if s.open_position:
        print("a position or sidebet was still open when the recordings ended (not in P&L)")
    print(f"decision log sha256 {s.decision_log_sha256}")
    print(f"journal in {data_dir}; `rugsd report --data-dir {data_dir}` for more, "
          "`rugsd export` for the Parquet dataset")
    return 0
