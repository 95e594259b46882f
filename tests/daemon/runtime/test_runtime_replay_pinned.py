"""The decision log of a replay is pinned byte for byte: speed work on the hot path
(feed parsing, state, features, the ONNX calls, the records, the decision-log lines)
must leave every decision exactly as it was.

Fixed inputs: the first recordings of the in-repo real sample, fixed run ids, the
default configuration, and bundles whose graphs come from fixed seeds (a 64×64 MLP,
the size trained bundles have). The pinned SHA-256s were computed before the hot path
was optimised (issue 14) and held through it; a change in any decision, feature bit,
probability or record field changes them. They were re-pinned once on purpose when the
rate limit stopped refusing sells (the two random-weight bundles sell often enough to hit
it; the rule strategy never did and kept its hash): a deliberate change of behaviour is
re-pinned with a reason, never to make a speed change pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kits.onnx_graphs import policy_model, random_layers, sidebet_model, write_bundle

from rugsd.daemon.config import Settings
from rugsd.daemon.feed.replay import ReplaySource
from rugsd.daemon.runtime.build import make_core
from rugsd.daemon.runtime.replay import play
from rugsd.strategy.actions import N_ACTIONS
from rugsd.strategy.bundle import load_bundle
from rugsd.strategy.features import N_FEATURES
from rugsd.strategy.onnx_strategy import OnnxStrategy
from rugsd.strategy.registry import build_strategy

N_FILES = 30
PINNED = {
    "onnx-seed-3": "98a7b828e7e38dd91c068a709a326977ee162cfff7f1f3397f20b656f233694b",
    "onnx-seed-11": "33ff91d36a70339b168e44869c9e2b16ea959499566225dc2d943ddbae886a4d",
    "presale_target": "0eac19a7c193acb2e8cce23c65f9c4b782ead3c7da9a13d4525b5ddef79d9604",
}


def _events(real_data_dir: Path) -> list:
    files = sorted((real_data_dir / "recordings").glob("*.jsonl"))[:N_FILES]
    return [e for f in files for e in ReplaySource(f).iter_events()]


def _strategy(name: str, settings: Settings, tmp_path: Path):
    if not name.startswith("onnx"):
        settings.strategy.name = name
        return build_strategy(settings)
    seed = int(name.rsplit("-", 1)[1])
    folder = write_bundle(
        tmp_path / name,
        policy=policy_model(layers=random_layers([N_FEATURES, 64, 64, N_ACTIONS], seed)),
        sidebet=sidebet_model(seed=seed + 1),
    )
    return OnnxStrategy(load_bundle(folder), settings.strategy)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_replay_decision_log_hash_is_pinned(name: str, real_data_dir: Path,
                                            tmp_path: Path) -> None:
    settings = Settings()
    strategy = _strategy(name, settings, tmp_path)
    core = make_core(settings, run_id=f"pin-{name}", order_prefix=f"pin-{name}",
                     strategy=strategy)

    played = play(core, _events(real_data_dir))

    assert core.stats["decisions"] > 1000
    assert played.orders > 0, "the pinned run must trade to pin the order paths too"
    assert played.decision_log_sha256 == PINNED[name], (name, dict(core.stats))
