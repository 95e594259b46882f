"""Replay source: recordings on disk → internal events, in file order.

``ReplaySource(path)`` reads one file or every ``*.jsonl`` / ``*.jsonl.gz`` file under a
folder (recursively; gzip files are decompressed on the fly, so a compressed sample of
the recordings replays exactly like the plain files). Files are ordered by the receive time of their first record, then by
path: our recorder names files ``<gameId>.jsonl`` and game ids are random, so name order
would shuffle games; the real recordings' names are chronological anyway. Every line is
decoded by ``rugsd.daemon.feed.lines`` (formats auto-detected per line).

Two ways to consume it:

- ``iter_events()`` — synchronous generator, the fast path for the decision core,
  backtests and the gym env;
- ``await play(callback, realtime=False, speed=1.0, stop_event=None)`` — drives an
  (a)sync callback, honouring the recorded timestamps when ``realtime`` is set (gaps
  longer than ``max_gap_ms`` — e.g. between recording sessions — are shortened).

Counts land in ``ReplayStats`` (totals and per file); ``python -m rugsd.daemon.feed.replay PATH``
prints them with the read speed. Bad data never raises; only a
missing path, a folder without recordings, or files that cannot be opened at all raise
``ReplayError``.
"""

from __future__ import annotations

import asyncio
import gzip
import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import structlog

from rugsd.daemon.events import Event
from rugsd.daemon.feed.lines import LineDecoder, LineKind, first_timestamp_ms

log = structlog.get_logger(__name__)

PATTERN = "*.jsonl"
PATTERNS = (PATTERN, "*.jsonl.gz")
_SORT_PROBE_LINES = 5


class ReplayError(Exception):
    """The replay has nothing to read: missing path, no recordings, unreadable files."""


@dataclass(slots=True)
class FileStats:
    """Line counts of one file; ``lines == events + malformed + skipped + meta``.

    ``malformed``: not JSON (cut/merged lines, binary, blank lines). ``skipped``: valid
    JSON that gave no event — unknown shape, missing/ill-typed fields, parser
    rejections, and event names the parser ignores (chat, rugRoyale...). ``meta``:
    ``game_start``/``game_end`` lines of the real recordings (no tick to replay).
    """

    path: str
    lines: int = 0
    events: int = 0
    malformed: int = 0
    skipped: int = 0
    meta: int = 0


@dataclass(slots=True)
class ReplayStats:
    """Totals over every file read so far, plus the per-file breakdown."""

    files: int = 0
    files_failed: int = 0
    lines: int = 0
    events: int = 0
    malformed: int = 0
    skipped: int = 0
    meta: int = 0
    errors: int = 0  # exceptions raised by the parser/converter (counted inside skipped)
    per_file: dict[str, FileStats] = field(default_factory=dict)

    def add(self, fs: FileStats) -> None:
        """Fold one finished file into the totals."""
        self.files += 1
        self.lines += fs.lines
        self.events += fs.events
        self.malformed += fs.malformed
        self.skipped += fs.skipped
        self.meta += fs.meta
        self.per_file[fs.path] = fs

    def summary(self) -> dict[str, int]:
        """The totals as a flat dict (for logs and CLI output)."""
        return {
            "files": self.files,
            "files_failed": self.files_failed,
            "lines": self.lines,
            "events": self.events,
            "malformed": self.malformed,
            "skipped": self.skipped,
            "meta": self.meta,
            "errors": self.errors,
        }


def discover(path: Path) -> list[Path]:
    """The recording files under ``path`` in replay order; raises ``ReplayError``."""
    if not path.exists():
        raise ReplayError(f"replay path does not exist: {path}")
    if path.is_file():
        return [path]
    files = [p for pattern in PATTERNS for p in path.rglob(pattern) if p.is_file()]
    if not files:
        raise ReplayError(f"no {' or '.join(PATTERNS)} recordings under {path}")
    return sorted(files, key=_order_key)


