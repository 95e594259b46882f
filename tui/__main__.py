"""``python -m rugsd.tui [--data-dir DIR | --socket PATH]``: the same as ``rugsd tui``
(finds the running daemon from any directory)."""

from __future__ import annotations

import sys

from rugsd.daemon.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    """Run ``rugsd tui`` with ``argv``."""
    return cli_main(["tui", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
