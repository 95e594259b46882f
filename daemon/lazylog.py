"""A structlog logger imported on its first log line.

For the modules on the kill path (``rugsd kill``/``arm``: the latch, the control socket):
a kill that finds nothing wrong logs nothing, and structlog (with rich) is a tenth of a
second of a cold start that has a one-tick budget.
"""

from __future__ import annotations

from typing import Any


class LazyLogger:
    """Forwards every call to ``structlog.get_logger(name)``, imported on first use."""

    __slots__ = ("_log", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._log: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._log is None:
            import structlog

            self._log = structlog.get_logger(self._name)
        return getattr(self._log, attr)


def lazy_logger(name: str) -> LazyLogger:
    """The logger of module ``name``, imported when it first logs."""
    return LazyLogger(name)
