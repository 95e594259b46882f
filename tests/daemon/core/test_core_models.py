"""The ONNX strategy inside the core: non-finite model outputs are held (never traded
on); a corrupt bundle or one built for another feature schema is refused at build time
with a one-line message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from core_helpers import events_of, make_test_core, sim_games
from kits.onnx_graphs import policy_model, sidebet_model, write_bundle

from rugsd.daemon.config import Settings
from rugsd.daemon.core.decision import DecisionCore
from rugsd.daemon.dirs import packaged_models_dir
from rugsd.daemon.journal.records import DecisionRecord
from rugsd.strategy.actions import N_ACTIONS
from rugsd.strategy.bundle import MANIFEST_FILE, POLICY_FILE, SIDEBET_FILE
from rugsd.strategy.features import N_FEATURES
from rugsd.strategy.registry import StrategyError, build_strategy

BUY_SMALL = 1


def _buy_layers() -> list[tuple[np.ndarray, np.ndarray]]:
    """Policy weights that ignore obs and prefer buy_small, then wait."""
    w = np.zeros((N_FEATURES, N_ACTIONS), np.float32)
    b = np.zeros(N_ACTIONS, np.float32)
    b[BUY_SMALL] = 2.0
    b[0] = 1.0
    return [(w, b)]


def _settings(models_dir: Path | None = None) -> Settings:
    s = Settings()
    s.strategy.name = "onnx"
    if models_dir is not None:
        s.strategy.models_dir = models_dir
    return s


def _run(core: DecisionCore, seed: int = 3) -> list[DecisionRecord]:
    decisions = []
    for ev in events_of(sim_games(3, seed, max_ticks=60)):
        out = core.step(ev)
        decisions += [r for r in out.records if isinstance(r, DecisionRecord)]
    return decisions


def test_core_onnx_control_bundle_trades(tmp_path: Path) -> None:
    """The same graphs without NaN do trade: the hold below is not a vacuous pass."""
    folder = write_bundle(tmp_path / "ok", policy=policy_model(layers=_buy_layers()))
    core = make_test_core(build_strategy(_settings(), folder))

    decisions = _run(core)

    assert core.stats["orders"] > 0
    assert core.stats["held_non_finite"] == 0
    assert any(d.intent_action == "buy" and d.verdict == "order" for d in decisions)
    assert all(d.action_probs is not None and d.p_rug is not None for d in decisions)


@pytest.mark.parametrize(
    ("policy_nan", "sidebet_nan"),
    [(True, False), (False, True), (True, True)],
    ids=["nan-policy", "nan-sidebet", "nan-both"],
)
def test_core_nan_model_output_is_held_and_never_traded_on(
    tmp_path: Path, policy_nan: bool, sidebet_nan: bool
) -> None:
    folder = write_bundle(
        tmp_path / "nan",
        policy=policy_model(layers=_buy_layers(), nan=policy_nan),
        sidebet=sidebet_model(nan=sidebet_nan),
    )
    strategy = build_strategy(_settings(), folder)
    core = make_test_core(strategy)

    decisions = _run(core)

    assert decisions
    assert core.stats["orders"] == 0 and core.stats["fills"] == 0
    assert core.stats["held_non_finite"] == len(decisions)
    assert strategy.non_finite_count == len(decisions)
    assert all(d.intent_action == "wait" and d.verdict == "none" for d in decisions)
    assert all(d.action_probs is None for d in decisions)
    assert core.last_outputs is not None and core.last_outputs.held_non_finite
    assert core.account.balance == core.account.credited


def _bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "models" / "v1", policy=policy_model(layers=_buy_layers()))


def _promote(folder: Path) -> Path:
    models = folder.parent
    (models / "current").write_text(folder.name + "\n")
    return models


def test_build_strategy_loads_the_promoted_bundle(tmp_path: Path) -> None:
    models = _promote(_bundle(tmp_path))
    strategy = build_strategy(_settings(models))
    assert strategy.name == "onnx"


@pytest.mark.parametrize("damage", ["policy", "sidebet", "manifest", "schema", "actions"])
def test_build_strategy_refuses_a_broken_bundle_with_one_line(
    tmp_path: Path, damage: str
) -> None:
    folder = _bundle(tmp_path)
    models = _promote(folder)
    expect = {
        "policy": f"cannot load {POLICY_FILE}",
        "sidebet": f"cannot load {SIDEBET_FILE}",
        "manifest": f"corrupt {MANIFEST_FILE}",
        "schema": "feature schema hash",
        "actions": "action list",
    }[damage]
    if damage == "policy":
        (folder / POLICY_FILE).write_bytes(b"\x08\x07not an onnx graph" * 10)
    elif damage == "sidebet":
        (folder / SIDEBET_FILE).write_bytes((folder / SIDEBET_FILE).read_bytes()[:40])
    elif damage == "manifest":
        (folder / MANIFEST_FILE).write_text('{"version": "v1", "created": ')
    else:
        man = json.loads((folder / MANIFEST_FILE).read_text())
        if damage == "schema":
            man["feature_schema_hash"] = "0" * 16
        else:
            man["actions"] = list(reversed(man["actions"]))
        (folder / MANIFEST_FILE).write_text(json.dumps(man))

    with pytest.raises(StrategyError) as err:
        build_strategy(_settings(models))

    message = str(err.value)
    assert expect in message
    assert "\n" not in message
    assert str(folder.resolve()) in message or str(folder) in message


def test_build_strategy_without_a_promoted_bundle_uses_the_packaged_one(tmp_path: Path) -> None:
    # a fresh install: the model registry is empty, the bundle shipped with the package
    # (the repository's models/current in a clone) is used read-only
    strategy = build_strategy(_settings(tmp_path / "empty-models"))
    assert strategy.bundle.path == (packaged_models_dir() / "current").resolve()
    assert not (tmp_path / "empty-models").exists()


def test_build_strategy_with_no_bundle_anywhere_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rugsd.daemon.dirs.packaged_models_dir", lambda: tmp_path / "none")
    with pytest.raises(StrategyError, match="rugsd retrain"):
        build_strategy(_settings(tmp_path / "empty-models"))
