"""The reliability suite: the fail-safe shell's probes against the real daemon process
(``rugsd run --paper``) and the real simulator (``rugsd sim``) or a hostile Socket.IO
server of ours, all on loopback, in bounded loops (``bench/_reliability/``; CI runs the
same probes smaller in ``tests/reliability/``).

1. ``hostile_feed`` — 50 000 garbage events (absurd values, fake rugs and games, 10 MB
   frames, binary frames, malformed Socket.IO and Engine.IO frames, wrong types)
   interleaved with a real game stream.
2. ``feed_faults`` — the server silent, the connection dropped mid-game, the server killed
   and restarted; on websocket and on polling.
3. ``kill9`` — 20 × ``kill -9`` mid-game, restarted each time; the journal reconciled with
   the simulator's ledger and an independent observer.
4. ``disk_full`` — a 16 MiB tmpfs filled under the daemon (root only; skipped with the
   reason otherwise).
5. ``control_flood`` — 64 idle control clients and a status storm; kill latency of every
   trigger under it.

Each probe's module docstring says exactly what it measures and how each "must be 0" is
defined. ``summary`` gives the headline figures over all probes: daemon runs, faults
injected, invariant violations (must be 0), kill latency (p50/p99 over every kill of
every trigger, with and without the flood, on a full disk) and recovery times.
``verdicts`` lists every check as ``pass`` / ``FAIL``; ``all_passed`` is their
conjunction. A probe that raises is recorded with its error and fails.
"""

from __future__ import annotations

import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._reliability.disk_probe import disk_full
from bench._reliability.faults_probe import feed_faults
from bench._reliability.flood_probe import control_flood
from bench._reliability.hostile_probe import hostile_feed
from bench._reliability.kill9_probe import kill9
from bench._reliability.report import summarize

PROBES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "hostile_feed": lambda root: hostile_feed(root, events=50_000, rate=1000, huge=3),
    "feed_faults": lambda root: feed_faults(root, silences=3, silence_s=3.0, drops=3,
                                            restarts=5),
    "kill9": lambda root: kill9(root, kills=20),
    "disk_full": lambda root: disk_full(root, hold_s=3.0),
    "control_flood": lambda root: control_flood(root, idle=64, busy=8, rounds=10,
                                                quiet_rounds=5),
}


def run_probes(probes: dict[str, Callable[[Path], dict[str, Any]]]) -> dict[str, Any]:
    """Run ``probes`` each in its own temp dir; their figures and every verdict."""
    out: dict[str, Any] = {}
    verdicts: dict[str, str] = {}
    for name, probe in probes.items():
        root = Path(tempfile.mkdtemp(prefix=f"rugsd-rel-{name}-"))
        try:
            figures = probe(root)
        except Exception as err:  # noqa: BLE001 - a probe that breaks is a finding
            figures = {"error": f"{type(err).__name__}: {err}",
                       "traceback": traceback.format_exc().splitlines()[-12:]}
            verdicts[f"{name}.ran"] = "FAIL"
        finally:
            shutil.rmtree(root, ignore_errors=True)
        out[name] = figures
        for check, verdict in figures.get("checks", {}).items():
            verdicts[f"{name}.{check}"] = "pass" if verdict["pass"] else "FAIL"
        if "skipped" in figures:
            verdicts[f"{name}.skipped"] = figures["skipped"]
    out["summary"] = summarize({n: out[n] for n in probes})
    out["verdicts"] = verdicts
    out["all_passed"] = all(v != "FAIL" for v in verdicts.values())
    return out


def run() -> dict[str, Any]:
    """Every probe at the benchmark's size (``bench/run.py reliability``)."""
    return run_probes(PROBES)
