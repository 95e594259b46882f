"""``python -m tui [--data-dir DIR | --socket PATH]``: the TUI without the ``rugsd`` CLI.

Unlike ``rugsd tui`` it does not read ``config.toml``: the data dir defaults to
``./rugsd-data`` (the configuration's default).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rugsd.daemon.control.protocol import socket_path


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the app until the operator quits."""
    parser = argparse.ArgumentParser(prog="python -m tui", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("rugsd-data"))
    parser.add_argument("--socket", type=Path, default=None)
    args = parser.parse_args(argv)
    from rugsd.tui.app import RugsdTui

    RugsdTui(args.socket or socket_path(args.data_dir)).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
