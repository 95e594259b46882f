"""``rugsd verify``: text and JSON output, hash check and exit status."""

from __future__ import annotations

import argparse
import hashlib
import json

import pytest

from rugsd.daemon import cli_verify

SEED = "e2896666bec952ac4dbc65d73e1d08dcd5da597137dcf6255f23cd67db9dcd7c"
GAME = "20251207-1e01ac417e8043ca"
HASH = hashlib.sha256(SEED.encode()).hexdigest()


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rugsd")
    sub = parser.add_subparsers(dest="command")
    cli_verify.add_parser(sub)
    return parser.parse_args(["verify", *argv])


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_verify.run(_args(SEED, GAME)) == 0
    out = capsys.readouterr().out
    assert "rug tick     92" in out
    assert "1.223526x" in out
    assert HASH in out
    assert "god candles  none" in out


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_verify.run(_args(SEED, GAME, "--json", "--hash", HASH)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["game_id"] == GAME
    assert data["version"] == "v3"
    assert data["server_seed_hash"] == HASH
    assert data["rug_tick"] == 92
    assert data["peak"] == 1.223525528686852
    assert len(data["prices"]) == 92
    assert data["prices"][0] == 1.0
    assert data["hash_matches"] is True


def test_hash_mismatch_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_verify.run(_args(SEED, GAME, "--hash", "0" * 64)) == 1
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out
    assert "does not match" in captured.err


def test_version_option_and_god_candle(capsys: pytest.CaptureFixture[str]) -> None:
    seed = "3b0be421325842c3ea7beff145e001b910bab19d2c6d14a48dfc3b3cb935f2ca"
    game = "20260206-37b5f0ba6e014e7c"
    assert cli_verify.run(_args(seed, game, "--version", "v3", "--json")) == 0
    assert json.loads(capsys.readouterr().out)["god_candles"] == [365]
    with pytest.raises(SystemExit):
        _args(seed, game, "--version", "v7")


def test_dispatch_default_and_main(capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(SEED, GAME)
    assert args.func is cli_verify.run
    assert cli_verify.main([SEED, GAME, "--hash", HASH.upper()]) == 0
    assert "matches" in capsys.readouterr().out
