"""``rugsd sim`` as a process: listens, serves /health, stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# runs only this area's sub-command, so the test does not depend on other areas' modules
DRIVER = (
    "import argparse, sys\n"
    "from daemon import cli_sim\n"
    "p = argparse.ArgumentParser(prog='rugsd')\n"
    "cli_sim.add_parser(p.add_subparsers())\n"
    "a = p.parse_args(sys.argv[1:])\n"
    "sys.exit(a.func(a))\n"
)


def _start(repo_root: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "RUGSD_LOGGING__FORMAT": "json"}
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, "sim", *args],
        cwd=repo_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _url(proc: subprocess.Popen, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            return m.group(1)
    proc.kill()
    raise AssertionError(f"no listening line; stderr: {proc.stderr.read()[-2000:]}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sim_command_serves_health_and_exits_zero_on_signal(repo_root: Path, sig) -> None:
    proc = _start(repo_root, "--host", "127.0.0.1", "--port", "0", "--speed", "50", "--seed", "9")
    try:
        url = _url(proc)
        health = None
        for _ in range(100):  # the first step happens right after the listener starts
            with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                health = json.loads(r.read())
            if health["phase"] != "unknown":
                break
            time.sleep(0.02)
        assert health is not None and health["seed"] == "9" and health["speed"] == 50.0
        assert re.fullmatch(r"20260101-[0-9a-f]{16}", health["gameId"])
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sim_command_refuses_a_bad_speed(repo_root: Path) -> None:
    proc = _start(repo_root, "--speed", "0", "--port", "0")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "--speed" in err
