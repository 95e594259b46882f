"""structlog set-up: JSON lines in production, coloured console in a terminal."""

from __future__ import annotations

import logging
import sys

import structlog


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now (test runners and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(fmt: str = "auto", level: str = "info", stream=None, cache: bool = True) -> None:
    """Configure structlog once for the process.

    ``fmt='auto'`` picks the console renderer when ``stream`` is a terminal and JSON
    lines otherwise (files, journald, CI), so logs are machine-readable by default.
    ``cache=False`` for short commands that may run inside another process (tests): a
    cached logger would keep this configuration for good.
    """
    stream = stream or _CurrentStderr()
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            # a terminal reads local clock times; machines get ISO UTC
            structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False)
            if fmt == "console" else structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=cache,
    )
