"""The simulator's schedule: seeds, ids and rug prices from the session seed; step timing."""

from __future__ import annotations

import hashlib
import itertools
import re

from rugsd.daemon.game import engine
from rugsd.daemon.game.rules import COOLDOWN_MS, TICK_MS
from rugsd.daemon.sim.schedule import (
    COOLDOWN_STEPS,
    DETERMINISTIC_EPOCH_MS,
    PRESALE_FIRST_STEP,
    StepKind,
    cooldown_timer,
    first_step,
    next_step,
    plan_game,
    traceparent_for,
    uuid_for,
)


def test_plan_is_a_pure_function_of_seed_and_number() -> None:
    a = plan_game("s1", 3, DETERMINISTIC_EPOCH_MS, "v3")
    b = plan_game("s1", 3, DETERMINISTIC_EPOCH_MS, "v3")
    c = plan_game("s2", 3, DETERMINISTIC_EPOCH_MS, "v3")
    assert a == b
    assert a.outcome.server_seed != c.outcome.server_seed
    assert a.game_id != c.game_id


def test_plan_ids_seeds_and_hashes_have_the_real_formats() -> None:
    plan = plan_game("42", 0, DETERMINISTIC_EPOCH_MS, "v3")
    assert re.fullmatch(r"20260101-[0-9a-f]{16}", plan.game_id)
    seed = plan.outcome.server_seed
    assert re.fullmatch(r"[0-9a-f]{64}", seed)
    assert plan.outcome.server_seed_hash == hashlib.sha256(seed.encode()).hexdigest()


def test_plan_prices_are_the_engine_prices_and_the_rug_price_is_a_crash() -> None:
    for n in range(20):
        plan = plan_game("rugs", n, DETERMINISTIC_EPOCH_MS, "v3")
        o = plan.outcome
        assert engine.generate_game(o.server_seed, o.game_id, "v3") == o
        full = plan.full_prices()
        assert full[:-1] == list(o.prices) and len(full) == o.rug_tick + 1
        assert plan.price_at(o.rug_tick) == plan.rug_price == full[-1]
        assert 0 <= plan.rug_price < 0.02
        assert plan.rug_price <= 0.02 * o.prices[-1] + 1e-12


def test_cycle_timing_150_cooldown_steps_then_ticks_every_250ms() -> None:
    plan = plan_game("t", 0, 1_000, "v3")
    steps = [first_step(plan)]
    while (nxt := next_step(plan, steps[-1])) is not None:
        steps.append(nxt)
    cooldown = [s for s in steps if s.kind == StepKind.COOLDOWN]
    assert len(cooldown) == COOLDOWN_STEPS == 150
    assert [cooldown_timer(s.index) for s in cooldown] == list(range(15000, 0, -100))
    assert cooldown_timer(PRESALE_FIRST_STEP) == 10000
    assert [s.at_ms for s in cooldown] == [1_000 + 100 * k for k in range(150)]
    ticks = [s for s in steps if s.kind == StepKind.TICK]
    assert [s.index for s in ticks] == list(range(plan.rug_tick))
    assert ticks[0].at_ms == 1_000 + COOLDOWN_MS
    assert all(b.at_ms - a.at_ms == TICK_MS for a, b in itertools.pairwise(ticks))
    rug, post = steps[-2], steps[-1]
    assert rug.kind == StepKind.RUG and rug.index == plan.rug_tick
    assert rug.at_ms == plan.rug_ms == ticks[-1].at_ms + TICK_MS
    assert post.kind == StepKind.POSTRUG and post.at_ms < plan.next_start_ms


def test_ids_and_traceparents_are_deterministic_and_well_formed() -> None:
    assert uuid_for("a", "trade", 1) == uuid_for("a", "trade", 1)
    assert uuid_for("a", "trade", 1) != uuid_for("a", "trade", 2)
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        uuid_for("a", "trade", 1),
    )
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", traceparent_for("a", 0))
