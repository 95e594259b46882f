"""Machine output: every command with ``--json`` prints exactly one JSON document on
stdout (logs and progress on stderr, no debug line at the default level), and a reader
that leaves early (``rugsd config show | head -1``) ends the command without a traceback.
Real subprocesses, real recordings."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rugsd.daemon.cli import build_parser

SEED = "e2896666bec952ac4dbc65d73e1d08dcd5da597137dcf6255f23cd67db9dcd7c"
GAME = "20251207-1e01ac417e8043ca"
REPO = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
    env["RUGSD_LOGGING__LEVEL"] = "info"
    env["RUGSD_STRATEGY__MODELS_DIR"] = str(REPO / "models")
    return env


def _rugsd(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", *args],
                          capture_output=True, text=True, timeout=timeout, env=_env(),
                          stdin=subprocess.DEVNULL, check=False, cwd=REPO, **kw)


def json_commands() -> set[str]:
    """Every command path of the CLI that offers ``--json``."""
    found = set()

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
        if any("--json" in a.option_strings for a in parser._actions):
            found.add(" ".join(path))

    walk(build_parser([]), ())
    return found


@pytest.fixture(scope="module")
def recordings(real_data_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rec")
    for src in sorted((real_data_dir / "recordings").glob("*.jsonl"))[:3]:
        shutil.copy(src, out / src.name)
    assert len(list(out.iterdir())) == 3
    return out


def test_every_json_command_prints_exactly_one_json_document(recordings: Path,
                                                              tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    invocations = {
        "replay": ("replay", str(recordings), "--data-dir", data, "--strategy",
                   "presale_target", "--json"),
        "report": ("report", "--data-dir", data, "--json"),
        "export": ("export", "--data-dir", data, "--json"),
        "compact": ("compact", "--data-dir", data, "--json"),
        "verify": ("verify", SEED, GAME, "--json"),
        "audit": ("audit", str(recordings), "--json"),
        "status": ("status", "--data-dir", data, "--json"),
        "pause": ("pause", "--data-dir", data, "--json"),
        "resume": ("resume", "--data-dir", data, "--json"),
        "flatten": ("flatten", "--data-dir", data, "--json"),
        "config show": ("config", "show", "--json"),
        "evaluate": ("evaluate", str(REPO / "models" / "current"), str(recordings), "--json"),
        # nothing listens on port 9: the check fails, and says so in its JSON
        "browser check": ("browser", "check", "--url", "http://127.0.0.1:9", "--data-dir",
                          data, "--json", "--wait", "1"),
    }
    assert json_commands() <= set(invocations), "a --json command this test does not run"
    for name, args in invocations.items():  # in order: replay makes the journal first
        done = _rugsd(*args)
        assert "Traceback" not in done.stderr, (name, done.stderr[-2000:])
        try:
            json.loads(done.stdout)
        except ValueError as err:
            raise AssertionError(f"rugsd {name} --json: stdout is not one JSON document "
                                 f"({err}):\n{done.stdout[:1500]}") from None
        assert '"level": "debug"' not in done.stderr and "[debug" not in done.stderr, name


@pytest.mark.parametrize("args", [("config", "show"), ("config", "show", "--json"),
                                  ("--help",), ("verify", SEED, GAME),
                                  ("status", "--json")])
def test_a_closed_pipe_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte
    try:
        done = subprocess.run(
            [sys.executable, "-m", "rugsd.daemon.cli", *args], stdout=write,
            stderr=subprocess.PIPE, text=True, timeout=60, env=_env(), check=False, cwd=REPO)
    finally:
        os.close(write)
    assert done.returncode in (0, 1, 141), done.stderr
    for noise in ("Traceback", "BrokenPipeError", "Exception ignored"):
        assert noise not in done.stderr, done.stderr


def test_config_show_into_head_prints_one_line_and_no_traceback() -> None:
    rugsd = f"{sys.executable} -m rugsd.daemon.cli"
    done = subprocess.run(["bash", "-c", f"{rugsd} config show | head -1"],
                          capture_output=True, text=True, timeout=60, env=_env(), cwd=REPO,
                          check=False)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
