"""Shared fixtures: where the real captured data lives, free loopback ports."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No per-example deadline: CI machines are shared and a slow example is not a bug; the
# properties themselves are what the tests check.
settings.register_profile(
    "rugsd", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
# CI: the same examples on every run (a red CI must be reproducible); locally hypothesis
# keeps exploring new examples and remembers failures in .hypothesis/
settings.register_profile("rugsd-ci", parent=settings.get_profile("rugsd"), derandomize=True)
settings.load_profile("rugsd-ci" if os.environ.get("CI") == "true" else "rugsd")

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """``../shared/data/real`` next to the checkout (the outside truth; read only)."""
    assert REAL_DATA_DIR.is_dir(), f"real data missing at {REAL_DATA_DIR}"
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project root."""
    return REPO_ROOT


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    return _free_port()
