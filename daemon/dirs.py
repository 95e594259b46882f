"""Where rugsd keeps things by default: the XDG base directories, and the package data.

Nothing here depends on the working directory: a command started from anywhere finds
the same data dir, config file and daemon registry.

- state  ``$XDG_STATE_HOME/rugsd`` (``~/.local/state/rugsd``): the default data dir
  (journal, dataset, run dir) and ``daemons/``, the registry of running daemons.
- data   ``$XDG_DATA_HOME/rugsd/models`` (``~/.local/share/rugsd/models``): the default
  model registry that ``rugsd retrain`` promotes into.
- config ``$XDG_CONFIG_HOME/rugsd/config.toml`` (``~/.config/rugsd/config.toml``).

A relative ``XDG_*`` value is ignored, as the XDG spec says. The default config and the
default model bundle ship inside the package (``importlib.resources``); in an editable
clone the package root is the repository, so the packaged bundle is ``models/current``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

APP = "rugsd"
CONFIG_NAME = "config.toml"
REGISTRY_NAME = "daemons"


def _base(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def state_home() -> Path:
    """``$XDG_STATE_HOME`` or ``~/.local/state``."""
    return _base("XDG_STATE_HOME", ".local/state")


def data_home() -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``."""
    return _base("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    """``$XDG_CONFIG_HOME`` or ``~/.config``."""
    return _base("XDG_CONFIG_HOME", ".config")


def default_data_dir() -> Path:
    """The data dir when neither the config nor ``--data-dir`` names one."""
    return state_home() / APP


def default_models_dir() -> Path:
    """The model registry when ``strategy.models_dir`` is not set."""
    return data_home() / APP / "models"


def user_config_path() -> Path:
    """The per-user config file (looked up after ``./config.toml``)."""
    return config_home() / APP / CONFIG_NAME


def registry_dir() -> Path:
    """One small file per running daemon (see ``rugsd.daemon.control.registry``).

    Under the state dir rather than ``$XDG_RUNTIME_DIR``: the runtime dir exists in a
    systemd login session but not under ``su``, cron or a container shell, and a kill
    typed in any of those must find a daemon started in another.
    """
    return state_home() / APP / REGISTRY_NAME


def package_root() -> Path:
    """The installed ``rugsd`` package folder (the repository root in an editable clone)."""
    return Path(str(resources.files(APP)))


def packaged_models_dir() -> Path:
    """The read-only model registry shipped with the package (holds ``current``)."""
    return package_root() / "models"


def packaged_config_path() -> Path:
    """The documented default config shipped with the package."""
    return package_root() / CONFIG_NAME
