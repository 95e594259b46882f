"""``python -m rugsd.tui [--data-dir DIR | --socket PATH] [--who WHO]``: the TUI without
the ``rugsd`` CLI (``rugsd tui --web`` runs it once per browser tab).

Unlike ``rugsd tui`` it does not read ``config.toml``: the data dir defaults to
``./rugsd-data`` (the configuration's default).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rugsd.daemon.control.protocol import socket_path
from rugsd.tui.terminal import terminal_problem


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the app until the operator quits."""
    parser = argparse.ArgumentParser(prog="python -m rugsd.tui",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("rugsd-data"))
    parser.add_argument("--socket", type=Path, default=None)
    parser.add_argument("--who", default=None, help="who the journal records (tui:USER@TTY)")
    args = parser.parse_args(argv)
    problem = terminal_problem()
    if problem is not None:
        print(f"rugsd tui: {problem}", file=sys.stderr)
        return 2
    from rugsd.tui.app import RugsdTui

    RugsdTui(args.socket or socket_path(args.data_dir), who=args.who).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
