"""Progress bars for long commands: rich, on stderr, and only on a terminal.

Piped or redirected output (scripts, CI, ``--json | jq``) gets no bar at all, so stdout
and stderr stay clean for machines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Advance = Callable[..., None]


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


@contextmanager
def progress_bar(description: str, total: int | None = None, unit: str = "games",
                 stream: Any = None) -> Iterator[Advance]:
    """A bar with done/total, elapsed time and ETA; yields ``update(completed=…,
    total=…, description=…, advance=…)``. A no-op unless ``stream`` (stderr) is a TTY."""
    stream = stream if stream is not None else sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        yield _noop
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TimeElapsedColumn(), TextColumn("ETA"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(file=stream), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def update(**kwargs: Any) -> None:
            bar.update(task, **kwargs)

        yield update
