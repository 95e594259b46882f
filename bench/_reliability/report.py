"""How probes state their figures: every "must be 0" (or "must be true") with its value and
verdict, and the shared reads of a daemon from the outside (``rugsd status --json``,
``/metrics``, the journal)."""

from __future__ import annotations

import json
import math
import re
import statistics
import urllib.request
from collections.abc import Iterable
from typing import Any

from bench._reliability.procs import Daemon

_METRIC = re.compile(r'^rugsd_feed_rejected_total\{reason="([^"]*)"\} ([0-9.e+]+)$')


def must_be_zero(value: int) -> dict[str, Any]:
    """A figure that must be 0, with its verdict."""
    return {"value": value, "must_be": 0, "pass": value == 0}


def must_hold(value: bool, what: str) -> dict[str, Any]:
    """A condition that must hold, with its verdict."""
    return {"value": bool(value), "must_be": True, "what": what, "pass": bool(value)}


def percentiles(values: Iterable[float], digits: int = 3) -> dict[str, float | None]:
    """n, p50, p99 (nearest rank) and max of ``values``; None when there are none."""
    data = sorted(values)
    if not data:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    p99 = data[min(len(data) - 1, math.ceil(0.99 * len(data)) - 1)]
    return {"n": len(data), "p50": round(statistics.median(data), digits),
            "p99": round(p99, digits), "max": round(data[-1], digits)}


def violations(checks: dict[str, dict[str, Any]]) -> int:
    """Invariant violations among ``checks``: every must-be-0 count as it is, every
    condition that does not hold as 1."""
    out = 0
    for check in checks.values():
        if check["must_be"] == 0:
            out += int(check["value"])
        elif not check["pass"]:
            out += 1
    return out


def status_json(d: Daemon) -> dict[str, Any]:
    """``rugsd status --json --data-dir D`` (the real CLI) as a dict."""
    done = d.box.cli("status", "--json", "--data-dir", str(d.data_dir), timeout=30)
    if done.returncode != 0:
        raise AssertionError(f"rugsd status failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)


def metrics_rejected(port: int) -> dict[str, int]:
    """``rugsd_feed_rejected_total`` by reason from the daemon's ``/metrics``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        m = _METRIC.match(line.strip())
        if m:
            out[m.group(1)] = int(float(m.group(2)))
    return out


def diff_counts(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """``after - before`` per key, zeros left out."""
    keys = set(after) | set(before)
    out = {k: after.get(k, 0) - before.get(k, 0) for k in keys}
    return {k: v for k, v in sorted(out.items()) if v}


def summarize(probes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The suite's headline figures over every probe that ran: daemon runs, faults
    injected, invariant violations (must be 0), kill latency and recovery times (from
    each probe's ``runs``, ``faults_injected``, ``checks`` and raw ``samples``)."""
    ran = {name: f for name, f in probes.items() if "checks" in f}
    kills: list[float] = []
    recovery: dict[str, list[float]] = {}
    for name, figures in ran.items():
        samples = figures.get("samples", {})
        kills += samples.get("kill_latency_ms", [])
        for what, values in samples.get("recovery_s", {}).items():
            recovery.setdefault(f"{name}.{what}", []).extend(values)
    faults = {name: int(f.get("faults_injected", 0)) for name, f in ran.items()}
    return {
        "probes_run": sorted(ran),
        "probes_not_run": sorted(set(probes) - set(ran)),
        "runs": sum(int(f.get("runs", 0)) for f in ran.values()),
        "faults_injected": {**faults, "total": sum(faults.values())},
        "invariant_violations": sum(violations(f["checks"]) for f in ran.values()),
        "kill_latency_ms": percentiles(kills, 1),
        "recovery_s": {what: percentiles(v) for what, v in sorted(recovery.items())},
    }
