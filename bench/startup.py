"""Daemon start-up: process start → first decision, and resident memory.

A simulator runs first (``rugsd sim --speed 5``, so a presale or active phase is never
more than ~1 s away); then ``rugsd run --paper --feed URL`` starts and we time, from
``Popen`` to its log lines, the first feed event and the first decision; RSS is read
from ``/proc`` a moment after the first decision.

Keys: ``seconds_to_first_decision`` (median of runs), ``seconds_to_connected``,
``rss_mb`` (max of runs), ``runs``.
"""

from __future__ import annotations

import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _one(url: str, env: dict[str, str]) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as data:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [PY, "-m", "rugsd.daemon.cli", "run", "--paper", "--feed", url, "--data-dir", data],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )
        connected = first = float("nan")
        try:
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline:
                line = proc.stderr.readline()
                if not line:
                    break
                if "feed_connected" in line and math.isnan(connected):
                    connected = time.perf_counter() - t0
                if "first decision" in line:
                    first = time.perf_counter() - t0
                    break
            time.sleep(1.0)
            rss = _rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    return first, connected, rss


def run() -> dict:
    """Start a simulator, then time three daemon starts against it."""
    port = _free_port()
    env = dict(os.environ, RUGSD_LOGGING__FORMAT="json", RUGSD_STRATEGY__NAME="presale_target")
    sim = subprocess.Popen(
        [PY, "-m", "rugsd.daemon.cli", "sim", "--port", str(port), "--speed", "5", "--seed", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)
        runs = [_one(f"http://127.0.0.1:{port}", env) for _ in range(3)]
    finally:
        sim.terminate()
        sim.wait(10)
    return {
        "seconds_to_first_decision": round(statistics.median(r[0] for r in runs), 3),
        "seconds_to_connected": round(statistics.median(r[1] for r in runs), 3),
        "rss_mb": round(max(r[2] for r in runs), 1),
        "runs": [{"first_decision_s": round(a, 3), "connected_s": round(b, 3), "rss_mb": round(c, 1)}
                 for a, b, c in runs],
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
