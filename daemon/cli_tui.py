"""``rugsd tui``: the Textual dashboard, a client of the daemon's control socket — in the
terminal, or with ``--web`` in a browser (textual-serve, loopback only).

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
        "c 5-tick candles, l log scale, q quit (the daemon keeps running). "
        "--web serves the same screen to a browser on 127.0.0.1 (no authentication).",
        epilog="examples: rugsd tui | rugsd tui --web --port 8767 (then open "
        "http://127.0.0.1:8767)",
    )
    p.add_argument("--data-dir", type=Path, default=None,
                   help="data directory of the daemon (default: the running daemon, "
                   "else general.data_dir)")
    p.add_argument("--socket", type=Path, default=None,
                   help="control socket path (default: DATA_DIR/run/control.sock)")
    p.add_argument("--web", action="store_true",
                   help="serve the TUI to a browser on 127.0.0.1 instead of this terminal")
    p.add_argument("--port", type=int, default=None,
                   help="port of --web (default 8767)")
    p.add_argument("--public-url", default=None,
                   help="with --web behind an authenticating reverse proxy: the URL the "
                   "browser uses (the one other allowed host and origin)")
    p.set_defaults(func=run_tui)


def run_tui(args: argparse.Namespace) -> int:
    """Run the TUI (or its web server) until the operator quits."""
    sock = args.socket
    if sock is None:
        try:
            sock = one_target(args.data_dir, "tui").socket
        except TargetError as err:
            print(f"rugsd tui: {err}", file=sys.stderr)
            return 2
    if args.web:
        from rugsd.tui.web import DEFAULT_PORT, serve  # textual-serve loads only for --web

        return serve(Path(sock), args.port or DEFAULT_PORT, args.public_url)
    if args.port is not None or args.public_url is not None:
        print("rugsd tui: --port and --public-url go with --web", file=sys.stderr)
        return 2
    from rugsd.tui.terminal import terminal_problem

    problem = terminal_problem()
    if problem is not None:
        print(f"rugsd tui: {problem}", file=sys.stderr)
        return 2
    from rugsd.tui.app import RugsdTui  # Textual loads only for this command

    RugsdTui(sock).run()
    return 0
