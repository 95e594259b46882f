"""The journal's exceptions: one line each, safe to print to an operator.

``JournalWriteError`` is what the trading path sees when a record did not become
durable (disk full, I/O error, a value sqlite cannot store): whoever catches it must
treat the records it was writing as not journaled (an order is not sent).
"""

from __future__ import annotations

from pathlib import Path


class JournalError(Exception):
    """The journal (or the dataset exported from it) cannot be used as asked."""


class JournalWriteError(JournalError):
    """A journal write did not commit: the records it carried are not durable."""


class JournalOpenError(JournalError):
    """The journal cannot be opened safely (missing, empty, corrupt, too new).

    ``str()`` is one line: what is wrong, then the recovery hint.
    """

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(f"{problem} — {hint}")
        self.problem = problem
        self.hint = hint


class DatasetError(JournalError):
    """The Parquet dataset cannot be written or read as asked (busy, unreadable)."""


def unreadable(path: Path, err: BaseException) -> str:
    """One line: which Parquet file cannot be read, and the first line of why."""
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return f"unreadable Parquet file {path}: {reason}"
