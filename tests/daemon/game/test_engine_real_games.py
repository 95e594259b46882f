"""The engine reproduces the 11 complete real games captured from the live feed, bit-exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rugsd.daemon.game.engine import generate_game, verify_hash

SAMPLES = "websocket_raw_samples.jsonl"


def _real_games(real_data_dir: Path) -> dict[str, dict[str, Any]]:
    """All ``gameHistory`` entries with prices, by game id (the feed repeats them)."""
    games: dict[str, dict[str, Any]] = {}
    with (real_data_dir / SAMPLES).open(encoding="utf-8") as fh:
        for line in fh:
            event = json.loads(line)
            if event.get("event_type") != "gameStateUpdate":
                continue
            data = event["data"]
            payload = data[-1] if isinstance(data, list) else data  # trace object first
            for game in payload.get("gameHistory") or []:
                if game.get("prices") and game.get("provablyFair", {}).get("serverSeed"):
                    games[game["id"]] = game
    return games


@pytest.fixture(scope="module")
def real_games(real_data_dir: Path) -> dict[str, dict[str, Any]]:
    """The 11 complete games of the December 2025 capture."""
    return _real_games(real_data_dir)


def test_capture_has_eleven_games(real_games: dict[str, dict[str, Any]]) -> None:
    assert len(real_games) == 11


def test_every_real_game_reproduces(real_games: dict[str, dict[str, Any]]) -> None:
    for game_id, game in real_games.items():
        fair = game["provablyFair"]
        assert verify_hash(fair["serverSeed"], fair["serverSeedHash"]), game_id
        outcome = generate_game(fair["serverSeed"], game_id, game.get("gameVersion", "v3"))
        real = game["prices"]
        # Exact equality on purpose: the same IEEE doubles, not approximately equal ones.
        assert list(outcome.prices) == real[:-1], game_id
        assert outcome.rug_tick == len(real) - 1, game_id
        assert outcome.peak == game["peakMultiplier"], game_id
        assert outcome.server_seed_hash == fair["serverSeedHash"], game_id
        rug = real[-1]
        assert rug < 0.02, game_id
        assert rug < real[-2], game_id
