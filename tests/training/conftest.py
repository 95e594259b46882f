"""Shared fixtures for the training tests: small simulated game sets (fast, seeded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rugsd.training.dataset import simulated_games


@pytest.fixture(scope="session")
def sim_train():
    """60 simulated training games."""
    return simulated_games(60, seed=11, prefix="t-train")


@pytest.fixture(scope="session")
def sim_heldout():
    """40 simulated held-out games (another seed: disjoint from training)."""
    return simulated_games(40, seed=12, prefix="t-held")


@pytest.fixture(scope="session")
def sample_recordings() -> Path:
    """The in-repo sample of real recordings (gzip; the 40 time-later games)."""
    folder = Path(__file__).resolve().parents[1] / "data" / "real" / "recordings"
    assert any(folder.glob("*.jsonl.gz")), f"no sample recordings in {folder}"
    return folder
