"""Garbage never raises out of the replay reader; every bad line is counted."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rugsd.daemon.feed.replay import ReplaySource

# a real recording from the in-repo sample (tests/data/real, gzip)
REAL_FILE = (Path(__file__).resolve().parents[2] / "data" / "real" / "recordings"
             / "game_20251029_183909.jsonl.gz")
REAL_LINES = [ln for ln in gzip.decompress(REAL_FILE.read_bytes()).splitlines()
              if ln.strip()][:60]
OURS = [
    json.dumps({"recv_ts_ms": 1_761_000_000_000 + i, "event": "gameStateUpdate",
                "args": [{"__trace": True}, {"gameId": "20251029-b9466781d3e64c27",
                                             "cooldownTimer": 14_000 - 100 * i,
                                             "active": False, "rugged": False}]}).encode()
    for i in range(5)
]
SEEDS = REAL_LINES + OURS


@st.composite
def garbage_line(draw) -> bytes:
    """One line without a newline: random bytes/text, a cut real line, merged lines."""
    kind = draw(st.sampled_from(["bytes", "text", "cut", "merged", "real", "json"]))
    if kind == "bytes":
        raw = draw(st.binary(max_size=200))
    elif kind == "text":
        raw = draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    elif kind == "cut":
        line = draw(st.sampled_from(SEEDS))
        raw = line[: draw(st.integers(0, len(line) - 1))]
    elif kind == "merged":
        a, b = draw(st.sampled_from(SEEDS)), draw(st.sampled_from(SEEDS))
        raw = a[: draw(st.integers(1, len(a)))] + b
    elif kind == "json":
        raw = json.dumps(draw(st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(["type", "event", "args", "recv_ts_ms",
                                               "tick", "price", "game_id", "x"]), inner,
                              max_size=5),
            max_leaves=12,
        ))).encode()
    else:
        raw = draw(st.sampled_from(SEEDS))
    return raw.replace(b"\n", b" ")


def _plain_malformed(lines: list[bytes]) -> int:
    bad = 0
    for line in lines:
        try:
            json.loads(line)
        except (ValueError, RecursionError):
            bad += 1
    return bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(garbage_line(), min_size=1, max_size=40))
def test_garbage_lines_are_counted_never_raised(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "garbage.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        source = ReplaySource(path)

        events = list(source.iter_events())

    stats = source.stats
    assert stats.lines == len(lines)
    assert stats.malformed == _plain_malformed(lines)
    assert stats.events == len(events)
    assert stats.lines == stats.events + stats.malformed + stats.skipped + stats.meta


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_decoder_classifies_any_bytes(raw: bytes) -> None:
    source = ReplaySource(REAL_FILE)

    kind, event = source.decoder.decode(raw)

    assert (event is not None) == (kind.value == "event")
