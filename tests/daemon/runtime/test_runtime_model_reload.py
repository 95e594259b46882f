"""A newly promoted bundle is picked up by the running daemon between games, no restart."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from daemon_proc import wait_async
from kits.onnx_graphs import write_bundle

from rugsd.daemon.config import Settings
from rugsd.daemon.runtime.daemon import Daemon


def _promote(models: Path, version: str) -> None:
    """Swap ``models/current`` atomically, as the registry does."""
    tmp = models / f".current-{version}"
    tmp.symlink_to(version)
    os.replace(tmp, models / "current")


async def test_daemon_switches_to_the_promoted_bundle_between_games(tmp_path: Path) -> None:
    # Arrange: bundle A is current; the daemon trades with it on a fast simulator
    models = tmp_path / "models"
    write_bundle(models / "va", version="va")
    write_bundle(models / "vb", version="vb", seed=5)
    _promote(models, "va")
    settings = Settings.model_validate({
        "sim": {"port": 0, "speed": 40, "seed": 3},
        "strategy": {"name": "onnx", "models_dir": str(models)},
        "control": {"snapshot_interval_s": 0.1},
    })
    daemon = Daemon(settings, tmp_path / "data")
    task = asyncio.create_task(daemon.run())
    try:
        await wait_async(lambda: hasattr(daemon, "core") and daemon.core.view.tick > 0, 30,
                    "the daemon to see ticks")
        assert daemon.core.strategy.bundle.manifest.version == "va"
        games_before = daemon.core.stats["seeds_revealed"]

        # Act: promote B while the daemon runs
        _promote(models, "vb")

        # Assert: within a game or two the loaded bundle is B, and no restart happened
        await wait_async(lambda: daemon.core.strategy.bundle.manifest.version == "vb", 60,
                    "the daemon to load bundle vb")
        assert daemon.core.stats["seeds_revealed"] > games_before  # switched between games
        assert not task.done()
        assert daemon.snapshot()["daemon"]["bundle_version"] == "vb"
    finally:
        daemon.stop()
        await asyncio.wait_for(task, 30)


async def test_a_broken_promoted_bundle_keeps_the_loaded_one(tmp_path: Path) -> None:
    # Arrange
    models = tmp_path / "models"
    write_bundle(models / "va", version="va")
    broken = write_bundle(models / "vbad", version="vbad")
    (broken / "policy.onnx").write_bytes(b"not an onnx graph")
    _promote(models, "va")
    settings = Settings.model_validate({
        "sim": {"port": 0, "speed": 40, "seed": 3},
        "strategy": {"name": "onnx", "models_dir": str(models)},
    })
    daemon = Daemon(settings, tmp_path / "data")
    task = asyncio.create_task(daemon.run())
    try:
        await wait_async(lambda: hasattr(daemon, "core") and daemon.core.view.tick > 0, 30,
                    "the daemon to see ticks")
        seen = daemon.core.stats["seeds_revealed"]
        # Act
        _promote(models, "vbad")
        await wait_async(lambda: daemon.core.stats["seeds_revealed"] >= seen + 2, 60,
                    "two more games")
        # Assert: still trading with A, still running
        assert daemon.core.strategy.bundle.manifest.version == "va"
        assert not task.done()
    finally:
        daemon.stop()
        await asyncio.wait_for(task, 30)
