"""Raw replay read throughput: all real recordings → internal events (read + JSON + convert).

Figures: lines/s and events/s of ``ReplaySource.iter_events`` over the 639 real games
(median of a few passes), plus the split between ``json.loads`` alone and the tick-line
conversion, and the same for a folder in our recorder's format.
"""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

import structlog

from rugsd.daemon.feed.replay import ReplaySource
from rugsd.daemon.protocol.recording import tick_line_to_update

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real" / "recordings"
PASSES = 3


def _timed_pass(path: Path) -> tuple[float, ReplaySource]:
    source = ReplaySource(path)
    t0 = time.perf_counter()
    for _ in source.iter_events():
        pass
    return time.perf_counter() - t0, source


def _ours_folder(tmp: Path) -> Path:
    """The real tick lines rewritten as our recorder's gameStateUpdate lines."""
    out = tmp / "ours"
    out.mkdir()
    with (out / "all.jsonl").open("w") as fh:
        for path in sorted(REAL.glob("*.jsonl")):
            for raw in path.open("rb"):
                try:
                    obj = json.loads(raw)
                except ValueError:
                    continue
                up = tick_line_to_update(obj)
                if up is None:
                    continue
                payload = {"gameId": up.game_id, "active": up.active, "rugged": up.rugged,
                           "cooldownTimer": up.cooldown_ms, "allowPreRoundBuys": up.allow_prebuys,
                           "price": up.price, "tickCount": up.tick, "tradeCount": up.trade_count}
                fh.write(json.dumps({"recv_ts_ms": up.ts_ms, "event": "gameStateUpdate",
                                     "args": [{"__trace": True}, payload]}) + "\n")
    return out


def run() -> dict:
    """Measure and return the figures."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    times = []
    source = None
    for _ in range(PASSES):
        dt, source = _timed_pass(REAL)
        times.append(dt)
    assert source is not None
    stats = source.stats
    med = statistics.median(times)

    lines = [raw for p in sorted(REAL.glob("*.jsonl")) for raw in p.read_bytes().splitlines()]
    t0 = time.perf_counter()
    objs = []
    for raw in lines:
        try:
            objs.append(json.loads(raw))
        except ValueError:
            pass
    t_json = time.perf_counter() - t0
    t0 = time.perf_counter()
    for obj in objs:
        tick_line_to_update(obj)
    t_tick = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        ours = _ours_folder(Path(tmp))
        ours_times = []
        for _ in range(PASSES):
            dt, ours_src = _timed_pass(ours)
            ours_times.append(dt)
        ours_med = statistics.median(ours_times)
        ours_lines = ours_src.stats.lines

    return {
        "real_files": stats.files,
        "real_lines": stats.lines,
        "real_events": stats.events,
        "real_malformed": stats.malformed,
        "real_skipped": stats.skipped,
        "real_meta": stats.meta,
        "real_seconds_median": round(med, 3),
        "real_lines_per_s": round(stats.lines / med),
        "real_events_per_s": round(stats.events / med),
        "json_loads_us_per_line": round(t_json / len(lines) * 1e6, 2),
        "tick_convert_us_per_line": round(t_tick / len(objs) * 1e6, 2),
        "ours_lines": ours_lines,
        "ours_lines_per_s": round(ours_lines / ours_med),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
