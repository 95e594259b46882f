"""Interop: the official JavaScript ``socket.io-client`` (npm) talks to ``rugsd sim``.

The node probe (``client.mjs``) connects, records every ``gameStateUpdate``, buys in the
presale with an ack and exits by itself after that game rugs and the next one begins. Its
events must have the real samples' keys for each phase.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rugsd.daemon.config import SimConfig
from rugsd.daemon.sim.server import SimServer

HERE = Path(__file__).resolve().parent
NPM_TIMEOUT_S = 240
PROBE_LIMIT_S = 40


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """``tests/interop/node_modules``, installed from the lockfile with ``npm ci`` if absent."""
    assert shutil.which("node") and shutil.which("npm"), "node and npm are required"
    modules = HERE / "node_modules"
    if not (modules / "socket.io-client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            check=True,
            timeout=NPM_TIMEOUT_S,
            capture_output=True,
        )
    assert (modules / "socket.io-client").is_dir()
    return modules


def _kind(event: dict) -> str:
    if event["active"] is None:
        return "cooldown_minimal"
    if event["historyIds"] is not None:
        return "postrug_final" if event["rugged"] else "cooldown_full"
    if event["active"] is False:
        return "presale_transition"
    if event["rugged"]:
        return "rug"
    return "start" if "gameVersion" in event["keys"] else "active"


async def test_official_js_client_receives_events_with_the_real_keys(
    node_modules: Path, real_data_dir: Path
) -> None:
    samples = json.loads((real_data_dir / "key_samples.json").read_text())
    real = {
        "cooldown_minimal": samples["01_cooldown_early_minimal"]["data"],
        "cooldown_full": samples["02_cooldown_early_full"]["data"],
        "presale_transition": samples["03_presale_transition"]["data"],
        "start": samples["04_game_start_tick0"]["data"],
        "active": samples["05_active_midgame"]["data"],
        "rug": samples["10_rug_event"]["data"],
        "postrug_final": samples["11_postrug_final"]["data"],
    }
    sim = SimServer(SimConfig(), seed=7, speed=25)
    await sim.start("127.0.0.1", 0)
    try:
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(HERE / "client.mjs"),
            sim.url,
            str(PROBE_LIMIT_S),
            cwd=HERE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), PROBE_LIMIT_S + 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
    finally:
        await sim.stop()
    assert proc.returncode == 0, err.decode()[-2000:]
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert report["connected"] is True and report["errors"] == []
    assert report["buyAck"]["success"] is True and report["buyAck"]["price"] == 1
    events = report["events"]
    assert all(e["nargs"] == 1 for e in events)
    by_kind: dict[str, dict] = {}
    for e in events:
        by_kind.setdefault(_kind(e), e)
    # the connect snapshot may be mid-game with a ``prices`` backfill; judge regular events
    for kind, sample in real.items():
        assert kind in by_kind, f"no {kind} event received"
        keys = [k for k in by_kind[kind]["keys"] if k != "prices"]
        assert keys == list(sample), kind
    timers = [e["cooldownTimer"] for e in events if e["active"] is None]
    assert 0 not in timers and max(timers) < 15000
    trades = report["trades"]
    assert trades and all(t["nargs"] == 2 and t["first"]["__trace"] is True for t in trades)
    assert trades[0]["keys"] == list(samples["06_trade_buy"]["data"])
