"""CI-sized disk-full probe (bench/_reliability/disk_probe.py): a small tmpfs under a
real daemon; skipped, with the reason, where it cannot be mounted (not root)."""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import assert_checks

from bench._reliability.disk_probe import TRIGGERS, disk_full

pytestmark = pytest.mark.slow


def test_a_full_disk_kills_trades_nothing_unjournaled_and_every_trigger_works(
    probe_root: Path,
) -> None:
    figures = disk_full(probe_root, hold_s=1.0)
    if "skipped" in figures:
        pytest.skip(figures["skipped"])

    assert_checks(figures)
    assert figures["journal"]["kill_reason"] == "journal_write_failed"
    assert all(figures["triggers"][t]["own_kill"] for t in TRIGGERS)
