"""``rugsd sim --tamper``: each cheat changes exactly what it claims to, and consistently
everywhere the game is shown; without it the games are the seed's."""

from __future__ import annotations

import argparse

import pytest

from rugsd.daemon.cli_sim import add_parser
from rugsd.daemon.game.engine import generate_game, seed_hash
from rugsd.daemon.sim.room import Room
from rugsd.daemon.sim.schedule import plan_game
from rugsd.daemon.sim.tamper import LATE_TICKS, PRICE_OFF, Tamper, tamper_plan

START = 1_767_225_600_000


def _plan(number: int = 0):
    return plan_game("7", number, START, "v3")


def test_no_tamper_is_the_honest_plan() -> None:
    plan = _plan()
    assert tamper_plan(plan, None) is plan
    honest = generate_game(plan.outcome.server_seed, plan.game_id, "v3")
    assert plan.outcome == honest


def test_price_mode_changes_one_tick_only() -> None:
    plan = _plan()
    bad = tamper_plan(plan, Tamper.PRICE)
    diff = [i for i, (a, b) in enumerate(zip(plan.outcome.prices, bad.outcome.prices,
                                             strict=True)) if a != b]
    k = len(plan.outcome.prices) // 2
    assert diff == [k]
    assert bad.outcome.prices[k] == plan.outcome.prices[k] * (1 + PRICE_OFF)
    assert bad.full_prices()[k] == bad.price_at(k) == bad.outcome.prices[k]  # shown everywhere
    assert bad.outcome.server_seed_hash == seed_hash(plan.outcome.server_seed)


def test_seed_mode_publishes_a_decoy_commitment() -> None:
    plan = _plan()
    bad = tamper_plan(plan, "seed")
    assert bad.outcome.prices == plan.outcome.prices
    assert bad.outcome.server_seed == plan.outcome.server_seed  # the real seed is revealed
    assert bad.outcome.server_seed_hash != seed_hash(plan.outcome.server_seed)


def test_late_rug_mode_runs_past_the_seed_rug() -> None:
    plan = _plan()
    bad = tamper_plan(plan, "late-rug")
    assert bad.rug_tick == plan.rug_tick + LATE_TICKS
    assert bad.outcome.prices[: plan.rug_tick] == plan.outcome.prices
    assert bad.rug_ms > plan.rug_ms


@pytest.mark.parametrize("mode", ["price", "seed", "late-rug"])
def test_a_tampering_room_cheats_on_every_game(mode: str) -> None:
    room = Room("7", start_ms=START, starting_balance=10**9, tamper=mode)
    while room.games_played < 2:
        room.step()
    for entry in room.history:
        honest = generate_game(entry["provablyFair"]["serverSeed"], entry["id"], "v3")
        shown = (entry["prices"][:-1], entry["provablyFair"]["serverSeedHash"])
        assert shown != (list(honest.prices), honest.server_seed_hash)


def test_the_cli_offers_the_three_modes() -> None:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    assert parser.parse_args(["sim", "--tamper", "late-rug"]).tamper == "late-rug"
    assert parser.parse_args(["sim"]).tamper is None
    with pytest.raises(SystemExit):
        parser.parse_args(["sim", "--tamper", "nonsense"])
