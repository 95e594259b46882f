"""``rugsd tui``: the Textual dashboard, a client of the daemon's control socket.

It finds the daemon from any directory (``--data-dir``, else the running daemon in the
registry, else the configured data dir). Starting it never starts the daemon and
quitting it never stops the daemon; when the daemon is down the TUI says so and keeps
retrying.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rugsd.daemon.cli_find import TargetError, one_target


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``tui``."""
    p = subparsers.add_parser(
        "tui", help="live dashboard: positions, P&L, model outputs, risk state, kill switch",
        description="Keys: k kill (asks first), p pause, r resume, f flatten (asks first), "
        "l log scale, q quit (the daemon keeps running).",
    )
    p.add_argument("--data-dir", type=Path, default=None,
                   help="data directory of the daemon (default: the running daemon, "
                   "else general.data_dir)")
    p.add_argument("--socket", type=Path, default=None,
                   help="control socket path (default: DATA_DIR/run/control.sock)")
    p.set_defaults(func=run_tui)


def run_tui(args: argparse.Namespace) -> int:
    """Run the TUI until the operator quits."""
    sock = args.socket
    if sock is None:
        try:
            sock = one_target(args.data_dir, "tui").socket
        except TargetError as err:
            print(f"rugsd tui: {err}", file=sys.stderr)
            return 2
    from rugsd.tui.app import RugsdTui  # Textual loads only for this command

    RugsdTui(sock).run()
    return 0
