"""The reliability probes live in ``bench/_reliability`` (the benchmark runs them large,
these tests small): make the repository root importable as it is for ``bench/run.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture
def probe_root(tmp_path: Path) -> Path:
    """A probe's private root (its sandbox: XDG dirs, data dirs, logs)."""
    return tmp_path / "probe"
