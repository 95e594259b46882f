"""The strategy registry: built-ins and third-party strategies alike, by name.

The worked example (docs/architecture.md, "to add a strategy"): ``plugins/early_exit.py``
is one file; a distribution's ``rugsd.strategies`` entry point (a real ``.dist-info`` on
``sys.path``) registers it; ``[strategy.early_exit]`` parametrises it; ``rugsd replay``'s
path runs it and the evaluation's baselines include it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rugsd.daemon.config import Settings
from rugsd.daemon.runtime.replay import replay
from rugsd.strategy import registry
from rugsd.strategy.registry import StrategyError, baselines, build_strategy, strategies
from rugsd.training.cli import eval_names

PLUGINS = Path(__file__).parent / "plugins"
SAMPLE = sorted((Path(__file__).parents[1] / "data" / "real" / "recordings").glob("*"))[:3]


@pytest.fixture
def early_exit_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution whose entry point names ``early_exit:SPEC``."""
    dist = tmp_path / "early_exit_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: early-exit-plugin\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text("[rugsd.strategies]\nearly_exit = early_exit:SPEC\n")
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_the_built_in_strategies_and_baselines_come_from_the_registry() -> None:
    assert list(strategies())[:4] == ["onnx", "never", "random", "presale_target"]
    assert [s.baseline for s in baselines()] == ["never", "random", "rule"]
    assert eval_names() == {"bundle": "onnx", "never": "never", "random": "random",
                            "rule": "presale_target"}
    assert build_strategy(Settings(strategy={"name": "never"})).name == "never"


def test_an_unknown_strategy_and_a_bad_section_are_one_line_errors() -> None:
    with pytest.raises(StrategyError, match="unknown strategy 'nope'; choose one of onnx, "):
        build_strategy(Settings(strategy={"name": "nope"}))
    with pytest.raises(StrategyError, match=r"takes no \[strategy.never\] section"):
        build_strategy(Settings(strategy={"name": "never", "never": {"x": 1}}))
    with pytest.raises(ValueError, match=r"strategy\.bogus\n.*valid dictionary"):
        Settings(strategy={"bogus": 1})


def test_a_strategy_registered_by_entry_point_is_built_from_its_section(
        early_exit_installed: None) -> None:
    assert "early_exit" in strategies()
    assert [s.baseline for s in baselines()][-1] == "early_exit"  # evaluations include it
    strat = build_strategy(Settings(strategy={"name": "early_exit",
                                              "early_exit": {"exit_tick": 9}}))
    assert strat.name == "early_exit" and strat.exit_tick == 9
    with pytest.raises(StrategyError, match=r"\[strategy.early_exit\] exit_tick"):
        build_strategy(Settings(strategy={"name": "early_exit",
                                          "early_exit": {"exit_tick": 0}}))


def test_a_third_party_strategy_runs_through_replay(early_exit_installed: None,
                                                    tmp_path: Path) -> None:
    assert SAMPLE, "the committed real sample is missing"
    settings = Settings(strategy={"name": "early_exit", "early_exit": {"exit_tick": 3}},
                        risk={"max_orders_per_minute": 1000})
    summary = replay(SAMPLE, settings, tmp_path / "data", journal=False)
    # the sample's complete games: bought in presale, sold at tick 3 (not held to the rug)
    complete = [g for g in summary.per_game if g["class"] == "complete"]
    assert complete and all(g["exit"] == "sold" for g in complete)
    assert summary.orders == 2 * len(complete) and summary.fills == summary.orders


def test_register_refuses_a_taken_name() -> None:
    with pytest.raises(StrategyError, match="registered twice"):
        registry.register(registry.strategies()["never"])
