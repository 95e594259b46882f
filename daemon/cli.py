"""The ``rugsd`` command line: one sub-command per operator task.

Each area registers its own sub-commands from a ``daemon/cli_<area>.py`` module
(``add_parser(subparsers)``), so this file only wires them together. Errors the operator
can fix (bad config, missing files) print one line and exit non-zero; nothing here
shows a traceback for an expected failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from daemon.config import ConfigError

# modules that contribute sub-commands, in help order
_AREAS = (
    "daemon.cli_run",
    "daemon.cli_sim",
    "daemon.cli_verify",
    "daemon.cli_record",
    "daemon.cli_replay",
    "daemon.cli_report",
    "daemon.cli_risk",
    "daemon.cli_control",
    "daemon.cli_tui",
    "daemon.cli_config",
    "daemon.cli_browser",
    "training.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="rugsd", description="Rugs.fun trading daemon with a safety shell."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _AREAS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            # the train extra (torch) may be absent: its commands are simply not offered
            if err.name and (err.name == name or err.name.split(".")[0] in {"torch", "gymnasium",
                                                                         "stable_baselines3",
                                                                         "sb3_contrib"}):
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rugsd`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except ConfigError as err:
        print(f"rugsd: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
