"""Reading the Parquet dataset when some of its files may be damaged.

One unreadable file (truncated by a full disk, overwritten, bit-rotted) must not take
the whole report or a retrain down with a traceback: it is skipped with a warning that
names it, and the rest is read. Footers are checked first (cheap: the end of each
file); a file whose footer is fine but whose pages are not fails inside DuckDB, and is
then found by reading the files one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from rugsd.daemon.journal.errors import unreadable


def readable(files: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """(files whose Parquet footer reads, one warning line per file that does not)."""
    good: list[Path] = []
    warnings: list[str] = []
    for path in files:
        try:
            pq.read_metadata(path)
        except (OSError, pa.ArrowException, ValueError) as err:
            warnings.append(skip_warning(path, err))
            continue
        good.append(path)
    return good, warnings


def skip_warning(path: Path, err: BaseException) -> str:
    """The one-line warning for a skipped file."""
    return f"skipped {unreadable(path, err)}"


def query_files(
    sql: str, files: Sequence[Path], params: Sequence[Any] = (),
    con: duckdb.DuckDBPyConnection | None = None,
    fetch: Callable[[duckdb.DuckDBPyConnection], Any] = lambda cur: cur.fetchall(),
) -> tuple[Any, list[Path], list[str]]:
    """Run ``sql`` — its first parameter is the file list for ``read_parquet(?)`` — over
    the readable ``files``; returns (``fetch(cursor)``, files used, warnings).

    A file that makes the query fail is dropped (with a warning) and the query rerun
    over the others; ``([], [], warnings)`` when no file is left.
    """
    good, warnings = readable(files)
    con = con or duckdb.connect()
    while good:
        try:
            return fetch(con.execute(sql, [[str(f) for f in good], *params])), good, warnings
        except duckdb.Error:
            errors = {f: _error_of(con, sql, f, params) for f in good}
            bad = [f for f, err in errors.items() if err is not None]
            if not bad:
                raise
            warnings += [skip_warning(f, errors[f]) for f in bad]  # type: ignore[arg-type]
            good = [f for f in good if errors[f] is None]
    return [], [], warnings


def _error_of(
    con: duckdb.DuckDBPyConnection, sql: str, path: Path, params: Sequence[Any]
) -> BaseException | None:
    """Why ``path`` cannot be read (None if it can): ``sql`` over it alone, then every
    page (alone, DuckDB may answer from the footer's statistics without a page)."""
    try:
        con.execute(sql, [[str(path)], *params]).fetchall()
        pq.read_table(path)
    except (duckdb.Error, OSError, pa.ArrowException) as err:
        return err
    return None
