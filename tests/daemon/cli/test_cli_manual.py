"""Help that reads like a manual: every command of the whole CLI tree has a description
and an example, every option and argument a help text; the help texts users asked about
say what they should."""

from __future__ import annotations

import argparse
import subprocess
import sys

from rugsd.daemon.cli import build_parser
from rugsd.daemon.cli_manual import MANUAL


def _tree(parser: argparse.ArgumentParser, path: str = ""):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _tree(sub, f"{path} {name}".strip())


def test_every_command_and_option_has_help_and_an_example() -> None:
    missing = []
    commands = list(_tree(build_parser([])))
    assert len(commands) > 20  # the whole tree, train commands included
    for path, parser in commands:
        name = f"rugsd {path}".strip()
        if not (parser.description or "").strip():
            missing.append(f"{name}: no description")
        if "examples:" not in (parser.epilog or "") or f"rugsd {path}" not in parser.epilog:
            missing.append(f"{name}: no example")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{name}: {action.option_strings or action.dest} has no help")
    assert not missing, "\n".join(missing)
    # the manual names no command that does not exist
    assert set(MANUAL) <= {path for path, _ in commands}


def _help(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", *args, "--help"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_help_texts_say_what_the_command_does() -> None:
    run = _help("run")
    assert "Modes:" in run and "paper (default)" in run and "--live" in run
    retrain = _help("retrain")
    assert "Nothing heavy is imported" not in retrain and "module level" not in retrain
    assert "--seed SEED" in retrain and "random seed" in retrain
    login = _help("login")
    assert "logs in once" in login and "record-human" not in login.split("options:")[0]


def test_verify_rejects_a_malformed_seed_or_game_id_in_one_line() -> None:
    seed = "e2896666bec952ac4dbc65d73e1d08dcd5da597137dcf6255f23cd67db9dcd7c"
    for args in (("foo", "bar"), (seed, "bar"), ("zz" * 32, "20251207-1e01ac417e8043ca")):
        done = subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", "verify", *args],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2, done
        assert done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and "malformed" in done.stderr
