"""``rugsd login`` and ``rugsd record-human`` as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

RUGSD = [sys.executable, "-c", "import sys; from rugsd.daemon.cli import main; sys.exit(main())"]


def test_login_refuses_clearly_without_a_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    res = subprocess.run([*RUGSD, "login", "--data-dir", str(tmp_path)], env=env, check=False,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "no display" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "browser-profile").exists()


async def test_record_human_runs_headless_and_reports_a_summary(sim, tmp_path):
    proc = await asyncio.create_subprocess_exec(
        *RUGSD, "record-human", "--url", f"{sim.url}/?player=rh", "--headless",
        "--duration", "2", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "ds"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)

    assert proc.returncode == 0, err.decode()[-500:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["events"] == 0 and summary["files"] == []
    profile = tmp_path / "data" / "browser-profile"
    assert profile.is_dir() and (profile.stat().st_mode & 0o777) == 0o700
