"""``rugsd run --paper``: the daemon. Paper mode on the embedded simulator by default."""

from __future__ import annotations

import argparse
import sys

from rugsd.daemon.config import load_settings
from rugsd.daemon.logs import configure
from rugsd.daemon.runtime.build import data_dir_of
from rugsd.daemon.runtime.executors import EXECUTORS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``run``."""
    p = sub.add_parser("run", help="run the trading daemon (paper by default)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--paper", action="store_true", help="paper fills (the default)")
    mode.add_argument("--live", action="store_true", help="real orders through the browser")
    p.add_argument("--feed", metavar="URL", help="feed URL (default: start/use the simulator)")
    p.add_argument("--data-dir", help="journal, dataset and run dir")
    p.add_argument("--executor", choices=list(EXECUTORS),
                   help="how orders are executed, overrides executor.kind (browser: "
                   "clicks on the venue page)")
    p.add_argument("--strategy", help="override strategy.name")
    p.add_argument("--yes-i-mean-it", action="store_true",
                   help="live mode without the interactive confirmation")
    p.add_argument("--new-journal", action="store_true",
                   help="start a fresh journal on purpose (an existing one is kept under "
                   "another name; the account restarts at paper.starting_balance_sol)")
    p.add_argument("--log-format", choices=["auto", "human", "json"], default=None,
                   help="terminal output: human lines (orders, fills, one line per game) or "
                   "JSON lines (default: human on a terminal, JSON otherwise; "
                   "config logging.format)")
    p.set_defaults(func=run)


def confirm_live(settings, args: argparse.Namespace, stdin=sys.stdin) -> str | None:
    """The double opt-in for real money; returns why live mode is refused (None = go)."""
    if not settings.live.enabled:
        return "live trading is disabled: set live.enabled = true (or RUGSD_LIVE__ENABLED=1)"
    if args.yes_i_mean_it:
        return None
    if not stdin.isatty():
        return "live mode needs an interactive confirmation, or --yes-i-mean-it when unattended"
    lim = settings.risk
    print(f"LIVE trading on {settings.live.venue_url} with real SOL.\n"
          f"limits: max bet {lim.max_bet_sol}, max position {lim.max_position_sol}, "
          f"daily loss {lim.max_daily_loss_sol}, drawdown {lim.max_drawdown_sol} (SOL)\n"
          "type LIVE to continue: ", end="", flush=True)
    return None if stdin.readline().strip() == "LIVE" else "not confirmed"


def run(args: argparse.Namespace) -> int:
    """Start the daemon in the foreground until SIGINT/SIGTERM."""
    settings = load_settings()
    if args.strategy:
        settings.strategy.name = args.strategy
    fmt = args.log_format or settings.logging.format
    configure({"human": "console"}.get(fmt, fmt), settings.logging.level)
    executor = "browser" if args.live else args.executor  # None: executor.kind
    if args.live:
        refused = confirm_live(settings, args)
        if refused is None:  # the page's controls, before any daemon starts
            from rugsd.daemon.execution.check import live_preflight

            refused = live_preflight(settings, data_dir_of(settings, args.data_dir))
        if refused is not None:
            print(f"rugsd run --live: refused: {refused}", file=sys.stderr)
            return 2
    from rugsd.daemon.journal.errors import JournalError
    from rugsd.daemon.runtime.daemon import DaemonError, run_daemon
    from rugsd.strategy.registry import StrategyError

    try:
        return run_daemon(settings, data_dir_of(settings, args.data_dir), feed_url=args.feed,
                          executor=executor, live=args.live, new_journal=args.new_journal,
                          log_format=fmt)
    except (DaemonError, StrategyError, JournalError) as err:
        print(f"rugsd run: {err}", file=sys.stderr)
        return 1
