"""Run benchmarks and write their figures to ``bench/results/NAME.json``.

Usage: ``python bench/run.py [NAME ...]`` — with no names, every ``bench/<name>.py``
module that defines ``run() -> dict`` is run. Each result file also records the machine
(CPU count, Python) and the time it was measured, so figures can be compared honestly.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
SKIP = {"run", "__init__"}


def available() -> list[str]:
    """Names of the benchmark modules in ``bench/``."""
    return sorted(
        p.stem for p in BENCH_DIR.glob("*.py") if p.stem not in SKIP and not p.stem.startswith("_")
    )


def _cpu_model() -> str:
    """The CPU's model name (Linux), so figures from different hosts are not compared blind."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_one(name: str) -> dict:
    """Run ``bench/<name>.py``'s ``run()`` and write its JSON result file."""
    module = importlib.import_module(f"bench.{name}")
    started = time.time()
    figures = module.run()
    figures["_meta"] = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "wall_s": round(time.time() - started, 2),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{name}.json"
    out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return figures


def main(argv: list[str]) -> int:
    """Run the named benchmarks (or all) and print where the results went."""
    # `python bench/run.py` puts bench/ itself first on sys.path, where bench/click.py
    # would shadow the `click` package: import benchmarks as `bench.<name>` instead
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
    sys.path.insert(0, str(BENCH_DIR.parent))
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available())}")
        return 2
    for name in names:
        figures = run_one(name)
        shown = {k: v for k, v in figures.items() if k != "_meta"}
        print(f"{name}: {json.dumps(shown)} -> bench/results/{name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
