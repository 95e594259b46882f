"""Where the configuration comes from (``--config``, ``RUGSD_CONFIG``, ``./config.toml``,
the XDG config dir, built-in defaults) and where paths point: absolute XDG defaults, and
relative paths in a file resolved against that file's folder, never the cwd."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rugsd.daemon.cli import main
from rugsd.daemon.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def _env(name: str) -> Path:
    import os

    return Path(os.environ[name])


def test_default_data_dir_is_absolute_under_xdg_state_home(empty_cwd: Path) -> None:
    settings = load_settings()
    assert settings.general.data_dir == _env("XDG_STATE_HOME") / "rugsd"
    assert settings.strategy.models_dir == _env("XDG_DATA_HOME") / "rugsd" / "models"


def test_without_xdg_variables_the_defaults_live_under_home(
    empty_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    settings = load_settings()
    assert settings.general.data_dir == tmp_path / "home" / ".local" / "state" / "rugsd"
    assert settings.strategy.models_dir == tmp_path / "home" / ".local/share/rugsd/models"


def test_relative_paths_in_a_config_file_resolve_against_its_folder(
    empty_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "rugsd.toml").write_text(
        '[general]\ndata_dir = "state"\n[strategy]\nmodels_dir = "../bundles"\n')
    monkeypatch.setenv("RUGSD_CONFIG", str(folder / "rugsd.toml"))
    settings = load_settings()
    assert settings.general.data_dir == folder / "state"
    assert settings.strategy.models_dir == tmp_path / "bundles"


def test_home_and_environment_paths_are_made_absolute(
    empty_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RUGSD_GENERAL__DATA_DIR", "~/trading")
    assert load_settings().general.data_dir == tmp_path / "home" / "trading"
    monkeypatch.setenv("RUGSD_GENERAL__DATA_DIR", "relative/dir")
    assert load_settings().general.data_dir == empty_cwd / "relative" / "dir"


def test_a_missing_rugsd_config_file_is_a_one_line_error(
    empty_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUGSD_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "nope.toml" in str(info.value) and "RUGSD_CONFIG" in str(info.value)
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rugsd: ") and "nope.toml" in err and "\n" not in err


def _speed_file(path: Path, speed: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[sim]\nspeed = {speed}\n")
    return path


def test_lookup_order_and_config_show_names_the_source(
    empty_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def shown() -> tuple[float, str]:
        assert main(["config", "show"]) == 0
        out = capsys.readouterr().out
        return load_settings().sim.speed, out.splitlines()[0]

    speed, source = shown()
    assert speed == Settings().sim.speed and "built-in defaults" in source

    xdg = _speed_file(_env("XDG_CONFIG_HOME") / "rugsd" / "config.toml", 2.0)
    assert shown() == (2.0, f"# source: {xdg} (XDG config dir) + RUGSD_* environment")

    local = _speed_file(empty_cwd / "config.toml", 3.0)
    assert shown() == (3.0, f"# source: {local} (./config.toml) + RUGSD_* environment")

    env_file = _speed_file(tmp_path / "env.toml", 4.0)
    monkeypatch.setenv("RUGSD_CONFIG", str(env_file))
    assert shown() == (4.0, f"# source: {env_file} (RUGSD_CONFIG) + RUGSD_* environment")

    flag = _speed_file(tmp_path / "flag.toml", 5.0)
    assert main(["--config", str(flag), "config", "show"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"# source: {flag} (--config) + RUGSD_* environment")
    assert main(["config", "show", "--config", str(flag), "--json"]) == 0
    assert '"speed": 5.0' in capsys.readouterr().out


def test_a_missing_config_option_file_is_a_one_line_error(
    empty_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", "missing.toml", "config", "show"]) == 2
    err = capsys.readouterr().err.strip()
    assert "missing.toml" in err and "--config" in err and "\n" not in err


def test_the_shipped_config_toml_is_the_built_in_defaults_and_pins_no_data_dir() -> None:
    shipped = tomllib.loads((ROOT / "config.toml").read_text())
    defaults = Settings().model_dump(mode="json")
    assert "data_dir" not in shipped.get("general", {})
    assert "models_dir" not in shipped.get("strategy", {})
    for section, values in shipped.items():
        for key, value in values.items():
            assert defaults[section][key] == value, f"{section}.{key}"


def test_tests_never_see_the_real_home_dirs() -> None:
    from rugsd.daemon import dirs

    home = Path.home()
    for path in (dirs.default_data_dir(), dirs.default_models_dir(), dirs.user_config_path(),
                 dirs.registry_dir()):
        assert not path.is_relative_to(home / ".local"), path
        assert not path.is_relative_to(home / ".config"), path
