"""Config: config.toml + RUGSD_<SECTION>__<KEY> overrides, one-line errors, masked secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rugsd.daemon.cli import main
from rugsd.daemon.config import ConfigError, load_settings


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[risk]\nmax_bet_sol = 0.02\n\n[sim]\nspeed = 3.0\n')
    monkeypatch.setenv("RUGSD_CONFIG", str(path))
    return path


def test_toml_values_are_loaded(config_file: Path) -> None:
    settings = load_settings()
    assert settings.risk.max_bet_sol == 0.02
    assert settings.sim.speed == 3.0
    assert settings.risk.max_position_sol == 0.1  # default where the file is silent


def test_environment_overrides_the_file(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUGSD_RISK__MAX_BET_SOL", "0.03")
    monkeypatch.setenv("RUGSD_FEED__TRANSPORTS", '["polling"]')
    settings = load_settings()
    assert settings.risk.max_bet_sol == 0.03
    assert settings.feed.transports == ["polling"]


def test_invalid_value_names_the_key_and_the_allowed_range(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUGSD_RISK__MAX_BET_SOL", "-1")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "risk.max_bet_sol" in message
    assert "> 0" in message and "<= 1000" in message
    assert "\n" not in message


def test_unknown_key_in_the_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[risk]\nmax_bett_sol = 1\n")
    monkeypatch.setenv("RUGSD_CONFIG", str(path))
    with pytest.raises(ConfigError, match="risk.max_bett_sol"):
        load_settings()


def test_malformed_toml_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[risk\nmax_bet_sol = ")
    monkeypatch.setenv("RUGSD_CONFIG", str(path))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_config_show_masks_secrets(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUGSD_LIVE__SESSION_TOKEN", "very-secret-token")
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["risk"]["max_bet_sol"] == 0.02
    assert "very-secret-token" not in out
    assert data["live"]["session_token"] == "**********"


def test_cli_reports_a_bad_config_in_one_line_and_exit_2(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUGSD_SIM__SPEED", "0")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rugsd: invalid config sim.speed") and "\n" not in err


def test_unknown_command_is_refused_by_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rugsd.daemon.cli", "no-such-command"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr
