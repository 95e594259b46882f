"""End to end: ``rugsd retrain`` on the in-repo real sample → a loadable bundle and a
report judged on held-out real games; ``rugsd evaluate`` and ``rugsd models`` on it; no
silent fallback when there is no real game."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rugsd.daemon.config import TrainingConfig
from rugsd.strategy.bundle import load_bundle, resolve_current
from rugsd.training.train_env import env_processes

pytestmark = [pytest.mark.slow, pytest.mark.train]


def _rugsd(*args: str, cwd, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
    return subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", *args], capture_output=True,
                          check=False, text=True, cwd=cwd, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def retrained(tmp_path_factory, sample_recordings, repo_root):
    tmp = tmp_path_factory.mktemp("retrain")
    proc = _rugsd("retrain", "--data-dir", str(tmp / "data"), "--models-dir",
                  str(tmp / "models"), "--recordings", str(sample_recordings), "--max-minutes",
                  "1", cwd=repo_root)
    return tmp, proc


def test_retrain_writes_a_valid_bundle_and_report(retrained):
    tmp, proc = retrained

    assert proc.returncode == 0, proc.stderr[-3000:]
    folders = [p for p in (tmp / "models").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(folders) == 1
    bundle = load_bundle(folders[0])
    man = bundle.manifest
    # the combined graph (one onnxruntime call per decision), verified by the loader
    assert man.decide_file == "decide.onnx" and (folders[0] / "decide.onnx").is_file()
    assert bundle.decide is not None
    m = man.metrics
    assert m["leakage"]["ok"]
    assert m["training"]["export_parity"]["argmax_equal"]
    # PPO trained on the vectorised env ([training] n_envs of the default config)
    assert m["training"]["n_envs"] == TrainingConfig().n_envs
    # ... stepped by one process per CPU ([training] env_processes 0), at most one per 32
    assert m["training"]["env_processes"] == env_processes(TrainingConfig().n_envs, 0)
    assert m["training"]["ppo"]["timesteps"] > 0
    assert man.data_range["heldout"]["by_source"]["recording"] > 0
    assert man.sidebet_usable == m["sidebet"]["usable"]
    # the gate read held-out REAL games on the daemon's path; simulated ones apart
    cand = m["heldout_real"]["candidate"]
    assert cand["decision_log_sha256"] and "orders_refused" in cand and "exits" in cand
    assert m["heldout_sim"]["candidate"]["games"] > 0
    assert set(m["scale"]["balances"]) == {"0.1", "1", "10", "100"}
    report = (folders[0] / "report.md").read_text()
    assert "Held-out REAL games" in report and "Held-out SIMULATED games" in report
    assert "Account size" in report and "never" in report
    # every plot written and embedded; training and data as tables, not JSON dumps
    for png in ("equity.png", "calibration.png", "actions.png", "fairness_survival.png"):
        assert (folders[0] / png).is_file() and f"]({png})" in report, png
    training = report.split("## Training", 1)[1].split("\n## ", 1)[0]
    data = report.split("## Data", 1)[1].split("Plots:", 1)[0]
    assert "```" not in training and "```" not in data and "{" not in training + data
    assert "| split | games | ticks |" in data and "| heldout |" in data
    # the report's PPO timesteps are the manifest's (what the progress bar ends at)
    assert f"| ppo · timesteps | {m['training']['ppo']['timesteps']:,} |" in training
    assert f"report: {folders[0] / 'report.md'}" in proc.stdout
    promoted = man.model_extra["promotion"]["promoted"]
    assert (resolve_current(tmp / "models") is not None) == promoted


def test_evaluate_prints_json_with_the_promised_fields(retrained, repo_root, sample_recordings):
    tmp, _ = retrained
    bundle = next(p for p in (tmp / "models").iterdir() if p.is_dir() and not p.is_symlink())

    proc = _rugsd("evaluate", str(bundle), str(sample_recordings), "--json", "--scales",
                  cwd=repo_root)

    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    for name in ("bundle", "never", "random", "rule"):
        row = out["strategies"][name]
        for key in ("pnl_total", "orders_refused", "exits", "roi", "pnl_per_game_ci95",
                    "action_distribution", "decision_log_sha256", "game_counts"):
            assert key in row
    assert out["strategies"]["never"]["pnl_per_game"] == 0.0
    assert set(out["scales"]["balances"]) == {"0.1", "1", "10", "100"}


def test_models_list_shows_the_bundle(retrained, repo_root):
    tmp, _ = retrained

    proc = _rugsd("models", "list", "--models-dir", str(tmp / "models"), cwd=repo_root)

    assert proc.returncode == 0 and "v" in proc.stdout and "sidebet_usable" in proc.stdout


def test_retrain_without_a_real_game_refuses_in_one_line(tmp_path, repo_root):
    empty = tmp_path / "recs"
    empty.mkdir()

    proc = _rugsd("retrain", "--data-dir", str(tmp_path / "data"), "--models-dir",
                  str(tmp_path / "models"), "--recordings", str(empty), cwd=repo_root)

    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no real game" in proc.stderr
    assert "--allow-sim-only" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "models").exists()


def test_sim_only_retrain_says_so_in_the_reports_first_line(tmp_path, repo_root):
    proc = _rugsd("retrain", "--data-dir", str(tmp_path / "data"), "--models-dir",
                  str(tmp_path / "models"), "--allow-sim-only", "--max-minutes", "0.5",
                  cwd=repo_root)

    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = next(p for p in (tmp_path / "models").iterdir() if p.is_dir())
    first = (folder / "report.md").read_text().splitlines()[0]
    assert "SIMULATED GAMES ONLY" in first and "--allow-sim-only" in first
    assert resolve_current(tmp_path / "models") is None  # never promoted
