"""The ``rugsd`` command line: one sub-command per operator task.

Each area registers its own sub-commands from a ``daemon/cli_<area>.py`` module
(``add_parser(subparsers)``), so this file only wires them together. Errors the operator
can fix (bad config, missing files) print one line and exit non-zero; nothing here
shows a traceback for an expected failure.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from rugsd.daemon.cli_manual import apply_manual
from rugsd.daemon.config_file import ConfigError, use_config_file

# modules that contribute sub-commands, in help order
_AREAS = (
    "rugsd.daemon.cli_run",
    "rugsd.daemon.cli_sim",
    "rugsd.daemon.cli_verify",
    "rugsd.daemon.cli_audit",
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
    "audit": _D + "cli_audit",
    "record": _D + "cli_record", "replay": _D + "cli_replay", "report": _D + "cli_report",
    "export": _D + "cli_journal", "compact": _D + "cli_journal",
    "kill": _D + "cli_risk", "arm": _D + "cli_risk",
    "pause": _D + "cli_control", "resume": _D + "cli_control",
    "flatten": _D + "cli_control", "status": _D + "cli_control",
    "tui": _D + "cli_tui", "config": _D + "cli_config",
    "login": _D + "cli_browser", "record-human": _D + "cli_browser",
    "browser": _D + "cli_browser",
    "retrain": "rugsd.training.cli", "models": "rugsd.training.cli",
    "evaluate": "rugsd.training.cli",
}
_TRAIN_MODULES = {"torch", "gymnasium", "stable_baselines3", "sb3_contrib", "onnx", "onnxscript"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: only the owning module for a known command, else all."""
    parser = argparse.ArgumentParser(
        prog="rugsd", description="Rugs.fun trading daemon with a safety shell."
    )
    parser.add_argument("--config", type=Path, default=None, metavar="FILE", help=_CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    first = _command_word(argv or [])
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
    _accept_config_everywhere(sub)
    apply_manual(parser)
    return parser


_CONFIG_HELP = ("config file (default: $RUGSD_CONFIG, ./config.toml, "
                "~/.config/rugsd/config.toml, then built-in defaults)")


def _command_word(argv: list[str]) -> str | None:
    """The sub-command in ``argv`` (skipping ``--config FILE`` before it)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--config":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _accept_config_everywhere(sub: argparse._SubParsersAction) -> None:
    """``--config FILE`` also after the sub-command (``rugsd run --config x.toml``)."""
    for parser in sub.choices.values():
        if not any("--config" in a.option_strings for a in parser._actions):
            parser.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                                metavar="FILE", help=_CONFIG_HELP)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_config_everywhere(action)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rugsd`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    # everything rugsd writes (journal, dataset, latch, pid, sockets, registry) is private
    umask = os.umask(0o077)
    try:
        if args.config is not None:
            use_config_file(args.config)
        return int(func(args) or 0)
    except ConfigError as err:
        print(f"rugsd: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `rugsd status | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        use_config_file(None)
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())
