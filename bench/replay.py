"""Event-by-event replay of the 639 real recordings through the whole decision core.

Keys: ``ticks_per_s`` — recorded tick lines (every ``gameStateUpdate`` the recorder kept,
cooldown included) stepped through ``DecisionCore`` per second, events already in memory;
``active_ticks_per_s`` — the same run counted in active-game ticks only;
``with_reading_ticks_per_s`` — including reading and parsing the JSONL files;
``with_journal_ticks_per_s`` — including the sqlite journal writes (ticks and decisions;
the Parquet dataset is exported from the journal, off this path);
``deterministic`` — two runs gave the same decision-log hash.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

from rugsd.daemon.config import Settings
from rugsd.daemon.feed.replay import ReplaySource
from rugsd.daemon.journal.records import DecisionRecord
from rugsd.daemon.runtime.build import make_core
from rugsd.daemon.runtime.replay import decision_line, replay

RECORDINGS = Path(__file__).resolve().parents[1].parent / "shared/data/real/recordings"


def _core_pass(events: list, settings: Settings) -> tuple[float, int, str]:
    core = make_core(settings, run_id="bench", order_prefix="bench")
    digest = hashlib.sha256()
    t0 = time.perf_counter()
    for event in events:
        for record in core.step(event).records:
            if type(record) is DecisionRecord:
                digest.update(decision_line(record).encode())
    return time.perf_counter() - t0, core.stats["ticks"], digest.hexdigest()


def run() -> dict:
    """Measure (see the module docstring)."""
    settings = Settings()
    t0 = time.perf_counter()
    events = list(ReplaySource(RECORDINGS).iter_events())
    read_s = time.perf_counter() - t0
    first_s, active, h1 = _core_pass(events, settings)
    second_s, _, h2 = _core_pass(events, settings)
    core_s = min(first_s, second_s)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        summary = replay([RECORDINGS], settings, Path(d))
        journal_s = time.perf_counter() - t0
    n = len(events)
    return {
        "ticks_per_s": round(n / core_s),
        "active_ticks_per_s": round(active / core_s),
        "with_reading_ticks_per_s": round(n / (core_s + read_s)),
        "with_journal_ticks_per_s": round(n / journal_s),
        "events": n,
        "active_ticks": active,
        "decisions": summary.decisions,
        "strategy": settings.strategy.name,
        "deterministic": h1 == h2,
    }
