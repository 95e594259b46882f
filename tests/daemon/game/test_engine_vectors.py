"""The engine against the published test vectors (shared/data/README.md) and its invariants."""

from __future__ import annotations

import dataclasses
import hashlib
import math

import pytest

from rugsd.daemon.game.engine import GameOutcome, generate_game, rug_price, seed_hash, verify_hash
from rugsd.daemon.game.rules import MAX_TICKS

SEED_1 = "fedde170f25570df546c5c16de6f571b8253221f9307e977c4f5354a5aa078a4"
GAME_1 = "20250701-55b97a42871f441f"
SEED_2 = "e2896666bec952ac4dbc65d73e1d08dcd5da597137dcf6255f23cd67db9dcd7c"
GAME_2 = "20251207-1e01ac417e8043ca"
SEED_3 = "3b0be421325842c3ea7beff145e001b910bab19d2c6d14a48dfc3b3cb935f2ca"
GAME_3 = "20260206-37b5f0ba6e014e7c"


@pytest.mark.parametrize(("version", "peak"), [("v1", 3.8475), ("v2", 3.8475), ("v3", 4.3808)])
def test_vector_1_peaks_per_version(version: str, peak: float) -> None:
    assert round(generate_game(SEED_1, GAME_1, version).peak, 4) == peak


def test_vector_2() -> None:
    game = generate_game(SEED_2, GAME_2, "v3")
    assert game.peak == 1.223525528686852
    # The README's len(prices) = 93 counts the rug price, which the engine leaves out.
    assert len(game.prices) + 1 == 93
    assert game.rug_tick == 92
    assert game.god_candles == ()


def test_vector_3_god_candle() -> None:
    game = generate_game(SEED_3, GAME_3, "v3")
    assert game.peak == 1122.2782485733776
    assert game.god_candles == (365,)
    assert game.prices[365] == game.prices[364] * 10
    # v2 has no god candle: the same seed gives a different, tamer game.
    assert generate_game(SEED_3, GAME_3, "v2").god_candles == ()


def test_sha256() -> None:
    expected = hashlib.sha256(SEED_2.encode()).hexdigest()
    assert seed_hash(SEED_2) == expected
    assert generate_game(SEED_2, GAME_2).server_seed_hash == expected
    assert verify_hash(SEED_2, expected)
    assert verify_hash(SEED_2, expected.upper())
    assert not verify_hash(SEED_2, "0" * 64)
    assert not verify_hash(SEED_1, expected)


def test_outcome_shape_and_determinism() -> None:
    game = generate_game(SEED_1, GAME_1)
    assert isinstance(game, GameOutcome)
    assert game.prices[0] == 1.0
    assert game.rug_tick == len(game.prices)
    assert game.peak == max(game.prices)
    assert game == generate_game(SEED_1, GAME_1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        game.peak = 2.0  # type: ignore[misc]


def test_unknown_version_rejected() -> None:
    with pytest.raises(ValueError):
        generate_game(SEED_1, GAME_1, "v4")


def test_lengths_bounded() -> None:
    for i in range(50):
        game = generate_game(f"seed-{i}", f"game-{i}")
        assert 1 <= game.rug_tick <= MAX_TICKS + 1
        assert all(math.isfinite(p) and p >= 0 for p in game.prices)


@pytest.mark.parametrize("prev", [0.0005, 0.01, 0.12, 0.5, 0.99, 1.0, 5.8, 1122.0])
def test_rug_price_bounds(prev: float) -> None:
    for u in (0.0, 0.25, 0.5, 0.999999):
        price = rug_price(prev, u)
        assert 0.0 < price < 0.02
        assert price < prev
        assert price <= 0.02 * prev + 1e-15  # never more than 2 % of the previous price
        assert price >= 0.002 * min(prev, 1.0) - 1e-15
    assert rug_price(prev, 0.1) < rug_price(prev, 0.9)  # monotone in u: deterministic


def test_rug_price_edge_cases() -> None:
    assert rug_price(0.0, 0.5) == 0.0
    with pytest.raises(ValueError):
        rug_price(1.0, 1.0)
