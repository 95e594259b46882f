"""How probes state their figures: every "must be 0" (or "must be true") with its value and
verdict, and the shared reads of a daemon from the outside (``rugsd status --json``,
``/metrics``, the journal)."""

from __future__ import annotations

import json
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


def verdicts(figures: dict[str, Any]) -> dict[str, Any]:
    """The ``checks`` of a probe's figures: each verdict, and whether all passed."""
    checks = figures.get("checks", {})
    return {"passed": all(c["pass"] for c in checks.values()),
            "failed": sorted(k for k, c in checks.items() if not c["pass"])}


def percentiles(values: Iterable[float], digits: int = 3) -> dict[str, float | None]:
    """p50 / max (and n) of ``values``; None when there are none."""
    data = sorted(values)
    if not data:
        return {"n": 0, "p50": None, "max": None}
    return {"n": len(data), "p50": round(statistics.median(data), digits),
            "max": round(data[-1], digits)}


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
