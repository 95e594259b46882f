"""Browser mode as an operator runs it: ``rugsd run --paper --executor browser`` on the
embedded simulator starts on the account the bundle was trained on and says so, and
Ctrl-C (SIGINT to the whole foreground process group, as a terminal sends it) stops it
cleanly: exit 0, no ``browser_close_failed``, no unretrieved-future error, no Chromium
left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rugsd.daemon.execution.launch import browser_pids

ROOT = Path(__file__).resolve().parents[2]


def wait_for_text(path: Path, text: str, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        assert proc.poll() is None, f"the daemon ended early: {content[-2000:]}"
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {text!r}")


def test_browser_mode_names_its_account_and_ctrl_c_stops_it_cleanly(
        tmp_path: Path, free_port: int) -> None:
    # Arrange: the default strategy (the committed bundle, size-invariant) and paper
    # account; the embedded simulator on a free port; private XDG dirs
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUGSD_")}
    env.update({
        "PYTHONUNBUFFERED": "1",
        "RUGSD_SIM__PORT": str(free_port),
        "RUGSD_FEED__URL": f"http://127.0.0.1:{free_port}",
        "RUGSD_SIM__SPEED": "10",
        "RUGSD_LOGGING__FORMAT": "json",
        "RUGSD_CONTROL__METRICS_PORT": "0",
        **{f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("STATE", "DATA", "CONFIG")},
    })
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    data = tmp_path / "data"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rugsd.daemon.cli", "run", "--paper", "--executor",
             "browser", "--data-dir", str(data)],
            stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
            start_new_session=True,  # its own process group: our "terminal"
        )
    try:
        banner = wait_for_text(out, "account ", proc, 90)
        wait_for_text(err, "first decision", proc, 60)
        assert browser_pids(data / "browser-profile")

        # Act: Ctrl-C
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    # Assert
    stderr = err.read_text()
    assert code == 0, stderr[-2000:]
    assert "browser_close_failed" not in stderr
    assert "Future exception was never retrieved" not in stderr
    assert "Traceback" not in stderr
    assert "rugsd stopped" in stderr
    assert not browser_pids(data / "browser-profile")
    assert ("account 1.0000 SOL: the embedded simulator's practice account, opened at "
            "paper.starting_balance_sol = 1 SOL; bundle v") in banner
    assert "is size-invariant" in banner and "WARNING" not in banner
    assert "bundle trained on another account size" not in stderr
