"""ONNX strategy: mask respected, sidebet gating, non-finite hold, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kits.onnx_graphs import (
    biased_policy_model,
    constant_sidebet_model,
    policy_model,
    sidebet_model,
    write_bundle,
)

from rugsd.daemon.config import StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account, Sidebet, sol_to_lamports
from rugsd.daemon.state.view import GameView
from rugsd.strategy.actions import ACTION_NAMES, SIDEBET_INDEX, ActionTable, action_mask
from rugsd.strategy.bundle import load_bundle
from rugsd.strategy.features import FeatureBuilder, build_features
from rugsd.strategy.intents import Action
from rugsd.strategy.onnx_strategy import OnnxStrategy

CFG = StrategyConfig(name="onnx", sidebet_threshold=0.25)
RICH = Account(balance=10**10)
HOLDING = Account(balance=10**10, qty=10**8, cost=10**8, entry_tick=3)


def _view(phase: Phase = Phase.ACTIVE, tick: int = 20, price: float = 1.2) -> GameView:
    prices = [1.0 + 0.01 * i for i in range(max(tick, 0) + 1)]
    return GameView(
        game_id="g",
        phase=phase,
        tick=tick,
        price=price,
        prices=prices,
        peak=max(max(prices), price),
        cooldown_ms=0 if phase == Phase.ACTIVE else 5_000,
        allow_prebuys=phase == Phase.PRESALE,
        ts_ms=1_000,
    )


def _strategy(tmp_path: Path, cfg: StrategyConfig = CFG, **bundle: object) -> OnnxStrategy:
    return OnnxStrategy(load_bundle(write_bundle(tmp_path / "bundle", **bundle)), cfg)


def test_nan_policy_waits_and_counts_never_trades(tmp_path: Path) -> None:
    strat = _strategy(tmp_path, policy=policy_model(nan=True))
    for tick in range(5, 15):
        d = strat.decide(_view(tick=tick), HOLDING)
        assert d.intent.action is Action.WAIT
        assert d.outputs is not None and d.outputs.held_non_finite
        assert d.outputs.action_index is None
    assert strat.non_finite_count == 10 and strat.error_count == 0


def test_nan_sidebet_output_also_holds(tmp_path: Path) -> None:
    strat = _strategy(tmp_path, sidebet=sidebet_model(nan=True))
    d = strat.decide(_view(), RICH)
    assert d.intent.action is Action.WAIT and d.outputs.held_non_finite
    assert d.outputs.p_rug is None
    assert strat.non_finite_count == 1


def test_greedy_choice_follows_logits_and_reports_probabilities(tmp_path: Path) -> None:
    strat = _strategy(tmp_path, policy=biased_policy_model([2, 0, 1]))
    d = strat.decide(_view(), RICH)
    assert d.intent.action is Action.BUY
    assert d.intent.amount == ActionTable.from_config(CFG).buy_lamports[1]
    assert d.outputs.action_index == 2 and not d.outputs.held_non_finite
    assert sum(d.outputs.action_probs) == pytest.approx(1.0)
    assert max(d.outputs.action_probs) == d.outputs.action_probs[2]
    assert d.intent.source.endswith(":buy_medium")


def test_preferred_invalid_action_falls_back_to_best_valid(tmp_path: Path) -> None:
    strat = _strategy(tmp_path, policy=biased_policy_model([6, 5, 0]))  # sells first
    d = strat.decide(_view(), RICH)  # flat: sells are invalid
    assert d.intent.action is Action.WAIT and d.outputs.action_index == 0
    assert d.outputs.action_probs[6] == 0.0 and d.outputs.action_probs[5] == 0.0
    held = strat.decide(_view(), HOLDING)
    assert held.intent.action is Action.SELL and held.intent.percentage == 100


def test_graph_ignoring_its_mask_still_cannot_pick_an_invalid_action(tmp_path: Path) -> None:
    strat = _strategy(tmp_path, policy=biased_policy_model([6, 3, 0], fold_mask=False))
    poor = Account(balance=sol_to_lamports(0.006))  # flat (no sell), cannot afford large
    d = strat.decide(_view(), poor)
    assert d.intent.action is Action.WAIT and d.outputs.action_index == 0
    assert d.outputs.action_probs[6] == 0.0 and d.outputs.action_probs[3] == 0.0


def test_unusable_sidebet_model_never_bets_even_when_sure(tmp_path: Path) -> None:
    strat = _strategy(
        tmp_path,
        policy=biased_policy_model([SIDEBET_INDEX, 0]),
        sidebet=constant_sidebet_model(0.99),
        sidebet_usable=False,
    )
    d = strat.decide(_view(), RICH)
    assert d.intent.action is Action.WAIT
    assert d.outputs.p_rug == pytest.approx(0.99, abs=1e-4)  # still reported


@pytest.mark.parametrize(("p", "expected"), [(0.9, Action.SIDEBET), (0.1, Action.WAIT)])
def test_usable_sidebet_needs_p_rug_above_threshold(
    tmp_path: Path, p: float, expected: Action
) -> None:
    strat = _strategy(
        tmp_path,
        policy=biased_policy_model([SIDEBET_INDEX, 0]),
        sidebet=constant_sidebet_model(p),
        sidebet_usable=True,
    )
    d = strat.decide(_view(), RICH)
    assert d.intent.action is expected
    if expected is Action.SIDEBET:
        assert d.intent.amount == ActionTable.from_config(CFG).sidebet_lamports


def test_open_sidebet_blocks_a_second_one(tmp_path: Path) -> None:
    strat = _strategy(
        tmp_path,
        policy=biased_policy_model([SIDEBET_INDEX, 0]),
        sidebet=constant_sidebet_model(0.9),
    )
    acct = Account(balance=10**10, sidebet=Sidebet(10, 50, 10**6))
    assert strat.decide(_view(tick=20), acct).intent.action is Action.WAIT


@pytest.mark.parametrize("phase", [Phase.COOLDOWN, Phase.RUGGED, Phase.UNKNOWN])
def test_idle_phases_wait_without_running_models(tmp_path: Path, phase: Phase) -> None:
    strat = _strategy(tmp_path, policy=policy_model(nan=True))
    d = strat.decide(_view(phase=phase, tick=-1), RICH)
    assert d.intent.action is Action.WAIT and not d.outputs.held_non_finite
    assert strat.non_finite_count == 0


def test_same_inputs_same_decisions_and_external_features_match(tmp_path: Path) -> None:
    a = _strategy(tmp_path / "a", policy=policy_model(seed=5))
    b = _strategy(tmp_path / "b", policy=policy_model(seed=5))
    for tick in range(1, 60):
        view = _view(tick=tick, price=1.0 + 0.013 * tick)
        da = a.decide(view, HOLDING)
        db = b.decide(view, HOLDING, build_features(view, HOLDING))
        assert da == db


def test_features_built_into_the_shared_row_are_used_in_place(tmp_path: Path) -> None:
    strat = _strategy(tmp_path, policy=policy_model(seed=2))
    builder = FeatureBuilder(strat.obs_row)
    view = _view(tick=30)
    feats = builder.build(view, HOLDING)
    assert feats is strat.obs_row
    assert strat.decide(view, HOLDING, feats) == strat.decide(view, HOLDING, feats.copy())


_phases = st.sampled_from([Phase.PRESALE, Phase.ACTIVE, Phase.COOLDOWN])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 3),
    phase=_phases,
    tick=st.integers(-1, 200),
    price=st.floats(0.01, 500.0),
    balance=st.integers(0, 2 * 10**7),
    qty=st.integers(0, 10**9),
    side_end=st.none() | st.integers(0, 240),
    mask_dtype=st.sampled_from(["float", "bool"]),
)
def test_chosen_action_is_always_valid(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    phase: Phase,
    tick: int,
    price: float,
    balance: int,
    qty: int,
    side_end: int | None,
    mask_dtype: str,
) -> None:
    strat = _cached_strategy(tmp_path_factory, seed, mask_dtype)
    sidebet = None if side_end is None else Sidebet(side_end - 40, side_end, 10**6)
    acct = Account(balance=balance, qty=qty, cost=qty, sidebet=sidebet, entry_tick=0)
    view = _view(phase=phase, tick=tick, price=price)
    d = strat.decide(view, acct)
    mask = action_mask(view, acct, strat.table)
    index = d.outputs.action_index
    if index is None:  # idle phase or held tick
        assert d.intent.action is Action.WAIT
        return
    assert mask[index], (ACTION_NAMES[index], mask)
    if index == SIDEBET_INDEX:
        assert d.outputs.p_rug >= CFG.sidebet_threshold
    assert d.intent == strat.table.intent_for(index)


_CACHE: dict[tuple[int, str], OnnxStrategy] = {}


def _cached_strategy(factory: pytest.TempPathFactory, seed: int, mask_dtype: str) -> OnnxStrategy:
    key = (seed, mask_dtype)
    if key not in _CACHE:
        folder = write_bundle(
            factory.mktemp("b"),
            policy=policy_model(seed=seed, mask_dtype=mask_dtype),  # type: ignore[arg-type]
            sidebet=sidebet_model(seed=seed + 10),
            sidebet_usable=seed % 2 == 0,
        )
        _CACHE[key] = OnnxStrategy(load_bundle(folder), CFG)
    return _CACHE[key]


def test_features_vector_is_independent_of_buffer_reuse(tmp_path: Path) -> None:
    strat = _strategy(tmp_path)
    first = strat.decide(_view(tick=10), RICH)
    strat.decide(_view(tick=90, price=7.0), HOLDING)
    again = strat.decide(_view(tick=10), RICH)
    assert first == again
    assert np.isfinite(strat.obs_row).all()


def test_a_bundle_trained_without_room_stats_ignores_them_at_inference(tmp_path) -> None:
    # Arrange: one view with the feed's room statistics, one without
    from dataclasses import replace as _replace

    from kits.onnx_graphs import write_bundle

    from rugsd.daemon.config import StrategyConfig
    from rugsd.daemon.events import Phase, SessionStats
    from rugsd.daemon.game.accounting import open_account
    from rugsd.daemon.state.prices import PriceHistory
    from rugsd.daemon.state.view import GameView
    from rugsd.strategy.bundle import load_bundle
    from rugsd.strategy.features import ROOM_STATS_SLICE
    from rugsd.strategy.onnx_strategy import OnnxStrategy

    prices = [1.0, 1.05, 1.1, 1.02]
    base = GameView(game_id="g", phase=Phase.ACTIVE, tick=3, price=1.02,
                    prices=PriceHistory(prices), peak=1.1, cooldown_ms=0,
                    allow_prebuys=False, ts_ms=1000)
    with_stats = _replace(base, stats=SessionStats(12.0, 40, 9, 2, 1))
    account = open_account(10**10)
    masked = OnnxStrategy(load_bundle(write_bundle(tmp_path / "m", seed=3)),
                          StrategyConfig(name="onnx"))
    seeing = OnnxStrategy(load_bundle(write_bundle(tmp_path / "s", seed=3,
                                                   room_stats_in_training=True)),
                          StrategyConfig(name="onnx"))
    # Act
    a = masked.decide(base, account).outputs
    b = masked.decide(with_stats, account).outputs
    c = seeing.decide(with_stats, account).outputs
    # Assert: the masking bundle cannot tell the two views apart; the other one can
    assert a.action_probs == b.action_probs and a.p_rug == b.p_rug
    assert masked.obs_row[ROOM_STATS_SLICE].tolist() == [0.0] * 6
    assert c.p_rug != b.p_rug or c.action_probs != b.action_probs


def test_a_far_account_size_is_flagged_once(tmp_path) -> None:
    # Arrange: a bundle trained on 1 SOL, used with a 10 SOL account
    from kits.onnx_graphs import write_bundle

    from rugsd.daemon.config import StrategyConfig
    from rugsd.daemon.events import Phase
    from rugsd.daemon.game.accounting import open_account, sol_to_lamports
    from rugsd.daemon.state.prices import PriceHistory
    from rugsd.daemon.state.view import GameView
    from rugsd.strategy.bundle import load_bundle
    from rugsd.strategy.onnx_strategy import OnnxStrategy

    view = GameView(game_id="g", phase=Phase.ACTIVE, tick=1, price=1.01,
                    prices=PriceHistory([1.0, 1.01]), peak=1.01, cooldown_ms=0,
                    allow_prebuys=False, ts_ms=1000)
    near = OnnxStrategy(load_bundle(write_bundle(tmp_path / "a", train_balance_sol=1.0)),
                        StrategyConfig(name="onnx"))
    far = OnnxStrategy(load_bundle(write_bundle(tmp_path / "b", train_balance_sol=1.0)),
                       StrategyConfig(name="onnx"))
    # Act
    near.decide(view, open_account(sol_to_lamports(1.5)))
    far.decide(view, open_account(sol_to_lamports(10.0)))
    # Assert
    assert near.balance_warning is None
    assert far.balance_warning is not None and "10 SOL" in far.balance_warning
