"""``rugsd browser check`` and the live preflight, as an operator runs them, on the replica.

The replica's logged-in page resolves every control of the default map; its logged-out
page (``?guest=1``) hides the sidebet banner, as the real logged-out page does, so the
check fails there — and ``rugsd run --live`` refuses with one line naming the controls.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from rugsd.daemon.execution.selectors import DEFAULT_SELECTORS

RUGSD = [sys.executable, "-c", "import sys; from rugsd.daemon.cli import main; sys.exit(main())"]


async def rugsd(*args: str, env: dict[str, str] | None = None,
                timeout: float = 90) -> tuple[int, str, str]:
    """Run the CLI in a subprocess (the simulator keeps serving from this loop)."""
    proc = await asyncio.create_subprocess_exec(
        *RUGSD, *args, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_browser_check_resolves_every_control_of_the_default_map(sim, tmp_path: Path):
    code, out, err = await rugsd("browser", "check", "--url", f"{sim.url}/?player=chk",
                                 "--data-dir", str(tmp_path), "--json")

    assert code == 0, err[-800:]
    report = json.loads(out)
    assert report["ok"] is True and report["failing"] == []
    assert [c["name"] for c in report["controls"]] == list(DEFAULT_SELECTORS)
    assert all(c["matches"] == c["visible"] == 1 for c in report["controls"])
    texts = {c["name"]: c["text"] for c in report["controls"]}
    assert texts["buy"].startswith("BUY") and texts["sell"] == "SELL"
    assert texts["sidebet"].startswith("BET") and texts["clear"] == "X"
    assert report["logged_in"] is True and report["player_id"] == "sim:chk"
    # nothing was clicked: the account is untouched
    assert sim.room.ledger("sim:chk")["balance"] == 10 * 10**9


async def test_live_mode_refuses_when_the_check_fails_naming_the_controls(sim, tmp_path: Path):
    # Arrange: the logged-out page (no sidebet banner) and a `max` selector that is ambiguous
    env = {
        "RUGSD_LIVE__ENABLED": "1",
        "RUGSD_LIVE__VENUE_URL": f"{sim.url}/?guest=1",
        "RUGSD_BROWSER__SELECTORS": json.dumps({"max": '[class*="_controlBtn_"]'}),
    }
    data = tmp_path / "data"

    # Act
    code, _out, err = await rugsd("run", "--live", "--yes-i-mean-it", "--data-dir", str(data),
                                 env=env)

    # Assert: exit 2, one line naming both failing controls and why; no daemon started
    assert code == 2, err[-800:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rugsd run --live: "), err[-800:]
    assert "refused: browser check failed" in lines[0]
    assert "sidebet (1 found, none visible)" in lines[0]
    assert "max (7 visible elements)" in lines[0]
    assert not (data / "journal.sqlite").exists() and not (data / "run").exists()
