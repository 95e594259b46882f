"""Which config file is in use, and the config's error type — without pydantic.

Split from ``rugsd.daemon.config`` so that commands on the kill path (``rugsd kill``,
``rugsd arm``) can honour ``--config`` and report a config error without importing
pydantic-settings: the kill switch has a one-tick budget and pydantic is most of a
cold start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rugsd.daemon.dirs import user_config_path


def _absolute(path: Path) -> Path:
    """``~`` expanded, made absolute against the working directory, ``..`` folded."""
    return Path(os.path.normpath(os.path.abspath(os.path.expanduser(path))))


class ConfigError(Exception):
    """A configuration value is invalid; the message is one line naming key and range."""


# --- which file -----------------------------------------------------------------------

_explicit: Path | None = None  # set by the CLI's --config for the duration of a command


def use_config_file(path: Path | str | None) -> None:
    """Make ``path`` the config file (the CLI's ``--config``); ``None`` restores the lookup."""
    global _explicit
    _explicit = None if path is None else _absolute(Path(path))


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """The config file in use (``None``: built-in defaults) and how it was found."""

    path: Path | None
    how: str  # --config | RUGSD_CONFIG | ./config.toml | XDG config dir | built-in defaults

    def describe(self) -> str:
        """``/etc/rugsd.toml (RUGSD_CONFIG)`` or ``built-in defaults``."""
        return self.how if self.path is None else f"{self.path} ({self.how})"


def config_source() -> ConfigSource:
    """The first of ``--config``, ``$RUGSD_CONFIG``, ``./config.toml``, the XDG config file."""
    if _explicit is not None:
        return ConfigSource(_explicit, "--config")
    env = os.environ.get("RUGSD_CONFIG")
    if env:
        return ConfigSource(_absolute(Path(env)), "RUGSD_CONFIG")
    try:
        local = Path.cwd() / "config.toml"
    except OSError:  # the working directory was deleted
        local = None
    if local is not None and local.is_file():
        return ConfigSource(local, "./config.toml")
    user = user_config_path()
    if user.is_file():
        return ConfigSource(user, "XDG config dir")
    return ConfigSource(None, "built-in defaults")
