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
# which module owns each command: `rugsd kill` must not pay for importing numpy,
# onnxruntime or playwright (the kill switch has a one-tick budget)
_OWNER = {
    "run": "daemon.cli_run", "sim": "daemon.cli_sim", "verify": "daemon.cli_verify",
    "record": "daemon.cli_record", "replay": "daemon.cli_replay",
    "report": "daemon.cli_report", "kill": "daemon.cli_risk", "arm": "daemon.cli_risk",
    "pause": "daemon.cli_control", "resume": "daemon.cli_control",
    "flatten": "daemon.cli_control", "status": "daemon.cli_control",
    "tui": "daemon.cli_tui", "config": "daemon.cli_config", "login": "daemon.cli_browser",
    "record-human": "daemon.cli_browser", "retrain": "training.cli",
    "models": "training.cli", "evaluate": "training.cli",
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
