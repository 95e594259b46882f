"""Whether the TUI has a terminal to draw on.

Without one (``rugsd tui </dev/null | head``) Textual's terminal driver would read an
input that is always at end-of-file and spin a core; instead the TUI exits at once with
one line saying what to use. A driver chosen through ``TEXTUAL_DRIVER`` (textual-serve's
web driver for ``rugsd tui --web``, or a test's) needs no terminal.
"""

from __future__ import annotations

import os
import sys

NO_TERMINAL = ("needs a terminal (stdin and stdout must be a TTY); for scripts use "
               "`rugsd status --json`, for a browser `rugsd tui --web`")


def terminal_problem() -> str | None:
    """None when the TUI can run here, else the one-line reason it cannot."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return None
    for stream in (sys.stdin, sys.stdout):
        try:
            if stream is None or not stream.isatty():
                return NO_TERMINAL
        except (OSError, ValueError):  # closed or detached stream
            return NO_TERMINAL
    return None
