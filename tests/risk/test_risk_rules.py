"""Risk rules, one module each, enabled and parametrised from ``[risk]``, found by name.

The worked example (docs/architecture.md, "to add a risk rule"): ``plugins/
max_buys_per_game.py`` is one file; listing it in ``[risk] protections`` with its
``[risk.max_buys_per_game]`` section makes the gate run it — through the same core as
``rugsd replay``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rugsd.daemon.config import DEFAULT_PROTECTIONS, Settings
from rugsd.daemon.runtime.build import make_core
from rugsd.daemon.runtime.replay import replay
from rugsd.risk.rules import REQUIRED, RuleError, load_rule, rules_for
from rugsd.risk.values import RiskLimits

PLUGINS = Path(__file__).parent / "plugins"
SAMPLE = sorted((Path(__file__).parents[1] / "data" / "real" / "recordings").glob("*"))[:3]


def test_every_rule_is_a_module_of_its_own_and_the_defaults_run_in_order() -> None:
    rules = rules_for(DEFAULT_PROTECTIONS)
    names = [rule.__module__.rsplit(".", 1)[-1] for rule in rules]
    assert names == [*REQUIRED, *DEFAULT_PROTECTIONS]
    assert len({rule.__module__ for rule in rules}) == len(rules)


def test_the_required_rules_cannot_be_configured_away() -> None:
    limits = RiskLimits.from_config(Settings(risk={"protections": []}).risk)
    names = [r.__module__.rsplit(".", 1)[-1] for r in rules_for(limits.protections)]
    assert names == list(REQUIRED)  # trading_state (the kill switch) among them


def test_an_unknown_rule_is_refused_before_any_order() -> None:
    with pytest.raises(RuleError, match="unknown risk rule 'no_such_rule'"):
        load_rule("no_such_rule")
    with pytest.raises(RuleError, match="unknown risk rule"):
        make_core(Settings(strategy={"name": "never"},
                           risk={"protections": ["no_such_rule"]}), run_id="r", order_prefix="r")


def _replay(tmp_path: Path, **risk: object):
    settings = Settings(strategy={"name": "presale_target", "max_hold_ticks": 2},
                        risk={"max_orders_per_minute": 1000, **risk})
    return replay(SAMPLE, settings, tmp_path / "data", journal=False)


def test_a_rule_of_your_own_is_one_file_and_config(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(PLUGINS))
    assert SAMPLE, "the committed real sample is missing"
    base = _replay(tmp_path / "a")
    # buys of 0.01 SOL: with the rule at 0 buys per game, every buy is refused by it
    ruled = _replay(tmp_path / "b", protections=[*DEFAULT_PROTECTIONS, "max_buys_per_game"],
                    max_buys_per_game={"buys": 0})
    assert base.orders > 0 and ruled.orders == 0
    refused = ruled.figures["orders_refused"]
    assert refused.get("max_position", 0) > 0
    # with 1 buy per game allowed, the rule changes nothing for a once-per-game strategy
    same = _replay(tmp_path / "c", protections=[*DEFAULT_PROTECTIONS, "max_buys_per_game"],
                   max_buys_per_game={"buys": 1})
    assert same.decision_log_sha256 == base.decision_log_sha256
