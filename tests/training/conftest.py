"""Shared fixtures for the training tests: small simulated game sets (fast, seeded)."""

from __future__ import annotations

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
