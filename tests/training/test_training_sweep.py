"""``rugsd retrain --sweep``: two trials of the real retrain on a local Ray, each with its
own bundle and drawn hyperparameters; the best on validation alone may be promoted, by
the gate's verdict; every trial's figures in the report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rugsd.daemon.config import Settings, SweepConfig
from rugsd.strategy.bundle import load_bundle, resolve_current
from rugsd.training import registry
from rugsd.training.pipeline import NoRealGames, RetrainConfig
from rugsd.training.sweep import SweepError, rank_key, sweep, trial_env_processes

pytestmark = [pytest.mark.slow, pytest.mark.train]

if os.environ.get("CI"):  # CI installs the sweep extra: the test must run there
    import ray
else:
    ray = pytest.importorskip("ray", reason="the sweep extra is not installed here")


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning",
             log_to_driver=False)
    yield
    ray.shutdown()


def test_a_two_trial_sweep_promotes_at_most_its_best_trial(tmp_path, sample_recordings,
                                                           local_ray):
    space = SweepConfig(learning_rate=[1e-4, 3e-4], ent_coef=[0.003], clip_range=[0.1],
                        gamma=[0.995], seeds=[1, 2, 3], cpus_per_trial=1)
    # a third of the real sample (in time order: train, validation, held-out) and small
    # simulated sets: the pipeline is the same, the evaluation shorter
    real = tmp_path / "recordings"
    real.mkdir()
    for f in sorted(sample_recordings.glob("*.jsonl.gz"))[::3]:
        shutil.copy(f, real / f.name)
    cfg = RetrainConfig(tmp_path / "data", tmp_path / "models", [real], max_minutes=0.1,
                        settings=Settings(), n_envs=4, sim_sizes=(120, 10, 12, 20))

    out = sweep(cfg, 2, space)

    assert [t["trial"] for t in out.trials] == ["t0", "t1"]
    assert all("error" not in t for t in out.trials)
    folders = sorted(p for p in (tmp_path / "models").iterdir()
                     if p.is_dir() and not p.is_symlink())
    assert [f.name for f in folders] == [f"{out.version}-t0", f"{out.version}-t1"]
    for t in out.trials:
        assert t["hyperparameters"]["learning_rate"] in (1e-4, 3e-4)
        assert t["seed"] in (1, 2, 3) and t["n_envs"] == 4 and t["ppo_timesteps"] > 0
        assert t["env_processes"] == 1  # the trial's one CPU
        load_bundle(t["folder"])  # every trial's bundle is a loadable bundle
    # the best is the best on validation; only it may be promoted, and only by the gate
    assert out.best == max(out.trials, key=rank_key)
    assert out.promoted == out.best["gate_passed"]
    current = resolve_current(tmp_path / "models")
    assert (current is not None) == out.promoted
    if out.promoted:
        assert current.name == out.best["version"]
    for t in out.trials:
        man = registry.read_manifest(Path(t["folder"]))
        assert man["promotion"]["promoted"] == (out.promoted and t is out.best)
        assert man["promotion"]["gate_passed"] == t["gate_passed"]
    # every trial's figures in the best trial's report
    report = out.report.read_text()
    assert "## Sweep (2 trials" in report and "t0" in report and "t1" in report
    saved = json.loads((out.report.parent / "sweep.json").read_text())
    assert [t["trial"] for t in saved["trials"]] == ["t0", "t1"]
    state = json.loads((tmp_path / "data" / "training" / "state.json").read_text())
    assert state["last_version"] == out.best["version"]


def test_a_sweep_without_real_games_refuses_before_starting_ray(tmp_path):
    cfg = RetrainConfig(tmp_path / "data", tmp_path / "models", [], settings=Settings())

    with pytest.raises(NoRealGames):
        sweep(cfg, 2, SweepConfig())
    assert not ray.is_initialized()


def test_a_sweep_cannot_resume(tmp_path, sample_recordings):
    cfg = RetrainConfig(tmp_path / "data", tmp_path / "models", [sample_recordings],
                        resume=True, settings=Settings())

    with pytest.raises(SweepError, match="resume"):
        sweep(cfg, 2, SweepConfig())


def test_rank_prefers_qualified_trials_then_validation_pnl():
    trials = [{"qualified_on_validation": False, "validation_pnl_per_game": 9.0},
              {"qualified_on_validation": True, "validation_pnl_per_game": -1.0},
              {"qualified_on_validation": True, "validation_pnl_per_game": 0.5,
               "heldout_pnl_per_game": -5.0}]

    assert max(trials, key=rank_key) is trials[2]


def _rugsd(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
    return subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", *args], capture_output=True,
                          check=False, text=True, cwd=cwd, timeout=120, env=env)


def test_ray_address_without_sweep_is_refused_in_one_line(tmp_path, repo_root):
    proc = _rugsd("retrain", "--data-dir", str(tmp_path / "data"), "--ray-address",
                  "127.0.0.1:1", cwd=repo_root)

    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--ray-address needs --sweep" in proc.stderr


def test_sweep_without_a_real_game_refuses_in_one_line(tmp_path, repo_root):
    empty = tmp_path / "recs"
    empty.mkdir()

    proc = _rugsd("retrain", "--sweep", "2", "--data-dir", str(tmp_path / "data"),
                  "--models-dir", str(tmp_path / "models"), "--recordings", str(empty),
                  cwd=repo_root)

    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no real game" in proc.stderr
    assert not (tmp_path / "models").exists()


def test_a_trial_steps_its_games_on_its_own_cpus():
    space = SweepConfig(cpus_per_trial=2)
    assert trial_env_processes(None, Settings(), space) == 2  # not every CPU of the node
    assert trial_env_processes(None, Settings(), SweepConfig(cpus_per_trial=0.5)) == 1
    configured = Settings(training={"env_processes": 3})
    assert trial_env_processes(None, configured, space) == 3
    assert trial_env_processes(4, configured, space) == 4  # the command's own value
