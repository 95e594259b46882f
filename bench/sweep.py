"""Sweeps on Ray: trials per hour on this machine and Ray's overhead against a plain
retrain of the same budget.

Measured in one run on the in-repo sample of real recordings, the default configuration:

- ``plain_retrain_s`` — one ``rugsd.training.pipeline.retrain`` with ``BUDGET_MIN``;
- ``sweep_s`` — ``rugsd.training.sweep.sweep`` with ``TRIALS`` trials of the same budget
  on a local Ray started by the sweep (all this machine's CPUs, one per trial): Ray's
  start-up, scheduling and shutdown included; ``trial_s`` the trials' own wall times;
- ``trials_per_hour`` — ``TRIALS / sweep_s`` per hour;
- ``ray_overhead_s`` — ``sweep_s`` minus the time the trials would take run back to back
  in waves of ``cpus`` (the slowest trial of each wave), i.e. what Ray itself costs;
  ``parallel_speedup`` — ``TRIALS`` plain retrains in a row (``TRIALS × plain_retrain_s``)
  over ``sweep_s`` (on 2 shared cores the trials also contend with each other).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from pathlib import Path

BUDGET_MIN = 0.5
TRIALS = 2


def run() -> dict:
    """Plain retrain vs a local-Ray sweep of the same per-trial budget."""
    from rugsd.daemon.config import Settings
    from rugsd.training.pipeline import RetrainConfig, retrain
    from rugsd.training.sweep import sweep

    sample = Path(__file__).resolve().parents[1] / "tests" / "data" / "real" / "recordings"
    settings = Settings()
    tmp = Path(tempfile.mkdtemp(prefix="rugsd-bench-sweep-"))
    try:
        t0 = time.perf_counter()
        retrain(RetrainConfig(tmp / "plain" / "data", tmp / "plain" / "models", [sample],
                              max_minutes=BUDGET_MIN, settings=settings))
        plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = sweep(RetrainConfig(tmp / "sweep" / "data", tmp / "sweep" / "models", [sample],
                                  max_minutes=BUDGET_MIN, settings=settings),
                    TRIALS, settings.training.sweep)
        swept = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cpus = os.cpu_count() or 1
    trial_s = sorted((t["seconds"] for t in out.trials if "seconds" in t), reverse=True)
    waves = [trial_s[i : i + cpus] for i in range(0, len(trial_s), cpus)]
    busy = sum(w[0] for w in waves)
    return {
        "budget_minutes": BUDGET_MIN,
        "trials": TRIALS,
        "cpus": cpus,
        "plain_retrain_s": round(plain, 1),
        "sweep_s": round(swept, 1),
        "trial_s": [round(s, 1) for s in trial_s],
        "trials_per_hour": round(TRIALS / swept * 3600, 1),
        "ray_overhead_s": round(swept - busy, 1),
        "parallel_speedup": round(TRIALS * plain / swept, 2),
        "waves": math.ceil(TRIALS / cpus),
        # the machine is shared: its 1-minute load average when the run ended
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
