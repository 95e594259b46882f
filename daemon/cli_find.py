"""Which daemon an operator command means: ``--data-dir``, else the running daemons in the
registry, else the configured data dir (``general.data_dir``, absolute).

Shared by ``kill``/``arm`` (``cli_risk``), ``status``/``pause``/``resume``/``flatten``
(``cli_control``) and ``tui``. Nothing here depends on the working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rugsd.daemon.control import registry
from rugsd.daemon.control.wire import socket_path


class TargetError(Exception):
    """The command cannot tell which daemon is meant; the message is one line."""


@dataclass(frozen=True, slots=True)
class Target:
    """A data dir and the running daemon registered on it (``None``: none registered)."""

    data_dir: Path
    entry: registry.DaemonEntry | None = None

    @property
    def run_dir(self) -> Path:
        """``DATA_DIR/run``."""
        return self.data_dir / "run"

    @property
    def socket(self) -> Path:
        """The control socket (the registry's word for it when registered)."""
        return Path(self.entry.socket) if self.entry else socket_path(self.data_dir)

    def describe(self) -> str:
        """``pid 123 on /data`` or just the data dir."""
        return self.entry.describe() if self.entry else str(self.data_dir)


def absolute(path: Path | str) -> Path:
    """``path`` with ``~`` expanded, absolute against the working directory."""
    return Path(os.path.normpath(os.path.abspath(os.path.expanduser(path))))


def check_data_dir(data_dir: Path) -> None:
    """A data dir that exists must be a directory (else one clear line, not a traceback)."""
    for path in (data_dir, *data_dir.parents):
        if path.exists():
            if not path.is_dir():
                raise TargetError(f"data dir {data_dir}: {path} is not a directory")
            return


def configured_data_dir() -> Path:
    """``general.data_dir`` from the config (raises ``ConfigError``)."""
    from rugsd.daemon.config import load_settings  # pydantic only when needed

    return load_settings().general.data_dir


def all_targets(arg: Path | None) -> list[Target]:
    """``--data-dir`` (with its registered daemon), else every running daemon, else the
    configured data dir."""
    if arg is not None:
        data_dir = absolute(arg)
        check_data_dir(data_dir)
        return [Target(data_dir, registry.find(data_dir))]
    alive = registry.running()
    if alive:
        return [Target(Path(e.data_dir), e) for e in alive]
    data_dir = configured_data_dir()
    check_data_dir(data_dir)
    return [Target(data_dir)]


def one_target(arg: Path | None, command: str) -> Target:
    """Like ``all_targets`` but exactly one: several running daemons need ``--data-dir``."""
    found = all_targets(arg)
    if len(found) > 1:
        listed = "; ".join(t.describe() for t in found)
        raise TargetError(f"{len(found)} daemons are running ({listed}): say which with "
                          f"`rugsd {command} --data-dir DIR`")
    return found[0]
