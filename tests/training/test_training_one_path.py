"""One path: what ``rugsd evaluate`` and training see is what ``rugsd replay`` trades.

- ``rugsd evaluate`` and ``rugsd replay`` (and ``rugsd report`` on the replay's journal)
  agree game for game — P&L, decision-log SHA-256, refusals by reason, exits, game counts —
  on real recorded games (the in-repo sample) and on a simulated session recorded from
  the simulator's room, for an ONNX bundle and the rule strategy.
- The training env's observations of a real recorded game are bit-identical to the
  feature vectors the replay's core journals for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kits.onnx_graphs import policy_model, write_bundle
from sim_stream import write_room_recording

from rugsd.daemon.config import Settings
from rugsd.daemon.journal.records import DecisionRecord
from rugsd.daemon.runtime.replay import replay_paths
from rugsd.strategy.features import N_FEATURES
from rugsd.strategy.rules import NeverStrategy, PresaleTargetStrategy
from rugsd.training.dataset import games_from_recordings
from rugsd.training.env import RugsEnv
from rugsd.training.policy import intent_index

pytestmark = pytest.mark.slow


def _rugsd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
    clean.update(env or {})
    return subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", *args], capture_output=True,
                          text=True, timeout=300, env=clean, check=False)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A models dir whose ``current`` is a small random ONNX bundle (it trades a lot)."""
    models = tmp_path_factory.mktemp("models")
    write_bundle(models / "b1", policy=policy_model(seed=3))
    (models / "current").symlink_to("b1")
    return models


@pytest.fixture(scope="module")
def sim_recording(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("simrec")
    write_room_recording(folder / "session.jsonl", "one-path", 12)
    return folder


def _check_parity(recordings: Path, models: Path, tmp: Path) -> None:
    env = {"RUGSD_STRATEGY__MODELS_DIR": str(models)}
    ev = _rugsd("evaluate", str(models / "current"), str(recordings), "--json", env=env)
    assert ev.returncode == 0, ev.stderr[-3000:]
    evaluated = json.loads(ev.stdout)
    for row, name in (("bundle", "onnx"), ("rule", "presale_target")):
        data = tmp / name
        rp = _rugsd("replay", str(recordings), "--strategy", name, "--data-dir", str(data),
                    "--json", env=env)
        assert rp.returncode == 0, rp.stderr[-3000:]
        replayed = json.loads(rp.stdout)
        s, f, e = replayed["summary"], replayed["summary"]["figures"], evaluated["strategies"][row]
        # the same decisions, money, refusals, exits and games, game by game
        assert e["decision_log_sha256"] == s["decision_log_sha256"]
        assert evaluated["per_game"][row] == s["per_game"]
        assert e["pnl_total"] == pytest.approx(s["pnl_sol"], abs=1e-12)
        assert e["orders_refused"] == f["orders_refused"]
        assert e["exits"] == f["exits"] and e["game_counts"] == s["game_counts"]
        assert e["games"] == s["games"] and e["non_wait_intents"] == f["non_wait_intents"]
        # and ``rugsd report`` on the replay's journal counts them the same way
        rep = _rugsd("report", "--data-dir", str(data), "--json", env=env)
        assert rep.returncode == 0, rep.stderr[-2000:]
        report = json.loads(rep.stdout)
        assert report["pnl_sol"] == pytest.approx(e["pnl_total"], abs=1e-12)
        assert report["exits"] == e["exits"]
        assert report["refusals_by_reason"] == e["orders_refused"]
        assert {k: report["games"][k] for k in e["game_counts"]} == e["game_counts"]
        # orders (sent by the gate) and fills (every money movement) counted alike
        assert e["orders"] == s["orders"] == f["orders"] == sum(report["orders"].values())
        assert e["fills"] == f["fills"]
        # (the replay's fill count also has the sidebet resolutions: wins and losses)
        assert sum(e["fills"].values()) <= s["fills"]
        assert {k: report["trades"][k] for k in ("buys", "sells", "rug_sells")} == {
            k: e["fills"][k] for k in ("buys", "sells", "rug_sells")}
        assert report["sidebets"]["placed"] == e["fills"]["sidebets"]
    bundle_row = evaluated["strategies"]["bundle"]
    assert bundle_row["non_wait_intents"] > 0 and bundle_row["orders_refused"]  # exercised


def test_evaluate_equals_replay_and_report_on_real_recorded_games(sample_recordings, bundle,
                                                                  tmp_path):
    _check_parity(sample_recordings, bundle, tmp_path)


def test_evaluate_equals_replay_and_report_on_simulated_games(sim_recording, bundle, tmp_path):
    _check_parity(sim_recording, bundle, tmp_path)


def _replayed_features(paths, strategy) -> dict[str, list[bytes]]:
    """Per game: the feature vectors the replay's core decided on, in order."""
    got: dict[str, list[bytes]] = {}

    def keep(records: list) -> None:
        for rec in records:
            if isinstance(rec, DecisionRecord):
                got.setdefault(rec.game_id, []).append(bytes(rec.features))

    replay_paths(paths, Settings(), strategy=strategy, write=keep)
    return got


def _env_features(env: RugsEnv, index: int, expert) -> list[bytes]:
    """The env's observations of game ``index`` while ``expert`` picks the actions."""
    obs, _ = env.reset(options={"game_index": index})
    out, done = [obs.tobytes()], False
    while not done:
        intent = expert.decide(env.core.view, env.core.account, obs).intent
        obs, _, term, trunc, _ = env.step(intent_index(intent, env.table))
        done = term or trunc
        if not done:
            out.append(obs.tobytes())
    return out


def test_training_sees_the_replays_features_bit_for_bit_on_real_games(sample_recordings):
    settings = Settings()
    games = games_from_recordings([sample_recordings])
    env = RugsEnv(games, risk=settings.risk, randomize=False,
                  start_balance_sol=settings.paper.starting_balance_sol, shuffle=False)
    replayed = _replayed_features([sample_recordings], NeverStrategy())

    rows = 0
    for i, game in enumerate(games):
        trained = _env_features(env, i, NeverStrategy())
        assert trained == replayed[game.game_id], game.game_id
        rows += len(trained)
    assert rows > 20 * 41 and len(trained[0]) == 4 * N_FEATURES


def test_training_sees_the_replays_features_while_trading(sample_recordings):
    # one real game replayed alone (a fresh account in both paths), the rule trading it
    files = sorted(sample_recordings.glob("*.jsonl.gz"))
    games = next(g for f in files if (g := games_from_recordings([f])))
    path = next(f for f in files if games_from_recordings([f]))
    settings = Settings()
    env = RugsEnv(games, risk=settings.risk, randomize=False,
                  start_balance_sol=settings.paper.starting_balance_sol, shuffle=False)

    trained = _env_features(env, 0, PresaleTargetStrategy(settings.strategy))
    replayed = _replayed_features([path], PresaleTargetStrategy(settings.strategy))

    assert trained == replayed[games[0].game_id]
    assert env.core.stats["fills"] >= 2  # bought and sold (or rugged): the account moved
    first, last = (np.frombuffer(x, np.float32) for x in (trained[0], trained[-1]))
    assert not np.array_equal(first, last)
