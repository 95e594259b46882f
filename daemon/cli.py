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

from rugsd.daemon.config import ConfigError

# modules that contribute sub-commands, in help order
_AREAS = (
    "rugsd.daemon.cli_run",
    "rugsd.daemon.cli_sim",
    "rugsd.daemon.cli_verify",
    "rugsd.daemon.cli_record",
    "rugsd.daemon.cli_replay",
    "rugsd.daemon.cli_report",
    "rugsd.daemon.cli_journal",
    "rugsd.daemon.cli_risk",
    "rugsd.daemon.cli_control",
    "rugsd.daemon.cli_tui",
    "rugsd.daemon.cli_config",
    "rugsd.daemon.cli_browser",
    "rugsd.training.cli",
)
# which module owns each command: `rugsd kill` must not pay for importing numpy,
# onnxruntime or playwright (the kill switch has a one-tick budget)
_D = "rugsd.daemon."
_OWNER = {
    "run": _D + "cli_run", "sim": _D + "cli_sim", "verify": _D + "cli_verify",
    "record": _D + "cli_record", "replay": _D + "cli_replay", "report": _D + "cli_report",
    "export": _D + "cli_journal", "compact": _D + "cli_journal",
    "kill": _D + "cli_risk", "arm": _D + "cli_risk",
    "pause": _D + "cli_control", "resume": _D + "cli_control",
    "flatten": _D + "cli_control", "status": _D + "cli_control",
    "tui": _D + "cli_tui", "config": _D + "cli_config",
    "login": _D + "cli_browser", "record-human": _D + "cli_browser",
    "retrain": "rugsd.training.cli", "models": "rugsd.training.cli",
    "evaluate": "rugsd.training.cli",
}
_TRAIN_MODULES = {"torch", "gymnasium", "stable_baselines3", "sb3_contrib", "onnx", "onnxscript"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: only the owning module for a known command, else all."""
    parser = argparse.ArgumentParser(
        prog="rugsd", description="Rugs.fun trading daemon with a safety shell."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    first = next((a for a in (argv or []) if not a.startswith("-")), None)
    areas = (_OWNER[first],) if first in _OWNER else _AREAS
    for name in areas:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            # the train extra (torch) may be absent: its commands are simply not offered
            if err.name and err.name.split(".")[0] in _TRAIN_MODULES:
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rugsd`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
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