def open_recording(path: Path) -> BinaryIO:
    """A recording opened for binary line reading (gzip-decompressed for ``*.gz``)."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")  # type: ignore[return-value]


def _order_key(path: Path) -> tuple[int, int, str]:
    try:
        with open_recording(path) as fh:
            head = list(islice(fh, _SORT_PROBE_LINES))
    except (OSError, EOFError):
        return (1, 0, str(path))
    ts = first_timestamp_ms(head)
    return (0, ts, str(path)) if ts is not None else (1, 0, str(path))


def _default_decoder() -> LineDecoder:
    # imported here: the protocol package is another engineer's and heavier than ours
    from rugsd.daemon.protocol.parse import EventParser
    from rugsd.daemon.protocol.recording import tick_line_to_update

    return LineDecoder(EventParser().parse, tick_line_to_update)


class ReplaySource:
    """Recordings (a file or a folder) as a stream of internal events.

    ``decoder`` defaults to the project's ``EventParser`` + ``tick_line_to_update``.
    ``stats`` describes the latest (or ongoing) pass; every pass starts fresh counts.
    """

    def __init__(self, path: str | Path, decoder: LineDecoder | None = None) -> None:
        self.path = Path(path)
        self.files = discover(self.path)
        self.decoder = decoder if decoder is not None else _default_decoder()
        self.stats = ReplayStats()

    def iter_with_source(self) -> Iterator[tuple[str, Event]]:
        """Yield ``(source_file, event)`` in replay order (the source is the file path)."""
        stats = self.stats = ReplayStats()
        decode = self.decoder.decode
        errors_before = self.decoder.errors
        event_kind = LineKind.EVENT
        for path in self.files:
            name = str(path)
            fs = FileStats(name)
            try:
                fh = open_recording(path)
            except OSError as err:
                stats.files_failed += 1
                log.warning("replay_file_unreadable", path=name, error=str(err))
                continue
            try:
                with fh:
                    for raw in fh:
                        fs.lines += 1
                        kind, event = decode(raw)
                        if kind is event_kind:
                            fs.events += 1
                            yield name, event  # type: ignore[misc]
                        elif kind is LineKind.MALFORMED:
                            fs.malformed += 1
                        elif kind is LineKind.SKIPPED:
                            fs.skipped += 1
                        else:
                            fs.meta += 1
            except (OSError, EOFError) as err:  # read error mid-file (a cut .gz too): go on
                log.warning("replay_file_read_error", path=name, error=str(err))
            finally:  # a consumer that stops early still sees the partial file counted
                stats.add(fs)
                stats.errors = self.decoder.errors - errors_before
            if fs.malformed or fs.skipped:
                log.debug("replay_file_counts", path=name, lines=fs.lines, events=fs.events,
                          malformed=fs.malformed, skipped=fs.skipped)
        if stats.files_failed and not stats.files:
            raise ReplayError(f"no recording under {self.path} could be opened")

    def iter_events(self) -> Iterator[Event]:
        """Yield internal events in replay order (the fast path)."""
        for _, event in self.iter_with_source():
            yield event

    async def play(
        self,
        callback: Callable[[Event], Awaitable[Any] | Any],
        realtime: bool = False,
        speed: float = 1.0,
        stop_event: asyncio.Event | None = None,
        max_gap_ms: int = 30_000,
    ) -> ReplayStats:
        """Feed every event to ``callback`` (sync or async); returns the stats.

        In real-time mode the gap between consecutive events' ``ts_ms`` is waited out,
        divided by ``speed``; negative gaps (clock steps, out-of-order files) are not
        waited and gaps above ``max_gap_ms`` are cut to it. Otherwise the loop yields to
        the event loop every 1000 events so it never starves other tasks. Stops early
        when ``stop_event`` is set.
        """
        if speed <= 0:
            raise ValueError("speed must be > 0")
        loop = asyncio.get_running_loop()
        due = loop.time()
        prev_ts: int | None = None
        for count, event in enumerate(self.iter_events()):
            if stop_event is not None and stop_event.is_set():
                break
            if realtime:
                ts = event.ts_ms
                if prev_ts is not None:
                    gap = min(max(ts - prev_ts, 0), max_gap_ms)
                    due += gap / 1000.0 / speed
                    if await _wait_until(loop, due, stop_event):
                        break
                prev_ts = ts
            elif count % 1000 == 999:
                await asyncio.sleep(0)
            result = callback(event)
            if inspect.isawaitable(result):
                await result
        return self.stats


async def _wait_until(
    loop: asyncio.AbstractEventLoop, due: float, stop_event: asyncio.Event | None
) -> bool:
    """Sleep until loop time ``due``; True when ``stop_event`` fired meanwhile."""
    delay = due - loop.time()
    if delay <= 0:
        return stop_event is not None and stop_event.is_set()
    if stop_event is None:
        await asyncio.sleep(delay)
        return False
    try:
        await asyncio.wait_for(stop_event.wait(), delay)
    except TimeoutError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m rugsd.daemon.feed.replay PATH``: read everything, print counts and speed."""
    import json
    import sys
    import time

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m rugsd.daemon.feed.replay PATH", file=sys.stderr)
        return 2
    try:
        source = ReplaySource(args[0])
    except ReplayError as err:
        print(f"replay: {err}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    for _ in source.iter_events():
        pass
    dt = time.perf_counter() - t0
    out = {**source.stats.summary(), "seconds": round(dt, 3),
           "lines_per_s": round(source.stats.lines / dt) if dt > 0 else None}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
