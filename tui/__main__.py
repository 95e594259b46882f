"""``python -m rugsd.tui [--data-dir DIR | --socket PATH] [--who WHO]``: the TUI without
the rest of the ``rugsd`` CLI (``rugsd tui --web`` runs it once per browser tab, with
``--socket`` and ``--who``). Without either it finds the daemon like ``rugsd tui``:
``--data-dir``, else the running daemon in the registry, else the configured data dir.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rugsd.daemon.cli_find import TargetError, one_target
from rugsd.tui.terminal import terminal_problem


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the app until the operator quits."""
    parser = argparse.ArgumentParser(prog="python -m rugsd.tui",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--socket", type=Path, default=None)
    parser.add_argument("--who", default=None, help="who the journal records (tui:USER@TTY)")
    args = parser.parse_args(argv)
    problem = terminal_problem()
    if problem is not None:
        print(f"rugsd tui: {problem}", file=sys.stderr)
        return 2
    sock = args.socket
    if sock is None:
        try:
            sock = one_target(args.data_dir, "tui").socket
        except TargetError as err:
            print(f"rugsd tui: {err}", file=sys.stderr)
            return 2
    from rugsd.tui.app import RugsdTui

    RugsdTui(sock, who=args.who).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
