"""CI-sized control-plane flood (bench/_reliability/flood_probe.py): 64 idle clients and
a status storm; every kill trigger still lands, acknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import assert_checks

from bench._reliability.flood_probe import TRIGGERS, control_flood

pytestmark = pytest.mark.slow


def test_every_kill_trigger_lands_under_a_flood_of_idle_and_busy_clients(
    probe_root: Path,
) -> None:
    figures = control_flood(probe_root, idle=64, busy=4, rounds=1, quiet_rounds=0)

    assert_checks(figures)
    assert all(figures["kill_latency_ms_under_flood"][t]["n"] == 1 for t in TRIGGERS)
    assert figures["idle_connections_made"] >= 64
