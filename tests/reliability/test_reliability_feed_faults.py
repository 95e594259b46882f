"""CI-sized feed faults (bench/_reliability/faults_probe.py): a silent, dropped and
restarted simulator under a real daemon, on websocket and on polling."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import assert_checks

from bench._reliability.faults_probe import feed_faults

pytestmark = pytest.mark.slow


def test_stale_halts_reconnects_on_both_transports_and_nothing_trades_while_stale(
    probe_root: Path,
) -> None:
    figures = feed_faults(probe_root, silences=1, silence_s=2.5, drops=1, restarts=1,
                          parallel=True)

    assert_checks(figures)
    for transport in ("websocket", "polling"):
        f = figures[transport]
        assert f["silent_halted_s"]["n"] == 1 and f["restart_reconnect_s"]["n"] == 1
        assert f["stale_windows"] >= 1  # the silence did halt it
