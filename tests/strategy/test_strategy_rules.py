"""Rule strategies on a scripted game, and the registry that builds strategies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kits.onnx_graphs import write_bundle

from rugsd.daemon.config import Settings, StrategyConfig
from rugsd.daemon.events import Phase
from rugsd.daemon.game.accounting import Account, buy, open_account, sol_to_lamports
from rugsd.daemon.state.view import GameView
from rugsd.strategy.base import Strategy
from rugsd.strategy.intents import Action
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.strategy.registry import StrategyError, build_strategy
from rugsd.strategy.rules import SELL_RETRY_TICKS, NeverStrategy, PresaleTargetStrategy

CFG = StrategyConfig(name="presale_target", bet_sol=0.01, target_multiple=1.5, max_hold_ticks=40)


def _view(game: str, phase: Phase, tick: int, price: float) -> GameView:
    return GameView(
        game_id=game,
        phase=phase,
        tick=tick,
        price=price,
        prices=[1.0] * max(tick, 0),
        peak=max(price, 1.0),
        cooldown_ms=5_000 if phase == Phase.PRESALE else 0,
        allow_prebuys=phase == Phase.PRESALE,
        ts_ms=0,
    )


def test_presale_target_buys_once_then_sells_at_target() -> None:
    strat = PresaleTargetStrategy(CFG)
    acct = open_account(10**9)
    intents = [strat.decide(_view("g1", Phase.PRESALE, -1, 1.0), acct).intent for _ in range(5)]
    assert [i.action for i in intents] == [Action.BUY] + [Action.WAIT] * 4
    assert intents[0].amount == sol_to_lamports(0.01)
    acct = buy(acct, intents[0].amount, 1.0, -1)[0]  # the presale fill
    script = [(0, 1.0), (1, 1.2), (2, 1.49), (3, 1.5), (4, 1.6)]
    actions = [strat.decide(_view("g1", Phase.ACTIVE, t, p), acct).intent for t, p in script]
    assert [a.action for a in actions] == [Action.WAIT] * 3 + [Action.SELL, Action.WAIT]
    assert actions[3].percentage == 100 and actions[3].source == "presale_target:target"


def test_presale_target_sells_after_max_hold_ticks_and_retries() -> None:
    strat = PresaleTargetStrategy(CFG)
    acct = buy(open_account(10**9), sol_to_lamports(0.01), 1.0, 0)[0]
    decided = {
        t: strat.decide(_view("g", Phase.ACTIVE, t, 1.1), acct).intent.action for t in range(60)
    }
    sells = [t for t, a in decided.items() if a is Action.SELL]
    assert sells[0] == 40  # entry tick 0 + max_hold_ticks
    assert sells[1] - sells[0] == SELL_RETRY_TICKS  # still holding: ask again


def test_presale_target_buys_again_next_game_but_not_when_holding_or_poor() -> None:
    strat = PresaleTargetStrategy(CFG)
    flat = open_account(10**9)
    assert strat.decide(_view("g1", Phase.PRESALE, -1, 1.0), flat).intent.action is Action.BUY
    assert strat.decide(_view("g2", Phase.PRESALE, -1, 1.0), flat).intent.action is Action.BUY
    holding = Account(balance=10**9, qty=5, cost=5, entry_tick=0)
    assert strat.decide(_view("g3", Phase.PRESALE, -1, 1.0), holding).intent.action is Action.WAIT
    poor = open_account(10)
    assert strat.decide(_view("g4", Phase.PRESALE, -1, 1.0), poor).intent.action is Action.WAIT


def test_presale_target_never_buys_while_active() -> None:
    strat = PresaleTargetStrategy(CFG)
    for t in range(50):
        d = strat.decide(_view("g", Phase.ACTIVE, t, 1.0), open_account(10**9))
        assert d.intent.action is Action.WAIT and d.outputs is None


@pytest.mark.parametrize("phase", list(Phase))
def test_never_strategy_always_waits(phase: Phase) -> None:
    strat = NeverStrategy()
    acct = Account(balance=10**10, qty=10**9, cost=10**9, entry_tick=0)
    for t in (-1, 0, 10, 400):
        assert strat.decide(_view("g", phase, t, 3.0), acct).intent.action is Action.WAIT


def test_registry_builds_rule_strategies() -> None:
    never = build_strategy(Settings(strategy=StrategyConfig(name="never")))
    rule = build_strategy(Settings(strategy=StrategyConfig(name="presale_target")))
    assert isinstance(never, NeverStrategy) and isinstance(never, Strategy)
    assert isinstance(rule, PresaleTargetStrategy) and rule.name == "presale_target"


def test_registry_onnx_without_bundle_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # neither the registry nor the package has a bundle
    monkeypatch.setattr("rugsd.daemon.dirs.packaged_models_dir", lambda: tmp_path / "none")
    settings = Settings(strategy=StrategyConfig(name="onnx", models_dir=tmp_path))
    with pytest.raises(StrategyError) as info:
        build_strategy(settings)
    msg = str(info.value)
    assert "rugsd retrain" in msg and "presale_target" in msg and "\n" not in msg


def test_registry_onnx_loads_current_pointer(tmp_path: Path) -> None:
    write_bundle(tmp_path / "20260101-1", version="20260101-1")
    os.symlink(tmp_path / "20260101-1", tmp_path / "current")
    settings = Settings(strategy=StrategyConfig(name="onnx", models_dir=tmp_path))
    strat = build_strategy(settings)
    assert isinstance(strat, OnnxStrategy) and strat.bundle.manifest.version == "20260101-1"


def test_registry_reports_a_bad_bundle_as_strategy_error(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    (folder / "policy.onnx").write_bytes(b"junk")
    settings = Settings(strategy=StrategyConfig(name="onnx"))
    with pytest.raises(StrategyError, match="cannot load policy.onnx"):
        build_strategy(settings, bundle_dir=folder)


def test_presale_target_asks_for_nothing_the_gate_would_refuse() -> None:
    from rugsd.strategy.features import Commitments, build_features

    strat = PresaleTargetStrategy(CFG)
    acct = open_account(10**9)
    presale = _view("g2", Phase.PRESALE, -1, 1.0)
    busy = build_features(presale, acct, commitments=Commitments(orders_last_minute=30))
    poor = build_features(presale, open_account(10**8))  # 0.1 SOL: all of it is reserve
    free = build_features(presale, acct)

    assert strat.decide(presale, acct, busy).intent.action is Action.WAIT
    assert strat.decide(presale, open_account(10**8), poor).intent.action is Action.WAIT
    assert strat.decide(presale, acct, free).intent.action is Action.BUY  # asked once, now
    held = buy(acct, sol_to_lamports(0.01), 1.0, -1)[0]
    late = _view("g2", Phase.ACTIVE, 45, 1.1)
    in_flight = build_features(late, held, commitments=Commitments(pending_orders=1))
    assert strat.decide(late, held, in_flight).intent.action is Action.WAIT
    assert strat.decide(late, held, build_features(late, held)).intent.action is Action.SELL
