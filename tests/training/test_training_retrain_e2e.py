"""End to end: ``rugsd retrain`` on a small data set → a loadable bundle and a report;
then ``rugsd evaluate`` and ``rugsd models`` on what it produced."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from rugsd.strategy.bundle import load_bundle, resolve_current

pytestmark = [pytest.mark.slow, pytest.mark.train]


def _rugsd(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rugsd.daemon.cli", *args], capture_output=True,
                          check=False,
                          text=True, cwd=cwd, timeout=170)


@pytest.fixture(scope="module")
def retrained(tmp_path_factory, real_data_dir, repo_root):
    tmp = tmp_path_factory.mktemp("retrain")
    recs = tmp / "recs"
    recs.mkdir()
    for f in sorted((real_data_dir / "recordings").glob("*.jsonl"))[:30]:
        shutil.copy(f, recs / f.name)
    proc = _rugsd("retrain", "--data-dir", str(tmp / "data"), "--models-dir",
                  str(tmp / "models"), "--recordings", str(recs), "--max-minutes", "1",
                  cwd=repo_root)
    return tmp, proc


def test_retrain_writes_a_valid_bundle_and_report(retrained):
    tmp, proc = retrained

    assert proc.returncode == 0, proc.stderr[-3000:]
    folders = [p for p in (tmp / "models").iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(folders) == 1
    bundle = load_bundle(folders[0])
    man = bundle.manifest
    assert man.metrics["leakage"]["ok"]
    assert man.metrics["training"]["export_parity"]["argmax_equal"]
    assert man.data_range["heldout"]["games"] > 0
    assert man.sidebet_usable == man.metrics["sidebet"]["usable"]
    report = (folders[0] / "report.md").read_text()
    assert "Evaluation (held-out)" in report and "never" in report
    assert all((folders[0] / png).is_file() for png in ("equity.png", "calibration.png",
                                                         "actions.png"))
    assert f"report: {folders[0] / 'report.md'}" in proc.stdout
    promoted = man.model_extra["promotion"]["promoted"]
    assert (resolve_current(tmp / "models") is not None) == promoted


def test_evaluate_prints_json_with_the_promised_fields(retrained, repo_root):
    tmp, _ = retrained
    bundle = next(p for p in (tmp / "models").iterdir() if p.is_dir() and not p.is_symlink())

    proc = _rugsd("evaluate", str(bundle), str(tmp / "recs"), "--json", cwd=repo_root)

    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    for name in ("bundle", "never", "random", "rule", "analytic"):
        row = out["strategies"][name]
        for key in ("roi", "roi_ci95", "pnl_per_game", "trades_per_game", "action_distribution"):
            assert key in row
    assert out["strategies"]["never"]["pnl_per_game"] == 0.0


def test_models_list_shows_the_bundle(retrained, repo_root):
    tmp, _ = retrained

    proc = _rugsd("models", "list", "--models-dir", str(tmp / "models"), cwd=repo_root)

    assert proc.returncode == 0 and "v" in proc.stdout and "sidebet_usable" in proc.stdout
