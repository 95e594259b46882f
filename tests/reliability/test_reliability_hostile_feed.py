"""CI-sized hostile feed (bench/_reliability/hostile_probe.py): garbage of every kind
interleaved with a real game stream into a real daemon process."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import assert_checks

from bench._reliability.garbage import KINDS
from bench._reliability.hostile_probe import hostile_feed

pytestmark = pytest.mark.slow


def test_garbage_never_trades_loses_no_real_tick_and_is_counted_by_reason(
    probe_root: Path,
) -> None:
    figures = hostile_feed(probe_root, events=5000, rate=1000, huge=1)

    assert_checks(figures)
    assert figures["garbage_events_sent"] == 5000
    assert set(figures["garbage_by_kind"]) == set(KINDS) | {"too_large"}
    assert figures["orders"] > 0 and figures["real_ticks_sent"] > 100  # it traded meanwhile
    assert figures["rejected_by_reason"]["frame:too_large"] == {"sent": 1, "status": 1,
                                                                "metrics": 1}
