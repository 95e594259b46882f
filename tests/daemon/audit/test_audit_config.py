"""``[audit] on_mismatch``: halt by default (in config.toml too), overridable, validated,
and carried into the decision core."""

from __future__ import annotations

from pathlib import Path

import pytest

from rugsd.daemon.config import ConfigError, load_settings
from rugsd.daemon.runtime.build import make_core


def test_the_default_is_halt_in_the_shipped_config(repo_root: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUGSD_CONFIG", str(repo_root / "config.toml"))
    assert load_settings().audit.on_mismatch == "halt"
    assert 'on_mismatch = "halt"' in (repo_root / "config.toml").read_text()


def test_the_mode_is_overridable_validated_and_reaches_the_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUGSD_AUDIT__ON_MISMATCH", "kill")
    monkeypatch.setenv("RUGSD_STRATEGY__NAME", "never")
    settings = load_settings()
    assert make_core(settings, run_id="r", order_prefix="r").cfg.on_mismatch == "kill"
    monkeypatch.setenv("RUGSD_AUDIT__ON_MISMATCH", "ignore")
    with pytest.raises(ConfigError, match=r"audit\.on_mismatch"):
        load_settings()
